-- One row per preference pair: two runs of one task, the chosen strictly better than the
-- rejected -- by category (accepted > partially_accepted > rejected; a run that needs
-- review is never paired by category) or by an explicit comparison that both orders of
-- the judge agree on. A pair never joins a run to itself, nor two identical texts.

with

scored as (

    select
        scored_runs.*,
        evidence.instruction,
        evidence.output_text,
        {{ category_rank('scored_runs.quality_score') }} as category_rank
    from {{ ref('scored_runs') }} as scored_runs
    inner join {{ ref('evidence') }} as evidence
        on scored_runs.evidence_id = evidence.evidence_id
    where coalesce(trim(evidence.output_text), '') <> ''

),

by_category as (

    select
        chosen.task_id,
        chosen.run_id as chosen_run_id,
        rejected.run_id as rejected_run_id,
        'category: ' || chosen.quality_score || ' over ' || rejected.quality_score
            as pair_reason,
        chosen.category_rank - rejected.category_rank as strength
    from scored as chosen
    inner join scored as rejected
        on chosen.task_id = rejected.task_id
        and chosen.category_rank > rejected.category_rank

),

by_comparison as (

    select
        comparisons.task_id,
        case comparisons.preferred when 'a' then comparisons.run_a else comparisons.run_b end
            as chosen_run_id,
        case comparisons.preferred when 'a' then comparisons.run_b else comparisons.run_a end
            as rejected_run_id,
        'comparison: ' || coalesce(comparisons.judge, 'a judge') || ' preferred it ('
            || coalesce(comparisons.comparison_note, 'no note') || ')' as pair_reason,
        0 as strength
    from {{ ref('comparisons') }} as comparisons
    where comparisons.preferred in ('a', 'b')

),

candidates as (

    select * from by_category
    union all
    select * from by_comparison

),

guarded as (

    select
        candidates.*,
        chosen.instruction as prompt,
        chosen.output_text as chosen,
        rejected.output_text as rejected,
        chosen.quality_score as chosen_quality_score,
        rejected.quality_score as rejected_quality_score
    from candidates
    inner join scored as chosen
        on candidates.chosen_run_id = chosen.run_id
    inner join scored as rejected
        on candidates.rejected_run_id = rejected.run_id
    where candidates.chosen_run_id <> candidates.rejected_run_id
        and trim(chosen.output_text) <> trim(rejected.output_text)
        -- an explicit comparison never overrides categories that say the opposite
        and coalesce(chosen.category_rank, 0) >= coalesce(rejected.category_rank, 0)
        and chosen.quality_score <> 'rejected'

),

merged as (

    select
        task_id,
        chosen_run_id,
        rejected_run_id,
        any_value(prompt) as prompt,
        any_value(chosen) as chosen,
        any_value(rejected) as rejected,
        any_value(chosen_quality_score) as chosen_quality_score,
        any_value(rejected_quality_score) as rejected_quality_score,
        list(pair_reason order by pair_reason) as pair_reasons,
        max(strength) as strength
    from guarded
    group by task_id, chosen_run_id, rejected_run_id

),

ranked as (

    select
        *,
        row_number() over (
            partition by task_id
            order by strength desc, chosen_run_id, rejected_run_id
        ) as pair_rank
    from merged

)

select
    1 as schema_version,
    'pref_' || left(sha256(chosen_run_id || '>' || rejected_run_id), 24) as id,
    prompt,
    chosen,
    rejected,
    chosen_run_id,
    rejected_run_id,
    task_id,
    chosen_quality_score,
    rejected_quality_score,
    pair_reasons
from ranked
where pair_rank <= {{ var('max_pairs_per_task') }}
