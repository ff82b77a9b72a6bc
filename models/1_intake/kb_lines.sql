-- One row per line of every source file in the knowledge base, byte-exact.
-- Nothing is dropped here: each line gets line_status 'ok' or the reason it cannot be read.
-- A JSON file (*.json) that the registry names is read too, as one array of records: each
-- element is one unit, numbered from 1 in source_line (a document that is not an array is
-- a single unit).

with

pieces as (

    {{ read_file_lines(kb_source_files()) }}

),

lines as (

    -- a file that ends with a newline leaves one empty piece after it: not a line
    select *
    from pieces
    where not (source_line = piece_count and escaped_line = '')

),

decoded as (

    select
        {{ kb_relative('file_path') }} as source_file,
        source_line,
        file_sha256,
        file_bytes,
        suffix(escaped_line, '\x0D') as has_crlf,
        prefix(escaped_line, '\xEF\xBB\xBF') as has_bom,
        {{ line_bytes('escaped_line') }} as raw_bytes
    from lines

),

text_lines as (

    select
        * exclude (raw_bytes),
        octet_length(raw_bytes) as line_bytes,
        {{ utf8_or_null('raw_bytes') }} as decoded_text
    from decoded

),

normalized_lines as (

    select
        * exclude (decoded_text),
        decoded_text is not null as is_utf8,
        -- a byte-order mark belongs to the encoding, not to the record
        case
            when has_bom then substr(decoded_text, 2)
            else decoded_text
        end as line_text
    from text_lines

),

---------- JSON array files named by the registry

json_documents as (

    {{ read_json_documents(kb_json_sources()) }}

),

json_texts as (

    select
        {{ kb_relative('file_path') }} as source_file,
        file_sha256,
        file_bytes,
        prefix(content::varchar, '\xEF\xBB\xBF') as has_bom,
        ltrim({{ utf8_or_null('content') }}, chr(65279)) as document
    from json_documents

),

json_units as (

    select
        *,
        case
            when json_valid(document) and json_type(document::json) = 'ARRAY'
                then json_extract(document::json, '$[*]')::varchar[]
            else [document]
        end as units
    from json_texts

),

normalized_elements as (

    select
        source_file,
        unnest(range(1, len(units) + 1)) as source_line,
        file_sha256,
        file_bytes,
        false as has_crlf,
        has_bom,
        document is not null as is_utf8,
        unnest(units) as line_text
    from json_units

),

normalized as (

    select
        source_file, source_line, file_sha256, file_bytes, has_crlf, has_bom,
        line_bytes, is_utf8, line_text
    from normalized_lines

    union all

    select
        source_file, source_line, file_sha256, file_bytes, has_crlf, has_bom,
        coalesce(strlen(line_text), file_bytes) as line_bytes, is_utf8, line_text
    from normalized_elements

),

classified as (

    select
        *,
        case
            when not is_utf8 then 'invalid_utf8'
            when line_bytes > {{ var('max_line_bytes') }} then 'line_too_long'
            when trim(line_text, e' \t\r\n\x0B\x0C') = '' then 'blank_line'
            when not json_valid(line_text) then 'invalid_json'
            when json_type(line_text::json) <> 'OBJECT' then 'not_a_json_object'
            when {{ json_nesting_exceeds('line_text', var('max_json_depth')) }}
                then 'too_deeply_nested'
            else 'ok'
        end as line_status
    from normalized

)

select
    source_file,
    source_line,
    file_sha256,
    file_bytes,
    line_bytes,
    has_bom,
    has_crlf,
    is_utf8,
    line_status,
    case when line_status = 'ok' then line_text::json end as line_json,
    case
        when line_status = 'invalid_json' then {{ redact('left(line_text, 120)') }}
    end as line_excerpt
from classified
