-- One row per evidence record that cannot be scored, with the reason: a run with no task
-- text or no output has nothing to learn from, whatever its signals say.

with

evidence as (

    select * from {{ ref('evidence') }}

),

assistant_turns as (

    select
        evidence_id,
        len(list_filter(
            coalesce(conversation::json[], []),
            lambda m: m ->> '$.role' = 'assistant'
                and (coalesce(m ->> '$.content', '') <> '' or json_type(m, '$.tool_calls') = 'ARRAY')
        )) as assistant_turn_count
    from evidence

)

select
    1 as schema_version,
    evidence.evidence_id,
    evidence.run_id,
    evidence.task_id,
    case
        when coalesce(trim(evidence.instruction), '') = '' then 'no_instruction'
        else 'no_output'
    end as skip_reason,
    case
        when coalesce(trim(evidence.instruction), '') = ''
            then 'the run has no task text'
        else 'the run has no response, assistant message or tool call'
    end as detail,
    evidence.provenance[1].file as source_file,
    evidence.provenance[1].line as source_line
from evidence
inner join assistant_turns
    on evidence.evidence_id = assistant_turns.evidence_id
where coalesce(trim(evidence.instruction), '') = ''
    or (
        coalesce(trim(evidence.output_text), '') = ''
        and assistant_turns.assistant_turn_count = 0
    )
