-- MT-Bench: one model's answers to the two turns of a question, joined to the question
-- (same data set folder, same question_id) so the run holds the whole conversation. The
-- question's line joins the run's provenance; a question no answer uses is skipped later.

with

answer_lines as (

    select * from {{ ref('source_lines') }}
    where source_format = 'mtbench_answer' and line_status = 'ok'

),

question_lines as (

    select
        dataset,
        source_file,
        source_line,
        line_json ->> '$.question_id' as question_id,
        {{ json_text('line_json', '$.category') }} as category,
        case when json_type(line_json, '$.turns') = 'ARRAY'
            then list_transform((line_json -> '$.turns')::json[], lambda t: t ->> '$')
        end as question_turns,
        row_number() over (
            partition by dataset, line_json ->> '$.question_id'
            order by source_file, source_line
        ) as occurrence
    from {{ ref('source_lines') }}
    where source_format = 'mtbench_question' and line_status = 'ok'

),

answers as (

    select
        answer_lines.*,
        answer_lines.line_json ->> '$.question_id' as question_id,
        answer_lines.line_json ->> '$.model_id' as model_id,
        case when json_type(answer_lines.line_json, '$.choices[0].turns') = 'ARRAY'
            then list_transform(
                (answer_lines.line_json -> '$.choices[0].turns')::json[], lambda t: t ->> '$'
            )
        end as answer_turns
    from answer_lines

),

joined as (

    select
        answers.*,
        questions.category,
        questions.question_turns,
        questions.source_file as question_file,
        questions.source_line as question_line
    from answers
    left join question_lines as questions
        on answers.dataset = questions.dataset
        and answers.question_id = questions.question_id
        and questions.occurrence = 1

)

select
    source_format,
    source_file,
    source_line,
    'run' as record_kind,
    coalesce(
        {{ field_problems('line_json', [
            {'path': '$.question_id', 'types': ['UBIGINT', 'BIGINT', 'VARCHAR']},
            {'path': '$.model_id', 'types': ['VARCHAR']},
            {'path': '$.choices', 'types': ['ARRAY']},
        ]) }},
        case when answer_turns is null or len(answer_turns) = 0
            then 'missing_required_field:choices[0].turns' end
    ) as problem,
    {{ mtbench_run_id('model_id', 'question_id') }} as run_id,
    dataset || ':q' || question_id as task_id,
    coalesce(category, 'chat') as task_kind,
    question_turns[1] as instruction,
    answer_turns[1] as output_text,
    to_json(flatten(list_transform(
        range(1, least(len(answer_turns), len(coalesce(question_turns, []))) + 1),
        lambda i: [
            {'role': 'user', 'content': question_turns[i]},
            {'role': 'assistant', 'content': answer_turns[i]}
        ]
    ))) as conversation,
    model_id as model,
    'mtbench answer' as agent,
    {{ epoch_to_iso_utc(json_number('line_json', '$.tstamp')) }} as ended_at,
    case when question_file is not null
        then [{'file': question_file, 'line': question_line}] end as extra_provenance
from joined
