{#
    Custom schemas are used as given ("evidence", not "main_evidence"), so that an
    operator's SQL reads `select * from evidence.evidence`.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
