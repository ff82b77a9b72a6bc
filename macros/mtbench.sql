{#
    MT-Bench writes the judge as a list ["gpt-4", "single-v1"] in one file and as that
    list's Python text "['gpt-4', 'pair-v2']" in another; both become "gpt-4/single-v1".
#}
{% macro mtbench_judge(doc) -%}
    case
        when json_type({{ doc }}, '$.judge') = 'ARRAY' then array_to_string(
            list_transform(({{ doc }} -> '$.judge')::json[], lambda j: j ->> '$'), '/'
        )
        when json_type({{ doc }}, '$.judge') = 'VARCHAR' then array_to_string(
            regexp_extract_all({{ doc }} ->> '$.judge', '''([^'']*)''', 1), '/'
        )
    end
{%- endmacro %}


{# The run id of one model's answers to one question, as stg_mtbench_answers builds it. #}
{% macro mtbench_run_id(model_expr, question_expr) -%}
    dataset || '/' || ({{ model_expr }}) || ':q' || ({{ question_expr }})
{%- endmacro %}
