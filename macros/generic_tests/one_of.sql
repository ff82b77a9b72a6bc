{#
    Fails on every row whose value is null or outside `values`. dbt's accepted_values
    lets a null through (null not in (...) is null, not true); this test does not.
#}
{% test one_of(model, column_name, values) %}

    select {{ column_name }} as offending_value
    from {{ model }}
    where {{ column_name }} is null
        or {{ column_name }} not in {{ sql_list(values) }}

{% endtest %}
