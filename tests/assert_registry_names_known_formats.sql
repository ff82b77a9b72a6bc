-- Every entry of the knowledge base's format registry names a format that exists.

with

registry as (

    {{ format_registry() }}

)

select registry.registry_line, registry.source_format
from registry
anti join {{ ref('source_formats') }} as formats
    on registry.source_format = formats.source_format
