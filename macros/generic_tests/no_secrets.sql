{#
    Fails when any row of the model, read as JSON text, still matches a pattern of
    seeds/secret_patterns.csv: one row per (kind, offending row count).
#}
{% test no_secrets(model) %}

    select patterns.kind, count(*) as rows_with_secret
    from {{ model }} as exported
    cross join {{ ref('secret_patterns') }} as patterns
    where regexp_matches(to_json(exported)::varchar, patterns.pattern)
    group by patterns.kind

{% endtest %}
