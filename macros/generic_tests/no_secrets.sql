{#
    Fails when any row of the model, read as JSON text, still matches a pattern of
    seeds/secret_patterns.csv: one row per (kind, offending row count). The patterns are
    joined into one literal expression, so each row is scanned once by a regex compiled
    once; only rows that match are scanned again to name the kind.
#}
{% test no_secrets(model) %}

    {%- set patterns = secret_patterns() %}
    {%- set alternatives = [] %}
    {%- for kind, pattern, replacement in patterns %}
        {%- do alternatives.append('(?:' ~ pattern ~ ')') %}
    {%- endfor %}

    with

    flagged as (

        select to_json(exported)::varchar as row_text
        from {{ model }} as exported
        {%- if alternatives %}
        where regexp_matches(to_json(exported)::varchar, {{ sql_string(alternatives | join('|')) }})
        {%- else %}
        where false
        {%- endif %}

    ),

    named as (

        {%- for kind, pattern, replacement in patterns %}
        select '{{ kind }}' as kind, count(*) as rows_with_secret
        from flagged
        where regexp_matches(row_text, {{ sql_string(pattern) }})
        {{ "union all" if not loop.last }}
        {%- endfor %}
        {%- if not patterns %}
        select null as kind, 0 as rows_with_secret where false
        {%- endif %}

    )

    select * from named where rows_with_secret > 0

{% endtest %}
