-- One row per line of every source file in the knowledge base, byte-exact.
-- Nothing is dropped here: each line gets line_status 'ok' or the reason it cannot be read.

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

relative as (

    select
        {{ kb_relative('file_path') }} as source_file,
        *
    from lines

),

decoded as (

    select
        source_file,
        source_line,
        file_sha256,
        file_bytes,
        suffix(escaped_line, '\x0D') as has_crlf,
        prefix(escaped_line, '\xEF\xBB\xBF') as has_bom,
        {{ line_bytes('escaped_line') }} as raw_bytes
    from relative

),

text_lines as (

    select
        * exclude (raw_bytes),
        octet_length(raw_bytes) as line_bytes,
        {{ utf8_or_null('raw_bytes') }} as decoded_text
    from decoded

),

normalized as (

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
    case when line_status = 'invalid_json' then left(line_text, 120) end as line_excerpt
from classified
