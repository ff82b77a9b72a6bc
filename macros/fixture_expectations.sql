{#
    The outcomes a fixture knowledge base promises (expected_outcomes.csv beside its
    sources), or no rows when the knowledge base has none -- a real knowledge base.
#}
{% macro fixture_expectations() -%}
    {%- set path = kb_dir() ~ '/expected_outcomes.csv' -%}
    {%- set found = 0 -%}
    {%- if execute -%}
        {%- set found = run_query("select count(*) from glob(" ~ sql_string(path) ~ ")").columns[0].values()[0] -%}
    {%- endif -%}
    {%- if found -%}
        select * from read_csv(
            {{ sql_string(path) }},
            auto_detect = false,
            header = true,
            delim = ',',
            quote = '"',
            columns = {
                'source_file': 'varchar', 'source_line': 'bigint', 'run_id': 'varchar',
                'expected_kind': 'varchar', 'expected': 'varchar', 'in_sft': 'varchar',
                'note': 'varchar'
            }
        )
    {%- else -%}
        select
            null::varchar as source_file, null::bigint as source_line, null::varchar as run_id,
            null::varchar as expected_kind, null::varchar as expected, null::varchar as in_sft,
            null::varchar as note
        where false
    {%- endif -%}
{%- endmacro %}
