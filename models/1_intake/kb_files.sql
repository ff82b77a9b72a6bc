-- One row per source file: its hash, size, line count and the format that reads it.
-- The registry decides first; otherwise the format whose signature keys the most lines
-- carry; a file matching no format is left unrecognised (its lines are skipped as such).

with

lines as (

    select * from {{ ref('kb_lines') }}

),

registry as (

    {{ format_registry() }}

),

formats as (

    select * from {{ ref('source_formats') }}

),

line_counts as (

    select
        source_file,
        any_value(file_sha256) as file_sha256,
        count(*) as line_count,
        count(*) filter (where line_status = 'ok') as readable_lines
    from lines
    group by source_file

),

-- every source file, empty ones included (they have no line to be listed by)
listed_files as (

    {{ list_files(kb_source_files() + kb_json_sources()) }}

),

files as (

    select
        {{ kb_relative('listed_files.file_path') }} as source_file,
        coalesce(
            line_counts.file_sha256,
            -- only an empty file has no line; its hash is the hash of nothing
            sha256(''::blob)
        ) as file_sha256,
        listed_files.file_bytes,
        coalesce(line_counts.line_count, 0) as line_count,
        coalesce(line_counts.readable_lines, 0) as readable_lines
    from listed_files
    left join line_counts
        on {{ kb_relative('listed_files.file_path') }} = line_counts.source_file

),

registered as (

    select
        files.source_file,
        arg_min(registry.source_format, registry.registry_line) as source_format
    from files
    inner join registry
        on files.source_file glob registry.file_glob
    group by files.source_file

),

signature_votes as (

    select
        lines.source_file,
        formats.source_format,
        count(*) as matching_lines,
        row_number() over (
            partition by lines.source_file
            order by count(*) desc, formats.source_format
        ) as vote_rank
    from lines
    inner join formats
        on list_has_all(
            json_keys(lines.line_json),
            string_split(formats.signature_keys, '|')
        )
    where lines.line_status = 'ok'
    group by lines.source_file, formats.source_format

),

recognised as (

    select
        files.*,
        coalesce(registered.source_format, votes.source_format) as source_format,
        case
            when registered.source_format is not null then 'registry'
            when votes.source_format is not null then 'keys'
        end as detected_by
    from files
    left join registered
        on files.source_file = registered.source_file
    left join signature_votes as votes
        on files.source_file = votes.source_file
        and votes.vote_rank = 1

)

select
    recognised.*,
    formats.record_kind,
    formats.signature_keys
from recognised
left join formats
    on recognised.source_format = formats.source_format
