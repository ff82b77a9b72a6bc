-- Coding-agent session transcripts: one JSON event per line, many lines per run, as
-- coding agents write them ({"type": "user"|"assistant"|..., "sessionId", "message":
-- {"role", "content"}, "timestamp"}). All events of one session in one data set folder
-- make one run; its first line is the run's line and every other event of the session
-- joins its provenance. Content blocks become OpenAI-style messages: text blocks the
-- message text, tool_use blocks tool_calls, tool_result blocks a tool message (one per
-- event). Transcripts carry no outcome: a session is a run with no quality signal until
-- a check or a review names its run id, "<folder>/session:<sessionId>".

with

lines as (

    select * from {{ ref('source_lines') }}
    where source_format = 'agent_session' and line_status = 'ok'

),

events as (

    select
        *,
        {{ json_text('line_json', '$.sessionId') }} as session_id,
        {{ json_text('line_json', '$.type') }} as event_type,
        {{ json_text('line_json', '$.message.role') }} as role,
        {{ json_text('line_json', '$.timestamp') }} as event_time,
        case when json_type(line_json, '$.message.content') = 'ARRAY'
            then (line_json -> '$.message.content')::json[]
        end as blocks
    from lines

),

messages as (

    select
        *,
        coalesce(
            {{ json_text('line_json', '$.message.content') }},
            nullif(array_to_string(list_transform(
                list_filter(blocks, lambda b: b ->> '$.type' = 'text'),
                lambda b: b ->> '$.text'
            ), chr(10)), '')
        ) as text,
        list_transform(
            list_filter(blocks, lambda b: b ->> '$.type' = 'tool_use'),
            lambda b: {
                'id': b ->> '$.id', 'type': 'function',
                'function': {'name': b ->> '$.name', 'arguments': (b -> '$.input')::varchar}
            }
        ) as tool_uses,
        list_filter(blocks, lambda b: b ->> '$.type' = 'tool_result') as tool_results
    from events
    where session_id is not null

),

as_openai as (

    select
        *,
        case
            when role = 'assistant' and coalesce(len(tool_uses), 0) > 0 then json_object(
                'role', 'assistant', 'content', text, 'tool_calls', to_json(tool_uses)
            )
            when role = 'assistant' then json_object('role', 'assistant', 'content', text)
            when role = 'user' and coalesce(len(tool_results), 0) > 0 then json_object(
                'role', 'tool',
                'tool_call_id', tool_results[1] ->> '$.tool_use_id',
                'content', coalesce(
                    tool_results[1] ->> '$.content',
                    (tool_results[1] -> '$.content')::varchar
                )
            )
            when role = 'user' and text is not null
                then json_object('role', 'user', 'content', text)
        end as message
    from messages

),

sessions as (

    select
        dataset,
        session_id,
        min({'file': source_file, 'line': source_line}) as first_line,
        list({'file': source_file, 'line': source_line}
            order by source_file, source_line) as session_lines,
        list(message order by source_file, source_line)
            filter (where message is not null) as conversation,
        flatten(list(
            list_transform(coalesce(tool_uses, []), lambda t: {
                'name': t.function.name, 'arguments': t.function.arguments
            }) order by source_file, source_line
        )) as tool_calls,
        list(text order by source_file, source_line)
            filter (
                where role = 'user' and coalesce(len(tool_results), 0) = 0
                    and text is not null
            )
            as user_texts,
        list(text order by source_file, source_line)
            filter (where role = 'assistant' and text is not null) as assistant_texts,
        min(line_json ->> '$.message.model')
            filter (where role = 'assistant') as model,
        min(event_time) as started_at,
        max(event_time) as ended_at
    from as_openai
    group by dataset, session_id

),

runs as (

    select
        'agent_session' as source_format,
        first_line.file as source_file,
        first_line.line as source_line,
        'run' as record_kind,
        null::varchar as problem,
        dataset || '/session:' || session_id as run_id,
        dataset || '/session:' || session_id as task_id,
        case when len(tool_calls) > 0 then 'tool_use' else 'chat' end as task_kind,
        user_texts[1] as instruction,
        assistant_texts[-1] as output_text,
        to_json(conversation) as conversation,
        to_json(tool_calls) as tool_calls,
        model,
        'coding agent session' as agent,
        started_at,
        ended_at,
        list_filter(session_lines, lambda l: l <> first_line) as extra_provenance
    from sessions

),

unusable as (

    select
        source_format,
        source_file,
        source_line,
        'run' as record_kind,
        case
            when json_type(line_json, '$.sessionId') is null
                or json_type(line_json, '$.sessionId') = 'NULL'
                then 'missing_required_field:sessionId'
            else 'wrong_type:sessionId'
        end as problem,
        null::varchar as run_id,
        null::varchar as task_id,
        null::varchar as task_kind,
        null::varchar as instruction,
        null::varchar as output_text,
        null::json as conversation,
        null::json as tool_calls,
        null::varchar as model,
        null::varchar as agent,
        null::varchar as started_at,
        null::varchar as ended_at,
        null::struct(file varchar, line bigint)[] as extra_provenance
    from events
    where session_id is null

)

select * from runs
union all
select * from unusable
