{# Fails on every row whose list column is null or empty. #}
{% test non_empty_list(model, column_name) %}

    select {{ column_name }}
    from {{ model }}
    where {{ column_name }} is null or len({{ column_name }}) = 0

{% endtest %}
