-- Every evidence record is scored or skipped by the scorer, exactly once.

select evidence.evidence_id
from {{ ref('evidence') }} as evidence
left join {{ ref('scored_runs') }} as scored
    on evidence.evidence_id = scored.evidence_id
left join {{ ref('scoring_skips') }} as skipped
    on evidence.evidence_id = skipped.evidence_id
where (scored.evidence_id is null) = (skipped.evidence_id is null)
