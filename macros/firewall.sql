{#
    The contamination firewall's one list: categories that may never enter SFT data.
    The SFT export filters on it, and the dbt test sft_firewall fails the build if a row
    of these categories is found in the export anyway.
#}
{% macro never_in_sft() -%}
    {{ return(['rejected', 'needs_human_review']) }}
{%- endmacro %}


{% macro quality_categories() -%}
    {{ return(['accepted', 'partially_accepted', 'rejected', 'needs_human_review']) }}
{%- endmacro %}


{# A category's rank for preference pairs: higher is better; review has none. #}
{% macro category_rank(column) -%}
    case {{ column }}
        when 'accepted' then 3
        when 'partially_accepted' then 2
        when 'rejected' then 1
    end
{%- endmacro %}


{% macro sql_list(values) -%}
    ({%- for v in values %}'{{ v }}'{{ ", " if not loop.last }}{% endfor -%})
{%- endmacro %}
