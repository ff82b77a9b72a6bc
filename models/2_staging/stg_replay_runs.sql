-- Replays of the playbooks (distill replay): one line per replay, a run of a model (or
-- of the baseline responder) on a task with the retrieved playbooks in its prompt. The
-- answer is the output and the replay's own validation is the quality signal, a check
-- named replay_validation. A baseline answer that passed carries no signal: it restates
-- a playbook rather than showing what a model can do, so it goes to review (no quality
-- signal) instead of into training data; a failed one is rejected like any other.

with

lines as (

    select * from {{ ref('source_lines') }}
    where source_format = 'replay_run' and line_status = 'ok'

),

fields as (

    select
        *,
        {{ json_bool('line_json', '$.validation_result.passed') }} as validation_passed,
        coalesce({{ json_bool('line_json', '$.model.is_baseline') }}, false) as is_baseline,
        case
            when json_type(line_json, '$.validation_result.reasons') = 'ARRAY'
                then list_transform(
                    (line_json -> '$.validation_result.reasons')::json[],
                    lambda r: r ->> '$'
                )
        end as validation_reasons
    from lines

)

select
    source_format,
    source_file,
    source_line,
    'run' as record_kind,
    {{ field_problems('line_json', [
        {'path': '$.replay_id', 'types': ['VARCHAR']},
        {'path': '$.task', 'types': ['VARCHAR']},
        {'path': '$.validation_result.passed', 'types': ['BOOLEAN']},
        {'path': '$.validation_result.reasons', 'types': ['ARRAY']},
        {'path': '$.answer', 'types': ['VARCHAR'], 'required': false},
        {'path': '$.task_id', 'types': ['VARCHAR'], 'required': false},
        {'path': '$.task_kind', 'types': ['VARCHAR'], 'required': false},
        {'path': '$.model', 'types': ['OBJECT'], 'required': false},
        {'path': '$.recorded_at', 'types': ['VARCHAR'], 'required': false},
    ]) }} as problem,
    'replay:' || (line_json ->> '$.replay_id') as run_id,
    coalesce(
        {{ json_text('line_json', '$.task_id') }},
        'replay:' || left(sha256(coalesce(line_json ->> '$.task', '')), 16)
    ) as task_id,
    coalesce({{ json_text('line_json', '$.task_kind') }}, 'replay') as task_kind,

    ---------- the task and the answer
    line_json ->> '$.task' as instruction,
    {{ json_text('line_json', '$.answer') }} as output_text,

    ---------- who answered, when, how it ended
    {{ json_text('line_json', '$.model.name') }} as model,
    case
        when is_baseline then 'distill replay (baseline responder)'
        else 'distill replay'
    end as agent,
    case
        when validation_passed then 'validation_passed'
        else 'validation_failed'
    end as status,
    {{ json_text('line_json', '$.recorded_at') }} as started_at,

    ---------- the replay's validation is its signal
    list_filter([
        case when not (is_baseline and validation_passed) then {{ signal(
            'check', "'replay_validation'",
            passed='validation_passed',
            detail="case when validation_passed then 'replay validation passed'
                else 'replay validation failed: '
                    || array_to_string(validation_reasons, ', ') end"
        ) }} end
    ], lambda s: s is not null) as signals
from fields
