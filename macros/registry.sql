{#
    The format registry: data/_kb/formats.csv, lines of `glob,source_format`, `#` comments.
    A knowledge base without one is recognised by keys alone.
#}
{% macro format_registry() -%}
    {%- set registry_path = kb_dir() ~ '/formats.csv' -%}
    {%- set found = 0 -%}
    {%- if execute -%}
        {%- set found = run_query("select count(*) from glob(" ~ sql_string(registry_path) ~ ")").columns[0].values()[0] -%}
    {%- endif -%}
    {%- if found -%}
        select
            row_number() over () as registry_line,
            trim("glob") as file_glob,
            trim(source_format) as source_format
        from read_csv(
            {{ sql_string(registry_path) }},
            auto_detect = false,
            header = true,
            delim = ',',
            quote = '"',
            comment = '#',
            columns = {'glob': 'varchar', 'source_format': 'varchar'}
        )
    {%- else -%}
        select
            null::bigint as registry_line,
            null::varchar as file_glob,
            null::varchar as source_format
        where false
    {%- endif -%}
{%- endmacro %}
