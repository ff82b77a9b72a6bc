-- MT-Bench pairwise judgments: the judge compares model_1's and model_2's answers twice,
-- once in each order (g1, g2; g2 already mapped back). Only a verdict both orders agree on
-- is a preference; a disagreement is position bias ("inconsistent"), and "error" in either
-- order is a failed judge call.

with

lines as (

    select * from {{ ref('source_lines') }}
    where source_format = 'mtbench_pair_judgment' and line_status = 'ok'

),

verdicts as (

    select
        *,
        {{ json_text('line_json', '$.g1_winner') }} as g1_winner,
        {{ json_text('line_json', '$.g2_winner') }} as g2_winner
    from lines

)

select
    source_format,
    source_file,
    source_line,
    'comparison' as record_kind,
    {{ field_problems('line_json', [
        {'path': '$.question_id', 'types': ['UBIGINT', 'BIGINT', 'VARCHAR']},
        {'path': '$.model_1', 'types': ['VARCHAR']},
        {'path': '$.model_2', 'types': ['VARCHAR']},
        {'path': '$.g1_winner', 'types': ['VARCHAR']},
        {'path': '$.g2_winner', 'types': ['VARCHAR']},
    ]) }} as problem,
    {{ mtbench_run_id("line_json ->> '$.model_1'", "line_json ->> '$.question_id'") }}
        as run_a,
    {{ mtbench_run_id("line_json ->> '$.model_2'", "line_json ->> '$.question_id'") }}
        as run_b,
    case
        when 'error' in (g1_winner, g2_winner) then 'error'
        when g1_winner <> g2_winner then 'inconsistent'
        when g1_winner = 'model_1' then 'a'
        when g1_winner = 'model_2' then 'b'
        when g1_winner = 'tie' then 'tie'
        else 'inconsistent'
    end as preferred,
    {{ mtbench_judge('line_json') }} as judge,
    'turn ' || (line_json ->> '$.turn') || ': ' || g1_winner || ' with model_1 first, '
        || g2_winner || ' with model_2 first' as comparison_note
from verdicts
