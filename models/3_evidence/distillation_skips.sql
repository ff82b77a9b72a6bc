-- One row per source line that no evidence record holds in its provenance, with the
-- reason. Conservation is built in: every line of kb_lines is either in some record's
-- provenance or here, never both.

with

lines as (

    select * from {{ ref('source_lines') }}

),

formats as (

    select * from {{ ref('source_formats') }}

),

used_lines as (

    select distinct p.file as source_file, p.line as source_line
    from (select unnest(provenance) as p from {{ ref('evidence') }})

),

staged_skips as (

    select source_file, source_line, skip_reason, skip_detail
    from {{ ref('staged_records') }}
    where record_kind = 'skip'

),

duplicate_runs as (

    select
        source_file,
        source_line,
        'duplicate_run_id' as skip_reason,
        'run ' || run_id || ' first produced at ' || first_seen_at as skip_detail
    from {{ ref('runs') }}
    where occurrence > 1

),

cross_task_comparisons as (

    select
        comparisons.source_file,
        comparisons.source_line,
        'comparison_across_tasks' as skip_reason,
        'run ' || comparisons.run_a || ' is of task ' || run_a.task_id || ', run '
            || comparisons.run_b || ' of task ' || run_b.task_id as skip_detail
    from {{ ref('staged_records') }} as comparisons
    inner join {{ ref('runs') }} as run_a
        on comparisons.run_a = run_a.run_id and run_a.occurrence = 1
    inner join {{ ref('runs') }} as run_b
        on comparisons.run_b = run_b.run_id and run_b.occurrence = 1
    where comparisons.record_kind = 'comparison'
        and run_a.task_id <> run_b.task_id

),

named_runs as (

    select
        source_file,
        source_line,
        coalesce(run_id, run_a || ' / ' || run_b) as named_run
    from {{ ref('staged_records') }}
    where record_kind in ('signal', 'comparison')

),

unused as (

    select lines.*
    from lines
    anti join used_lines
        on lines.source_file = used_lines.source_file
        and lines.source_line = used_lines.source_line

),

reasoned as (

    select
        1 as schema_version,
        unused.source_file,
        unused.source_line,
        unused.source_format,
        coalesce(
            case when unused.line_status <> 'ok' then unused.line_status end,
            staged_skips.skip_reason,
            duplicate_runs.skip_reason,
            cross_task_comparisons.skip_reason,
            formats.unjoined_reason
        ) as skip_reason,
        coalesce(
            staged_skips.skip_detail,
            duplicate_runs.skip_detail,
            cross_task_comparisons.skip_detail,
            case
                when named_runs.named_run is not null
                    then 'no run ' || named_runs.named_run || ' in the knowledge base'
                when formats.record_kind = 'task'
                    then 'no run in the knowledge base answers this task'
                when unused.line_status = 'unrecognised_format'
                    then 'no registry entry and no known format matches the keys of this file'
            end
        ) as detail
    from unused
    left join staged_skips
        on unused.source_file = staged_skips.source_file
        and unused.source_line = staged_skips.source_line
    left join duplicate_runs
        on unused.source_file = duplicate_runs.source_file
        and unused.source_line = duplicate_runs.source_line
    left join cross_task_comparisons
        on unused.source_file = cross_task_comparisons.source_file
        and unused.source_line = cross_task_comparisons.source_line
    left join named_runs
        on unused.source_file = named_runs.source_file
        and unused.source_line = named_runs.source_line
    left join formats
        on unused.source_format = formats.source_format

)

select
    * replace ({{ redact('detail') }} as detail)
from reasoned
