-- tau-bench: one trial of a tool-calling agent on a simulated customer task. The message
-- list is the whole conversation (system policy, user, assistant, tool turns); reward is
-- 1.0 on success, 0.0 on failure; info.source says what ended it, and a transfer to a
-- human agent is a hand-off.

with

lines as (

    select * from {{ ref('source_lines') }}
    where source_format = 'taubench_trajectory' and line_status = 'ok'

)

select
    source_format,
    source_file,
    source_line,
    'run' as record_kind,
    coalesce(
        {{ field_problems('line_json', [
            {'path': '$.task_id', 'types': ['UBIGINT', 'BIGINT', 'VARCHAR']},
            {'path': '$.trial', 'types': ['UBIGINT', 'BIGINT']},
            {'path': '$.reward', 'types': ['UBIGINT', 'BIGINT', 'DOUBLE']},
            {'path': '$.traj', 'types': ['ARRAY']},
            {'path': '$.info', 'types': ['OBJECT']},
        ]) }},
        case when not coalesce({{ json_number('line_json', '$.reward') }} between 0 and 1, false)
            then 'wrong_type:reward is not a number from 0 to 1' end
    ) as problem,

    ---------- ids: one run per file, task and trial
    dataset || '/' || file_stem
        || ':task-' || (line_json ->> '$.task_id')
        || ':trial-' || (line_json ->> '$.trial') as run_id,
    dataset || ':task-' || (line_json ->> '$.task_id') as task_id,
    'tool_use' as task_kind,

    ---------- the conversation
    {{ first_message_text("line_json -> '$.traj'", 'user') }} as instruction,
    {{ last_message_text("line_json -> '$.traj'", 'assistant') }} as output_text,
    line_json -> '$.traj' as conversation,
    {{ message_tool_calls("line_json -> '$.traj'") }} as tool_calls,
    regexp_replace(file_stem, '-(airline|retail)$', '') as model,
    'tau-bench tool agent' as agent,
    {{ json_text('line_json', '$.info.source') }} as status,

    ---------- the outcome
    list_filter([
        {{ signal(
            'reward', "'task_reward'",
            value=json_number('line_json', '$.reward'),
            detail="'reward ' || (line_json ->> '$.reward')"
        ) }},
        case when {{ json_text('line_json', '$.info.source') }} = 'transfer_to_human_agents'
            then {{ signal('handoff', "'transfer_to_human_agents'",
                           detail="'the agent transferred the user to a human'") }}
        end
    ], lambda s: s is not null and (s.kind <> 'reward' or s.value is not null)) as signals
from lines
