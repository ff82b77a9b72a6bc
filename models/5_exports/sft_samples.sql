-- One row per run allowed into SFT: accepted and partially accepted runs (the
-- sft_categories variable), never a category of the firewall's list. Each row is TRL /
-- OpenAI fine-tuning data (messages) and an instruction/response pair at once.

with

scored as (

    select * from {{ ref('scored_runs') }}
    where quality_score in {{ sql_list(var('sft_categories')) }}
        and quality_score not in {{ sql_list(never_in_sft()) }}

),

evidence as (

    select * from {{ ref('evidence') }}

)

select
    1 as schema_version,
    'sft_' || left(sha256(scored.run_id), 24) as id,
    evidence.instruction,
    coalesce(
        evidence.output_text,
        {{ last_message_text('evidence.conversation', 'assistant') }},
        ''
    ) as response,
    evidence.conversation as messages,
    scored.quality_score,
    scored.run_id as source_run_id,
    scored.evidence_id,
    scored.task_id,
    scored.task_kind
from scored
inner join evidence
    on scored.evidence_id = evidence.evidence_id
