-- One row per run id: the first line (by file, then line) that produced it. Later lines
-- with the same run id are skipped as duplicate_run_id.

with

run_records as (

    select
        *,
        row_number() over (
            partition by run_id order by source_file, source_line
        ) as occurrence,
        first_value(source_file || ':' || source_line) over (
            partition by run_id order by source_file, source_line
        ) as first_seen_at
    from {{ ref('staged_records') }}
    where record_kind = 'run'

)

select * from run_records
