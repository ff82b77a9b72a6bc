{#
    Every run a row cites (a list column of run ids) must exist and be accepted; a row
    citing no run at all fails too.
#}
{% test cites_accepted_runs(model, column_name) %}

    with

    cited as (

        select
            playbook_id,
            unnest(coalesce({{ column_name }}, [null])) as run_id
        from {{ model }}

    ),

    scored as (

        select run_id, quality_score from {{ ref('scored_runs') }}

    )

    select cited.playbook_id, cited.run_id, scored.quality_score
    from cited
    left join scored
        on cited.run_id = scored.run_id
    where scored.quality_score is distinct from 'accepted'

{% endtest %}
