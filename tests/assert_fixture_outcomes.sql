-- On a fixture knowledge base, every line gets the outcome its row promises: its run's
-- category (and a place in SFT or none, as in_sft says), its skip reason, its scoring
-- skip reason, or a place in the provenance of the run it names. A line with no promise fails too. A real knowledge base promises
-- nothing and this test has nothing to check there.

with

expected as (

    {{ fixture_expectations() }}

),

lines as (

    select source_file, source_line from {{ ref('kb_lines') }}

),

provenance as (

    select run_id, p.file as source_file, p.line as source_line
    from (select run_id, unnest(provenance) as p from {{ ref('evidence') }})

),

checked as (

    select
        expected.*,
        case expected.expected_kind
            when 'category' then (
                select any_value(quality_score) from {{ ref('scored_runs') }} as scored
                where scored.run_id = expected.run_id
            )
            when 'skip' then (
                select any_value(skip_reason) from {{ ref('distillation_skips') }} as skips
                where skips.source_file = expected.source_file
                    and skips.source_line = expected.source_line
            )
            when 'scoring_skip' then (
                select any_value(skip_reason) from {{ ref('scoring_skips') }} as skips
                where skips.run_id = expected.run_id
            )
            when 'kept' then (
                select any_value(run_id) from provenance
                where provenance.source_file = expected.source_file
                    and provenance.source_line = expected.source_line
                    and provenance.run_id = expected.expected
            )
        end as actual,
        -- the contract, not the product's firewall list, says which runs SFT may hold
        expected.in_sft is null or expected.in_sft = '' or (
            expected.in_sft = 'yes'
        ) = exists (
            select 1 from {{ ref('sft_samples') }} as sft
            where sft.source_run_id = expected.run_id
        ) as sft_as_promised,
        -- a run's own line must be in its provenance, whatever its category
        expected.expected_kind not in ('category', 'scoring_skip') or exists (
            select 1 from provenance
            where provenance.source_file = expected.source_file
                and provenance.source_line = expected.source_line
                and provenance.run_id = expected.run_id
        ) as own_line_kept
    from expected

),

unpromised as (

    select
        lines.source_file, lines.source_line, null as run_id, 'promise' as expected_kind,
        'a row in expected_outcomes.csv' as expected, null as in_sft, null as note,
        'none' as actual, true as sft_as_promised, true as own_line_kept
    from lines
    anti join expected
        on lines.source_file = expected.source_file
        and lines.source_line = expected.source_line
    where exists (select 1 from expected)

)

select * from checked
where actual is distinct from expected or not own_line_kept or not sft_as_promised
union all
select * from unpromised
