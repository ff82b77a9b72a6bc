-- One row per way a task was solved: accepted runs of one task grouped by their approach
-- (the sequence of tools they called; "direct" when they called none), with how often
-- that approach succeeded among all scored runs of the task that took it. Built from
-- accepted runs only.

with

scored as (

    select
        scored_runs.run_id,
        scored_runs.task_id,
        scored_runs.task_kind,
        scored_runs.quality_score,
        evidence.instruction,
        evidence.output_text,
        evidence.lessons,
        coalesce(
            list_transform(evidence.tool_calls::json[], lambda c: c ->> '$.name'), []
        ) as tool_names
    from {{ ref('scored_runs') }} as scored_runs
    inner join {{ ref('evidence') }} as evidence
        on scored_runs.evidence_id = evidence.evidence_id

),

approaches as (

    select
        *,
        case
            when len(tool_names) = 0 then 'direct'
            else array_to_string(tool_names, ' > ')
        end as approach
    from scored

),

outcomes as (

    select
        task_id,
        approach,
        count(*) as attempt_count,
        count(*) filter (where quality_score = 'accepted') as success_count
    from approaches
    group by task_id, approach

),

accepted as (

    select
        *,
        row_number() over (partition by task_id, approach order by run_id) as exemplar_rank
    from approaches
    where quality_score = 'accepted'

),

grouped as (

    select
        task_id,
        approach,
        any_value(task_kind) as task_kind,
        list(run_id order by run_id) as source_run_ids,
        flatten(list(lessons order by run_id)) as lessons,
        max(case when exemplar_rank = 1 then instruction end) as instruction,
        max(case when exemplar_rank = 1 then output_text end) as exemplar_output,
        max(case when exemplar_rank = 1 then tool_names end) as tool_names
    from accepted
    group by task_id, approach

),

written as (

    select
        grouped.*,
        outcomes.attempt_count,
        outcomes.success_count,
        list_distinct(grouped.tool_names) as tools,
        case
            when len(grouped.tool_names) > 0 then list_transform(
                grouped.tool_names, lambda t: 'call ' || t
            )
            else list_distinct(grouped.lessons)
        end as steps,
        regexp_replace(
            left(trim(coalesce(grouped.instruction, grouped.task_id)), 90), '\s+', ' ', 'g'
        ) as title_text
    from grouped
    inner join outcomes
        on grouped.task_id = outcomes.task_id
        and grouped.approach = outcomes.approach

)

select
    1 as schema_version,
    'pb_' || left(sha256(task_id || '|' || approach), 24) as playbook_id,
    task_kind || ': ' || title_text as title,
    task_kind,
    task_id,
    approach,
    steps,
    tools,
    concat_ws(
        chr(10) || chr(10),
        'Task: ' || coalesce(instruction, ''),
        case when len(steps) > 0 then 'Steps:' || chr(10) || array_to_string(
            list_transform(
                list_zip(range(1, len(steps) + 1), steps),
                lambda s: s[1] || '. ' || s[2]
            ),
            chr(10)
        ) end,
        case when len(tools) > 0 then 'Tools: ' || array_to_string(tools, ', ') end,
        'Worked answer:' || chr(10) || left(coalesce(exemplar_output, ''), 2000)
    ) as body,
    source_run_ids,
    success_count,
    attempt_count,
    round(success_count / attempt_count, 4) as success_rate
from written
