-- OpenAI-style chat logs: one conversation per line, {"messages": [...]} with the
-- assistant's tool calls inside it (the fine-tuning and chat-completions shape). Optional
-- fields: id (else the line number names the run), task_id (else the first user message
-- does), model, and the outcome as reward (0..1), passed (boolean) or score (with
-- scale_max, default 10). A log with none of them is a run with no quality signal.

with

lines as (

    select * from {{ ref('source_lines') }}
    where source_format = 'openai_chat' and line_status = 'ok'

),

fields as (

    select
        *,
        {{ first_message_text("line_json -> '$.messages'", 'user') }} as first_user_text,
        {{ json_number('line_json', '$.reward') }} as reward,
        {{ json_number('line_json', '$.score') }} as score,
        coalesce({{ json_number('line_json', '$.scale_max') }}, 10) as scale_max,
        {{ json_bool('line_json', '$.passed') }} as passed
    from lines

)

select
    source_format,
    source_file,
    source_line,
    'run' as record_kind,
    coalesce(
        {{ field_problems('line_json', [
            {'path': '$.messages', 'types': ['ARRAY']},
            {'path': '$.id', 'types': ['VARCHAR', 'UBIGINT', 'BIGINT'], 'required': false},
            {'path': '$.task_id', 'types': ['VARCHAR', 'UBIGINT', 'BIGINT'],
             'required': false},
            {'path': '$.model', 'types': ['VARCHAR'], 'required': false},
            {'path': '$.reward', 'types': ['UBIGINT', 'BIGINT', 'DOUBLE'], 'required': false},
            {'path': '$.score', 'types': ['UBIGINT', 'BIGINT', 'DOUBLE'], 'required': false},
            {'path': '$.passed', 'types': ['BOOLEAN'], 'required': false},
        ]) }},
        case
            when json_type(line_json, '$.reward') is not null
                and not coalesce(reward between 0 and 1, false)
                then 'wrong_type:reward is not a number from 0 to 1'
            when json_type(line_json, '$.scale_max') is not null
                and not coalesce({{ json_number('line_json', '$.scale_max') }} > 0, false)
                then 'wrong_type:scale_max is not a number above 0'
            when json_type(line_json, '$.score') is not null
                and not coalesce(score = -1 or score between 0 and scale_max, false)
                then 'wrong_type:score is outside 0..scale_max (and not -1)'
        end
    ) as problem,
    dataset || '/' || file_stem || ':'
        || coalesce(line_json ->> '$.id', 'line-' || source_line) as run_id,
    coalesce(
        line_json ->> '$.task_id',
        'chat:' || left(sha256(coalesce(first_user_text, '')), 16)
    ) as task_id,
    case
        when coalesce(len(json_extract(line_json, '$.messages[*].tool_calls')), 0) > 0
            then 'tool_use'
        else 'chat'
    end as task_kind,
    first_user_text as instruction,
    {{ last_message_text("line_json -> '$.messages'", 'assistant') }} as output_text,
    line_json -> '$.messages' as conversation,
    {{ message_tool_calls("line_json -> '$.messages'") }} as tool_calls,
    {{ json_text('line_json', '$.model') }} as model,
    'chat log' as agent,
    list_filter([
        case when reward is not null then {{ signal(
            'reward', "'reward'", value='reward', detail="'reward ' || reward") }} end,
        case when passed is not null then {{ signal(
            'check', "'passed'", passed='passed',
            detail="case when passed then 'passed' else 'failed' end") }} end,
        case when score = -1 then {{ signal(
            'judge_error', "'score'", detail="'the scorer failed (-1)'") }} end,
        case when score is not null and score <> -1 then {{ signal(
            'score', "'score'", value='score', scale_max='scale_max',
            detail="'score ' || score || '/' || scale_max") }} end
    ], lambda s: s is not null) as signals
from fields
