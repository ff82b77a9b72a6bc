-- Reflexion: one code-generation run on a benchmark task (HumanEval, MBPP), with whether
-- its solution passed the hidden unit tests. Reflexion files add the model's critiques of
-- its earlier failed attempts. The task id is `task_id` in HumanEval files and `name` in
-- MBPP files; the same task in the single-shot and the Reflexion file is one task.

with

lines as (

    select * from {{ ref('source_lines') }}
    where source_format = 'reflexion_run' and line_status = 'ok'

),

keyed as (

    select
        *,
        coalesce(
            {{ json_text('line_json', '$.task_id') }},
            {{ json_text('line_json', '$.name') }}
        ) as native_task_id
    from lines

)

select
    source_format,
    source_file,
    source_line,
    'run' as record_kind,
    coalesce(
        {{ field_problems('line_json', [
            {'path': '$.prompt', 'types': ['VARCHAR']},
            {'path': '$.solution', 'types': ['VARCHAR']},
            {'path': '$.is_solved', 'types': ['BOOLEAN']},
            {'path': '$.reflections', 'types': ['ARRAY'], 'required': false},
        ]) }},
        case when native_task_id is null then 'missing_required_field:task_id or name' end
    ) as problem,
    dataset || '/' || file_stem || ':' || native_task_id as run_id,
    dataset || ':' || native_task_id as task_id,
    'code' as task_kind,
    line_json ->> '$.prompt' as instruction,
    line_json ->> '$.solution' as output_text,
    case
        when json_type(line_json, '$.reflections') is not null then 'reflexion'
        else 'single attempt'
    end as agent,
    case when json_type(line_json, '$.reflections') = 'ARRAY' then list_filter(
        list_transform((line_json -> '$.reflections')::json[], lambda r: r ->> '$'),
        lambda r: r is not null and trim(r) <> ''
    ) end as lessons,
    [
        {{ signal(
            'check', "'unit_tests'",
            passed=json_bool('line_json', '$.is_solved'),
            detail="case when (line_json ->> '$.is_solved') = 'true'
                then 'passed the unit tests' else 'failed the unit tests' end"
        ) }}
    ] as signals
from keyed
