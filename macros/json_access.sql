{#
    Typed access to fields of a parsed JSON line. Each helper checks the JSON type before
    it converts, so "8" never becomes 8, true never becomes 1, and NaN is not a number.
    The first argument is a JSON value; the second a JSON path such as '$.reward'.
#}

{% macro json_text(doc, path) -%}
    {{ return(adapter.dispatch('json_text', 'distill')(doc, path)) }}
{%- endmacro %}

{% macro duckdb__json_text(doc, path) -%}
    (case when json_type({{ doc }}, '{{ path }}') = 'VARCHAR'
        then {{ doc }} ->> '{{ path }}' end)
{%- endmacro %}


{# A string, or a number written as text (ids come both ways in the real logs). #}
{% macro json_id(doc, path) -%}
    {{ return(adapter.dispatch('json_id', 'distill')(doc, path)) }}
{%- endmacro %}

{% macro duckdb__json_id(doc, path) -%}
    (case when json_type({{ doc }}, '{{ path }}') in ('VARCHAR', 'UBIGINT', 'BIGINT')
        then {{ doc }} ->> '{{ path }}' end)
{%- endmacro %}


{# A finite JSON number as double; null for strings, booleans, NaN and infinities. #}
{% macro json_number(doc, path) -%}
    {{ return(adapter.dispatch('json_number', 'distill')(doc, path)) }}
{%- endmacro %}

{% macro duckdb__json_number(doc, path) -%}
    (case when json_type({{ doc }}, '{{ path }}') in ('UBIGINT', 'BIGINT', 'DOUBLE')
        and isfinite(({{ doc }} ->> '{{ path }}')::double)
        then ({{ doc }} ->> '{{ path }}')::double end)
{%- endmacro %}


{# A JSON boolean; null for anything else ("true", 1). #}
{% macro json_bool(doc, path) -%}
    {{ return(adapter.dispatch('json_bool', 'distill')(doc, path)) }}
{%- endmacro %}

{% macro duckdb__json_bool(doc, path) -%}
    (case when json_type({{ doc }}, '{{ path }}') = 'BOOLEAN'
        then ({{ doc }} ->> '{{ path }}')::boolean end)
{%- endmacro %}


{# The JSON type name of a field, null when absent. #}
{% macro json_kind(doc, path) -%}
    {{ return(adapter.dispatch('json_kind', 'distill')(doc, path)) }}
{%- endmacro %}

{% macro duckdb__json_kind(doc, path) -%}
    json_type({{ doc }}, '{{ path }}')
{%- endmacro %}


{# Seconds since the epoch as an ISO 8601 UTC text, whatever the session's time zone. #}
{% macro epoch_to_iso_utc(seconds) -%}
    {{ return(adapter.dispatch('epoch_to_iso_utc', 'distill')(seconds)) }}
{%- endmacro %}

{% macro duckdb__epoch_to_iso_utc(seconds) -%}
    strftime(to_timestamp({{ seconds }}) at time zone 'UTC', '%Y-%m-%dT%H:%M:%S.%fZ')
{%- endmacro %}
