{#
    A preference pair must join two different runs with two different texts: fails on a
    pair whose run ids are equal or missing, or whose chosen and rejected texts are the
    same once surrounding whitespace is trimmed.
#}
{% test no_self_pair(model) %}

    select id, chosen_run_id, rejected_run_id
    from {{ model }}
    where chosen_run_id is null
        or rejected_run_id is null
        or chosen_run_id = rejected_run_id
        or chosen is null
        or rejected is null
        or trim(chosen) = trim(rejected)

{% endtest %}
