-- One row per run: the task, the output, every quality signal joined onto it, and the
-- provenance -- each {file, line} of the knowledge base folded into the record.

with

runs as (

    select
        * replace (
            -- a source without a message list gets one from its task and output
            coalesce(
                conversation,
                to_json(list_filter([
                    case when instruction is not null
                        then {'role': 'user', 'content': instruction} end,
                    case when output_text is not null
                        then {'role': 'assistant', 'content': output_text} end
                ], lambda m: m is not null))
            ) as conversation
        )
    from {{ ref('runs') }}
    where occurrence = 1

),

signal_records as (

    select * from {{ ref('staged_records') }}
    where record_kind = 'signal'

),

comparisons as (

    select * from {{ ref('comparisons') }}

),

---------- every line that feeds a run

contributing_lines as (

    select run_id, source_file as file, source_line as line from runs

    union all

    select run_id, extra.file, extra.line
    from (select run_id, unnest(extra_provenance) as extra from runs)

    union all

    select signal_records.run_id, signal_records.source_file, signal_records.source_line
    from signal_records
    inner join runs on signal_records.run_id = runs.run_id

    union all

    select run_a, source_file, source_line from comparisons

    union all

    select run_b, source_file, source_line from comparisons

),

provenance as (

    select
        run_id,
        list_sort(list(distinct {'file': file, 'line': line})) as provenance
    from contributing_lines
    group by run_id

),

---------- every signal on a run, with the line it came from

attached_signals as (

    select run_id, source_file, source_line, unnest(signals) as signal
    from runs

    union all

    select signal_records.run_id, signal_records.source_file, signal_records.source_line,
        unnest(signal_records.signals)
    from signal_records
    inner join runs on signal_records.run_id = runs.run_id

    union all

    -- a pairwise judge that failed is a judge error on both runs it compared
    select failed.run_id, failed.source_file, failed.source_line,
        {{ signal('judge_error', "'pairwise'", judge='failed.judge',
                  detail="'the pairwise judge failed'") }}
    from (
        select run_a as run_id, source_file, source_line, judge
        from comparisons where preferred = 'error'
        union all
        select run_b, source_file, source_line, judge
        from comparisons where preferred = 'error'
    ) as failed

),

signal_lists as (

    select
        run_id,
        list(
            struct_insert(signal, file := source_file, line := source_line)
            order by source_file, source_line, signal.kind, signal.name
        ) as signals
    from attached_signals
    group by run_id

)

select
    1 as schema_version,
    'ev_' || left(sha256(runs.run_id), 24) as evidence_id,
    runs.run_id,
    runs.task_id,
    runs.task_kind,
    runs.source_format,
    runs.source_file,
    runs.source_line,

    ---------- the task and what the agent did, with secrets replaced by placeholders
    {{ redact('runs.instruction') }} as instruction,
    {{ redact('runs.output_text') }} as output_text,
    {{ redact_json('runs.conversation') }} as conversation,
    {{ redact_json('runs.tool_calls') }} as tool_calls,
    {{ redact_list('coalesce(runs.lessons, [])') }} as lessons,

    ---------- who and when
    {{ redact('runs.model') }} as model,
    {{ redact('runs.agent') }} as agent,
    {{ redact('runs.status') }} as status,
    {{ redact('runs.started_at') }} as started_at,
    {{ redact('runs.ended_at') }} as ended_at,

    ---------- signals and provenance
    list_transform(
        coalesce(signal_lists.signals, []),
        lambda s: struct_pack(
            kind := s.kind, name := {{ redact('s.name') }}, passed := s.passed,
            value := s.value, scale_max := s.scale_max, verdict := s.verdict,
            judge := {{ redact('s.judge') }},
            detail := {{ redact('s.detail') }}, file := s.file, line := s.line
        )
    ) as signals,
    provenance.provenance
from runs
inner join provenance
    on runs.run_id = provenance.run_id
left join signal_lists
    on runs.run_id = signal_lists.run_id
