-- One row per kind of secret or personal data replaced by a placeholder in the evidence
-- and the skip details, with how many placeholders of that kind they hold. Every export
-- is built from these texts, so no export holds a kind that is not counted here.

with

evidence_texts as (

    select to_json(evidence)::varchar as text
    from {{ ref('evidence') }} as evidence

),

skip_texts as (

    select detail as text
    from {{ ref('distillation_skips') }}
    where detail is not null

),

placeholders as (

    select unnest({{ redaction_kinds('text') }}) as kind from evidence_texts
    union all
    select unnest({{ redaction_kinds('text') }}) as kind from skip_texts

)

select kind, count(*) as redactions
from placeholders
group by kind
