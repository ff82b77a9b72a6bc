{#
    True when a JSON text opens more than max_depth brackets in a row, outside strings.
    Counting runs of openers is a lower bound of the nesting depth: documents that nest
    deeply only through interleaved closers pass. It is cheap, and it catches the hostile
    case (thousands of "[" in a row) that breaks recursive readers downstream.
#}
{% macro json_nesting_exceeds(text_column, max_depth) -%}
    {{ return(adapter.dispatch('json_nesting_exceeds', 'distill')(text_column, max_depth)) }}
{%- endmacro %}

{% macro duckdb__json_nesting_exceeds(text_column, max_depth) -%}
    (
        length({{ text_column }})
            - length(replace(replace({{ text_column }}, '[', ''), '{', '')) > {{ max_depth }}
        and regexp_matches(
            regexp_replace(
                regexp_replace({{ text_column }}, '"(?:[^"\\]|\\.)*"', '', 'g'),
                '[^\[\]{}]', '', 'g'
            ),
            '[\[{]{{ '{' }}{{ max_depth + 1 }}{{ '}' }}'
        )
    )
{%- endmacro %}
