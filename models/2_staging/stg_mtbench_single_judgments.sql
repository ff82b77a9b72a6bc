-- MT-Bench single judgments: a judge's 1-10 score of one turn of one model's answer.
-- A score of -1 or a judgment of "$ERROR$" means the judge call failed.

with

lines as (

    select * from {{ ref('source_lines') }}
    where source_format = 'mtbench_single_judgment' and line_status = 'ok'

),

judgments as (

    select
        *,
        {{ json_number('line_json', '$.score') }} as score,
        {{ json_text('line_json', '$.judgment') }} as judgment,
        line_json ->> '$.turn' as turn,
        {{ mtbench_judge('line_json') }} as judge
    from lines

)

select
    source_format,
    source_file,
    source_line,
    'signal' as record_kind,
    coalesce(
        {{ field_problems('line_json', [
            {'path': '$.question_id', 'types': ['UBIGINT', 'BIGINT', 'VARCHAR']},
            {'path': '$.model', 'types': ['VARCHAR']},
            {'path': '$.score', 'types': ['UBIGINT', 'BIGINT', 'DOUBLE']},
            {'path': '$.turn', 'types': ['UBIGINT', 'BIGINT', 'VARCHAR']},
            {'path': '$.judgment', 'types': ['VARCHAR']},
        ]) }},
        case
            when score is null then 'wrong_type:score is not a finite number'
            when score <> -1 and score not between 1 and 10
                then 'wrong_type:score is outside 1..10 (and not -1)'
        end
    ) as problem,
    {{ mtbench_run_id("line_json ->> '$.model'", "line_json ->> '$.question_id'") }}
        as run_id,
    [
        case
            when score = -1 or judgment = '$ERROR$'
                then {{ signal('judge_error', "'turn ' || turn", judge='judge',
                               detail="'the judge failed on turn ' || turn") }}
            else {{ signal('score', "'turn ' || turn", value='score', scale_max='10',
                           judge='judge',
                           detail="'turn ' || turn || ' scored ' || score || '/10'") }}
        end
    ] as signals
from judgments
