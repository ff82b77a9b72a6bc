{#
    Secrets and personal data never leave the evidence layer: every text the product
    writes out is passed through redact(), which replaces each match of
    seeds/secret_patterns.csv, in pattern_order, by its typed placeholder
    ("[REDACTED:email]"). The patterns are data; this macro only applies them.
#}

{% macro secret_patterns() -%}
    {%- set relation = ref('secret_patterns') -%}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set rows = run_query(
        "select kind, pattern, replacement from " ~ relation ~ " order by pattern_order"
    ) -%}
    {{ return(rows.rows) }}
{%- endmacro %}


{% macro redact(text_expr) -%}
    {{ return(adapter.dispatch('redact', 'distill')(text_expr)) }}
{%- endmacro %}

{% macro duckdb__redact(text_expr) -%}
    {%- set ns = namespace(sql=text_expr) -%}
    {%- for kind, pattern, replacement in secret_patterns() -%}
        {%- set ns.sql = "regexp_replace(" ~ ns.sql ~ ", " ~ sql_string(pattern) ~ ", "
            ~ sql_string(replacement) ~ ", 'g')" -%}
    {%- endfor -%}
    {{ ns.sql }}
{%- endmacro %}


{# A JSON value redacted as text: placeholders are plain ASCII, so the JSON stays valid. #}
{% macro redact_json(json_expr) -%}
    ({{ redact('(' ~ json_expr ~ ')::varchar') }})::json
{%- endmacro %}


{# A list of texts, each redacted. #}
{% macro redact_list(list_expr) -%}
    list_transform({{ list_expr }}, lambda x: {{ redact('x') }})
{%- endmacro %}


{# A SQL string literal of any text: single quotes doubled. #}
{% macro sql_string(text) -%}
    '{{ text | replace("'", "''") }}'
{%- endmacro %}


{# How many placeholders of each kind a text holds: {kind: count}. #}
{% macro redaction_kinds(text_expr) -%}
    regexp_extract_all({{ text_expr }}, '\[REDACTED:([a-z_]+)\]', 1)
{%- endmacro %}


{# True when a text matches any secret pattern: one literal alternation, compiled once. #}
{% macro contains_secret(text_expr) -%}
    {%- set alternatives = [] -%}
    {%- for kind, pattern, replacement in secret_patterns() -%}
        {%- do alternatives.append('(?:' ~ pattern ~ ')') -%}
    {%- endfor -%}
    {%- if alternatives -%}
        coalesce(regexp_matches({{ text_expr }}, {{ sql_string(alternatives | join('|')) }}), false)
    {%- else -%}
        false
    {%- endif -%}
{%- endmacro %}
