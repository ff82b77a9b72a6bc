-- One row per comparison line whose two runs both exist and share a task: the raw
-- material of explicit preference pairs. preferred is 'a', 'b', 'tie', 'inconsistent' or
-- 'error'. A comparison across two tasks is no preference; distillation_skips says so.

with

comparison_records as (

    select * from {{ ref('staged_records') }}
    where record_kind = 'comparison'

),

runs as (

    select run_id, task_id from {{ ref('runs') }}
    where occurrence = 1

)

select
    comparison_records.source_file,
    comparison_records.source_line,
    comparison_records.run_a,
    comparison_records.run_b,
    run_a.task_id,
    comparison_records.preferred,
    {{ redact('comparison_records.judge') }} as judge,
    {{ redact('comparison_records.comparison_note') }} as comparison_note
from comparison_records
inner join runs as run_a
    on comparison_records.run_a = run_a.run_id
inner join runs as run_b
    on comparison_records.run_b = run_b.run_id
    and run_a.task_id = run_b.task_id
