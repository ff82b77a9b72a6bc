-- One row per scorable run with exactly one quality_score, the ids of the rules that
-- decided it and the scorer version. Every scoring rule lives in this model; their order
-- and categories are in seeds/scoring_rules.csv and their thresholds in
-- seeds/scoring_thresholds.csv. The scorer version is derived from all three, so it
-- changes whenever a rule or a threshold does.

with

evidence as (

    select * from {{ ref('evidence') }}
    where evidence_id not in (select evidence_id from {{ ref('scoring_skips') }})

),

rules as (

    select * from {{ ref('scoring_rules') }}

),

thresholds as (

    select
        max(value) filter (where threshold = 'reward_accept_min') as reward_accept_min,
        max(value) filter (where threshold = 'reward_reject_max') as reward_reject_max,
        max(value) filter (where threshold = 'score_accept_min') as score_accept_min,
        max(value) filter (where threshold = 'score_reject_max') as score_reject_max
    from {{ ref('scoring_thresholds') }}

),

scorer as (

    select 'scorer-' || left(md5(
        '{{ local_md5(model.raw_code) }}'
        || (select string_agg(threshold || '=' || value, ';' order by threshold)
            from {{ ref('scoring_thresholds') }})
        || (select string_agg(
                rule_id || '=' || rule_order || '=' || quality_score, ';' order by rule_id
            ) from rules)
    ), 12) as scorer_version

),

---------- each signal's polarity, and the source it speaks for

signals as (

    select evidence_id, unnest(signals) as signal
    from evidence

),

polarities as (

    select
        evidence_id,
        signal.kind,
        case
            when signal.kind = 'check' then 'checks'
            when signal.kind = 'reward' then 'reward'
            when signal.kind in ('score', 'verdict')
                then 'judge:' || coalesce(split_part(signal.judge, '/', 1), '')
        end as signal_source,
        case
            when signal.kind = 'check' and signal.passed then 'positive'
            when signal.kind = 'check' and not signal.passed then 'negative'
            when signal.kind = 'reward' and signal.value >= thresholds.reward_accept_min
                then 'positive'
            when signal.kind = 'reward' and signal.value <= thresholds.reward_reject_max
                then 'negative'
            when signal.kind = 'reward' then 'partial'
            when signal.kind = 'score'
                and signal.value / signal.scale_max >= thresholds.score_accept_min
                then 'positive'
            when signal.kind = 'score'
                and signal.value / signal.scale_max <= thresholds.score_reject_max
                then 'negative'
            when signal.kind = 'score' then 'partial'
            when signal.kind = 'verdict' and signal.verdict = 'accept' then 'positive'
            when signal.kind = 'verdict' and signal.verdict = 'reject' then 'negative'
            when signal.kind = 'verdict' and signal.verdict = 'partial' then 'partial'
        end as polarity
    from signals
    cross join thresholds

),

-- within one source the worst signal speaks: a failed test among passing ones fails,
-- and a judge that scores one turn 9 and the next 2 rejects the conversation. A source is
-- the checks, the reward, or one judge (its model, whatever prompt variant it used).
source_polarities as (

    select
        evidence_id,
        signal_source,
        case
            when bool_or(polarity = 'negative') then 'negative'
            when bool_or(polarity = 'partial') then 'partial'
            else 'positive'
        end as polarity
    from polarities
    where polarity is not null
    group by evidence_id, signal_source

),

signal_counts as (

    select
        evidence.evidence_id,
        count(*) filter (where polarities.kind = 'judge_error') as judge_errors,
        count(*) filter (where polarities.kind = 'handoff') as handoffs,
        count(*) filter (where polarities.polarity = 'positive') as positive_signals,
        count(*) filter (where polarities.polarity = 'negative') as negative_signals,
        count(*) filter (where polarities.polarity = 'partial') as partial_signals
    from evidence
    left join polarities
        on evidence.evidence_id = polarities.evidence_id
    group by evidence.evidence_id

),

source_counts as (

    select
        evidence.evidence_id,
        count(sources.polarity) as sources,
        count(*) filter (where sources.polarity = 'positive') as positive_sources,
        count(*) filter (where sources.polarity = 'negative') as negative_sources,
        count(*) filter (where sources.polarity = 'partial') as partial_sources
    from evidence
    left join source_polarities as sources
        on evidence.evidence_id = sources.evidence_id
    group by evidence.evidence_id

),

---------- the rules: each a condition; the first that holds, by rule_order, decides

rule_checks as (

    select
        signal_counts.*,
        source_counts.* exclude (evidence_id),
        unnest([
            {'rule_id': 'judge_error', 'holds': judge_errors > 0},
            {'rule_id': 'handed_off_to_human', 'holds': handoffs > 0},
            {'rule_id': 'conflicting_signals',
             'holds': positive_sources > 0 and negative_sources > 0},
            {'rule_id': 'no_quality_signal', 'holds': sources = 0},
            {'rule_id': 'negative_signal', 'holds': negative_sources > 0},
            {'rule_id': 'partial_signal', 'holds': partial_sources > 0},
            {'rule_id': 'all_signals_positive',
             'holds': positive_sources > 0 and negative_sources = 0 and partial_sources = 0}
        ]) as rule_check
    from signal_counts
    inner join source_counts
        on signal_counts.evidence_id = source_counts.evidence_id

),

fired as (

    select
        rule_checks.evidence_id,
        rules.rule_id,
        rules.rule_order,
        rules.quality_score
    from rule_checks
    inner join rules
        on rule_checks.rule_check.rule_id = rules.rule_id
    where rule_checks.rule_check.holds

),

decided as (

    select
        evidence_id,
        arg_min(quality_score, rule_order) as quality_score
    from fired
    group by evidence_id

),

reasons as (

    select
        fired.evidence_id,
        decided.quality_score,
        list(fired.rule_id order by fired.rule_order) as reasons
    from fired
    inner join decided
        on fired.evidence_id = decided.evidence_id
        and fired.quality_score = decided.quality_score
    group by fired.evidence_id, decided.quality_score

)

select
    1 as schema_version,
    evidence.evidence_id,
    evidence.run_id,
    evidence.task_id,
    evidence.task_kind,
    reasons.quality_score,
    reasons.reasons,
    {
        'positive': rule_checks.positive_signals,
        'negative': rule_checks.negative_signals,
        'partial': rule_checks.partial_signals,
        'judge_errors': rule_checks.judge_errors,
        'handoffs': rule_checks.handoffs
    } as signal_counts,
    scorer.scorer_version
from evidence
inner join signal_counts as rule_checks
    on evidence.evidence_id = rule_checks.evidence_id
left join reasons
    on evidence.evidence_id = reasons.evidence_id
cross join scorer
