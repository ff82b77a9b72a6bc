-- The project's own comparison stream: which of two runs of one task is better, and who
-- judged. winner is "a", "b" or "tie".

with

lines as (

    select * from {{ ref('source_lines') }}
    where source_format = 'canonical_comparisons' and line_status = 'ok'

)

select
    source_format,
    source_file,
    source_line,
    'comparison' as record_kind,
    coalesce(
        {{ field_problems('line_json', [
            {'path': '$.run_a', 'types': ['VARCHAR']},
            {'path': '$.run_b', 'types': ['VARCHAR']},
            {'path': '$.winner', 'types': ['VARCHAR']},
            {'path': '$.judge', 'types': ['VARCHAR'], 'required': false},
            {'path': '$.reason', 'types': ['VARCHAR'], 'required': false},
        ]) }},
        case
            when {{ json_text('line_json', '$.winner') }} not in ('a', 'b', 'tie')
                then 'wrong_type:winner is not a, b or tie'
        end
    ) as problem,
    line_json ->> '$.run_a' as run_a,
    line_json ->> '$.run_b' as run_b,
    line_json ->> '$.winner' as preferred,
    {{ json_text('line_json', '$.judge') }} as judge,
    {{ json_text('line_json', '$.reason') }} as comparison_note
from lines
