{#
    Where the knowledge base is, and which of its files are the product's own.
#}

{% macro kb_dir() -%}
    {%- set configured = var('kb_dir', '') -%}
    {%- if configured -%}
        {{ configured.rstrip('/') }}
    {%- elif target.name == 'fixture' -%}
        fixtures/kb
    {%- else -%}
        {{ env_var('DISTILL_ROOT', '.').rstrip('/') }}/data/_kb
    {%- endif -%}
{%- endmacro %}


{# Files the product writes into the knowledge base: never read as sources. #}
{% macro own_kb_files() -%}
    {{ return(['distillation_skips.jsonl', 'scoring_skips.jsonl', 'audit_baselines.jsonl']) }}
{%- endmacro %}


{# The path of a file relative to the knowledge-base folder, as provenance names it. #}
{% macro kb_relative(path_column) -%}
    substr({{ path_column }}, {{ kb_dir() | length + 2 }})
{%- endmacro %}


{#
    The source files of the knowledge base: every *.jsonl under it, in any subfolder,
    except the product's own files, listed when the model runs. Listing them first keeps
    the product's files (and a dangling link among them) from ever being opened.
#}
{% macro kb_source_files() -%}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set listing = run_query(
        "select file from glob(" ~ sql_string(kb_dir() ~ '/**/*.jsonl') ~ ") order by file"
    ) -%}
    {%- set own = own_kb_files() -%}
    {%- set files = [] -%}
    {%- for row in listing.rows -%}
        {%- if row[0].split('/')[-1] not in own -%}
            {%- do files.append(row[0]) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(files) }}
{%- endmacro %}


{#
    JSON files (*.json) the format registry names: read as arrays of records. A JSON file
    the registry does not name is not a source (a knowledge base may hold other JSON).
#}
{% macro kb_json_sources() -%}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set listing = run_query(
        "select listed.file from glob(" ~ sql_string(kb_dir() ~ '/**/*.json') ~ ") as listed "
        ~ "where exists (select 1 from (" ~ format_registry() ~ ") as registry "
        ~ "where " ~ kb_relative('listed.file') ~ " glob registry.file_glob) "
        ~ "order by listed.file"
    ) -%}
    {{ return(listing.columns[0].values() | list) }}
{%- endmacro %}
