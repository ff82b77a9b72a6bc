-- The project's own check stream: one automated verdict (tests, linters, validators) on
-- one run, named by run_id.

with

lines as (

    select * from {{ ref('source_lines') }}
    where source_format = 'canonical_checks' and line_status = 'ok'

)

select
    source_format,
    source_file,
    source_line,
    'signal' as record_kind,
    coalesce(
        {{ field_problems('line_json', [
            {'path': '$.run_id', 'types': ['VARCHAR']},
            {'path': '$.check', 'types': ['VARCHAR']},
            {'path': '$.passed', 'types': ['BOOLEAN']},
            {'path': '$.detail', 'types': ['VARCHAR'], 'required': false},
        ]) }},
        case when trim(line_json ->> '$.check') = ''
            then 'missing_required_field:check is empty' end
    ) as problem,
    line_json ->> '$.run_id' as run_id,
    [
        {{ signal(
            'check',
            "line_json ->> '$.check'",
            passed=json_bool('line_json', '$.passed'),
            detail=json_text('line_json', '$.detail')
        ) }}
    ] as signals
from lines
