-- Every {file, line} in an evidence record's provenance is a line of a source file.

select p.file, p.line
from (select unnest(provenance) as p from {{ ref('evidence') }})
anti join {{ ref('kb_lines') }} as lines
    on p.file = lines.source_file and p.line = lines.source_line
