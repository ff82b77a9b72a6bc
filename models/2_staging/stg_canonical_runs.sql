-- The project's own run stream: one line per run of an agent on a task.
-- task is text or a message list; output is text or a message list; trajectory is a
-- list of tool calls. A run that ended in a hand-off or an error says so in status.

with

lines as (

    select * from {{ ref('source_lines') }}
    where source_format = 'canonical_runs' and line_status = 'ok'

)

select
    source_format,
    source_file,
    source_line,
    'run' as record_kind,
    {{ field_problems('line_json', [
        {'path': '$.run_id', 'types': ['VARCHAR']},
        {'path': '$.task_id', 'types': ['VARCHAR', 'UBIGINT', 'BIGINT']},
        {'path': '$.task', 'types': ['VARCHAR', 'ARRAY']},
        {'path': '$.output', 'types': ['VARCHAR', 'ARRAY'], 'required': false},
        {'path': '$.trajectory', 'types': ['ARRAY'], 'required': false},
        {'path': '$.model', 'types': ['VARCHAR'], 'required': false},
        {'path': '$.agent', 'types': ['VARCHAR'], 'required': false},
        {'path': '$.status', 'types': ['VARCHAR'], 'required': false},
    ]) }} as problem,
    line_json ->> '$.run_id' as run_id,
    line_json ->> '$.task_id' as task_id,
    coalesce({{ json_text('line_json', '$.task_kind') }}, 'general') as task_kind,

    ---------- the task and the output
    coalesce(
        {{ json_text('line_json', '$.task') }},
        {{ first_message_text("line_json -> '$.task'", 'user') }}
    ) as instruction,
    case when json_type(line_json, '$.task') = 'ARRAY'
        then line_json -> '$.task' end as task_messages,
    coalesce(
        {{ json_text('line_json', '$.output') }},
        {{ last_message_text("line_json -> '$.output'", 'assistant') }}
    ) as output_text,
    -- a message-list output is the conversation after the task: both make the whole
    case when json_type(line_json, '$.output') = 'ARRAY' then to_json(list_concat(
        case when json_type(line_json, '$.task') = 'ARRAY'
            then (line_json -> '$.task')::json[]
            else [json_object('role', 'user', 'content', line_json ->> '$.task')]
        end,
        (line_json -> '$.output')::json[]
    )) end as conversation,
    case when json_type(line_json, '$.trajectory') = 'ARRAY'
        then line_json -> '$.trajectory' end as tool_calls,

    ---------- who ran it, when, how it ended
    {{ json_text('line_json', '$.model') }} as model,
    {{ json_text('line_json', '$.agent') }} as agent,
    {{ json_text('line_json', '$.status') }} as status,
    {{ json_text('line_json', '$.started_at') }} as started_at,
    {{ json_text('line_json', '$.ended_at') }} as ended_at,

    ---------- what the run says of itself
    list_filter([
        case when {{ json_text('line_json', '$.status') }} = 'handed_off'
            then {{ signal('handoff', "'status'", detail="'status handed_off'") }} end,
        case when {{ json_text('line_json', '$.status') }} in ('error', 'failed')
            then {{ signal('check', "'run_status'", passed='false',
                           detail="'status ' || (line_json ->> '$.status')") }} end
    ], lambda s: s is not null) as signals
from lines
