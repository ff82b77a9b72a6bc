{#
    Reading OpenAI-style message lists ([{role, content, tool_calls?}, ...]) held as JSON.
#}

{% macro first_message_text(messages, role) -%}
    {{ return(message_text(messages, role, 1)) }}
{%- endmacro %}


{% macro last_message_text(messages, role) -%}
    {{ return(message_text(messages, role, -1)) }}
{%- endmacro %}


{# The text of the role's message at `position` (1 first, -1 last) among those with text. #}
{% macro message_text(messages, role, position) -%}
    {{ return(adapter.dispatch('message_text', 'distill')(messages, role, position)) }}
{%- endmacro %}

{% macro duckdb__message_text(messages, role, position) -%}
    case when json_type({{ messages }}) = 'ARRAY' then list_filter(
        list_transform(
            ({{ messages }})::json[],
            lambda m: case when m ->> '$.role' = '{{ role }}'
                and json_type(m, '$.content') = 'VARCHAR' then m ->> '$.content' end
        ),
        lambda t: t is not null and t <> ''
    )[{{ position }}] end
{%- endmacro %}


{# The tool calls of a message list, flattened in order: [{name, arguments}]. #}
{% macro message_tool_calls(messages) -%}
    {{ return(adapter.dispatch('message_tool_calls', 'distill')(messages)) }}
{%- endmacro %}

{% macro duckdb__message_tool_calls(messages) -%}
    case when json_type({{ messages }}) = 'ARRAY' then to_json(flatten(list_transform(
        ({{ messages }})::json[],
        lambda m: case when json_type(m, '$.tool_calls') = 'ARRAY' then list_transform(
            (m -> '$.tool_calls')::json[],
            lambda c: {'name': c ->> '$.function.name', 'arguments': c ->> '$.function.arguments'}
        ) else [] end
    ))) end
{%- endmacro %}


{# One signal struct; see signal_type() for the fields. #}
{% macro signal(kind, name, passed='null', value='null', scale_max='null', verdict='null',
                judge='null', detail='null') -%}
    {
        'kind': '{{ kind }}', 'name': {{ name }}, 'passed': {{ passed }}::boolean,
        'value': {{ value }}::double, 'scale_max': {{ scale_max }}::double,
        'verdict': {{ verdict }}::varchar, 'judge': {{ judge }}::varchar,
        'detail': {{ detail }}::varchar
    }
{%- endmacro %}
