{#
    Reading source files line by line without losing a byte.

    DuckDB's JSON reader infers a schema from a sample and, with ignore_errors, drops or
    blanks damaged lines; its CSV reader splits on a lone carriage return. Neither can
    promise that every line is accounted for, so the files are read as blobs instead.
    Casting a blob to text writes every byte outside printable ASCII -- and the quote and
    the backslash -- as an escape of the form \xNN, so the escaped text of a newline byte
    occurs nowhere else and splitting on it gives exactly the lines that end at newline.
    Casting a piece back to a blob undoes the escapes byte for byte.
#}

{% macro read_file_lines(files) -%}
    {{ return(adapter.dispatch('read_file_lines', 'distill')(files)) }}
{%- endmacro %}

{% macro duckdb__read_file_lines(files) %}
    select
        filename as file_path,
        sha256(content) as file_sha256,
        octet_length(content) as file_bytes,
        unnest(escaped_lines) as escaped_line,
        unnest(range(1, len(escaped_lines) + 1)) as source_line,
        len(escaped_lines) as piece_count
    from (
        select
            filename,
            content,
            string_split(content::varchar, '\x0A') as escaped_lines
        from
        {%- if files %}
            read_blob([
                {%- for file in files %}
                {{ sql_string(file) }}{{ "," if not loop.last }}
                {%- endfor %}
            ])
        {%- else %}
            (select null::varchar as filename, null::blob as content where false)
        {%- endif %}
    )
{% endmacro %}


{# The bytes of one escaped piece, with the line ending's carriage return removed. #}
{% macro line_bytes(escaped_line) -%}
    {{ return(adapter.dispatch('line_bytes', 'distill')(escaped_line)) }}
{%- endmacro %}

{% macro duckdb__line_bytes(escaped_line) -%}
    (case
        when suffix({{ escaped_line }}, '\x0D')
            then left({{ escaped_line }}, length({{ escaped_line }}) - 4)
        else {{ escaped_line }}
    end)::blob
{%- endmacro %}


{# Text of a blob when it is valid UTF-8, else null. #}
{% macro utf8_or_null(blob_expr) -%}
    {{ return(adapter.dispatch('utf8_or_null', 'distill')(blob_expr)) }}
{%- endmacro %}

{% macro duckdb__utf8_or_null(blob_expr) -%}
    try(decode({{ blob_expr }}))
{%- endmacro %}


{# Path and size of each file, without reading its content. #}
{% macro list_files(files) -%}
    {{ return(adapter.dispatch('list_files', 'distill')(files)) }}
{%- endmacro %}

{% macro duckdb__list_files(files) %}
    {%- if files %}
    select filename as file_path, size as file_bytes
    from read_blob([
        {%- for file in files %}
        {{ sql_string(file) }}{{ "," if not loop.last }}
        {%- endfor %}
    ])
    {%- else %}
    select null::varchar as file_path, null::bigint as file_bytes where false
    {%- endif %}
{% endmacro %}


{# Each whole file as one blob, with its hash and size. #}
{% macro read_json_documents(files) -%}
    {{ return(adapter.dispatch('read_json_documents', 'distill')(files)) }}
{%- endmacro %}

{% macro duckdb__read_json_documents(files) %}
    {%- if files %}
    select
        filename as file_path,
        sha256(content) as file_sha256,
        octet_length(content) as file_bytes,
        content
    from read_blob([
        {%- for file in files %}
        {{ sql_string(file) }}{{ "," if not loop.last }}
        {%- endfor %}
    ])
    {%- else %}
    select
        null::varchar as file_path, null::varchar as file_sha256, null::bigint as file_bytes,
        null::blob as content
    where false
    {%- endif %}
{% endmacro %}
