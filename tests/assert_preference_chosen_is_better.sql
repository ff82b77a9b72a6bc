-- A preference pair's chosen run is strictly better than its rejected run, and both are
-- runs of the pair's task: by category when both runs have one that ranks, else by an
-- explicit comparison of the two that both orders of the judge agreed on.

with

pairs as (

    select * from {{ ref('preference_pairs') }}

),

scored as (

    select run_id, task_id, quality_score, {{ category_rank('quality_score') }} as category_rank
    from {{ ref('scored_runs') }}

),

agreed as (

    select
        case preferred when 'a' then run_a else run_b end as chosen_run_id,
        case preferred when 'a' then run_b else run_a end as rejected_run_id
    from {{ ref('comparisons') }}
    where preferred in ('a', 'b')

)

select pairs.id, chosen.quality_score, rejected.quality_score
from pairs
left join scored as chosen
    on pairs.chosen_run_id = chosen.run_id
left join scored as rejected
    on pairs.rejected_run_id = rejected.run_id
where chosen.run_id is null
    or rejected.run_id is null
    or chosen.task_id <> pairs.task_id
    or rejected.task_id <> pairs.task_id
    or not (
        coalesce(chosen.category_rank > rejected.category_rank, false)
        or exists (
            select 1 from agreed
            where agreed.chosen_run_id = pairs.chosen_run_id
                and agreed.rejected_run_id = pairs.rejected_run_id
        )
    )
