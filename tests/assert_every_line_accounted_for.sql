-- Conservation: every line of every source file is in the provenance of at least one
-- evidence record or in distillation_skips -- never in both, never in neither.

with

lines as (

    select source_file, source_line from {{ ref('kb_lines') }}

),

kept as (

    select distinct p.file as source_file, p.line as source_line
    from (select unnest(provenance) as p from {{ ref('evidence') }})

),

skipped as (

    select source_file, source_line from {{ ref('distillation_skips') }}

),

accounted as (

    select
        lines.source_file,
        lines.source_line,
        kept.source_line is not null as is_kept,
        skipped.source_line is not null as is_skipped
    from lines
    left join kept
        on lines.source_file = kept.source_file and lines.source_line = kept.source_line
    left join skipped
        on lines.source_file = skipped.source_file
        and lines.source_line = skipped.source_line

)

select *
from accounted
where is_kept = is_skipped
