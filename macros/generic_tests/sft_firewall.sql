{#
    The contamination firewall: fails the build if a single row of the SFT export has a
    category of never_in_sft(), has no category, or comes from a run whose scored
    category is not allowed -- whatever the row itself claims.
#}
{% test sft_firewall(model, column_name, run_id_column='source_run_id') %}

    with

    exported as (

        select {{ column_name }} as quality_score, {{ run_id_column }} as run_id
        from {{ model }}

    ),

    scored as (

        select run_id, quality_score from {{ ref('scored_runs') }}

    )

    select
        exported.run_id,
        exported.quality_score as exported_category,
        scored.quality_score as scored_category
    from exported
    left join scored
        on exported.run_id = scored.run_id
    where exported.quality_score is null
        or exported.quality_score in {{ sql_list(never_in_sft()) }}
        or scored.quality_score is null
        or scored.quality_score in {{ sql_list(never_in_sft()) }}
        or scored.quality_score not in {{ sql_list(var('sft_categories')) }}

{% endtest %}
