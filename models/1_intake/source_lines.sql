-- Every line with the format of its file and the dataset folder it belongs to: what the
-- staging transforms read. Lines that cannot be read keep their line_status.

with

lines as (

    select * from {{ ref('kb_lines') }}

),

files as (

    select * from {{ ref('kb_files') }}

)

select
    lines.source_file,
    lines.source_line,
    files.source_format,
    files.record_kind,
    -- the top folder groups the files of one data set (a question file and its answers)
    case
        when contains(lines.source_file, '/') then split_part(lines.source_file, '/', 1)
        else ''
    end as dataset,
    regexp_replace(parse_filename(lines.source_file), '\.jsonl?$', '') as file_stem,
    case
        when lines.line_status <> 'ok' then lines.line_status
        when files.source_format is null then 'unrecognised_format'
        else 'ok'
    end as line_status,
    lines.line_json
from lines
inner join files
    on lines.source_file = files.source_file
