-- Every record the staging transforms produced, in one shape: one row per usable line
-- (a run, a signal, a comparison) or per line a transform could not use (record_kind
-- 'skip', with skip_reason and skip_detail). To add a format, add its model to this list.

with

staged as (

    {{ union_staged([
        ref('stg_canonical_runs'),
        ref('stg_canonical_checks'),
        ref('stg_canonical_reviews'),
        ref('stg_canonical_comparisons'),
        ref('stg_taubench_trajectories'),
        ref('stg_reflexion_runs'),
        ref('stg_mtbench_answers'),
        ref('stg_mtbench_single_judgments'),
        ref('stg_mtbench_pair_judgments'),
        ref('stg_openai_chat'),
        ref('stg_agent_sessions'),
        ref('stg_replay_runs'),
    ]) }}

),

-- an identifier is a join key: it cannot be redacted without merging two runs or two
-- tasks into one, so a line whose ids hold a secret or an e-mail address is skipped
checked as (

    select
        * exclude (problem),
        coalesce(
            problem,
            case
                when {{ contains_secret('run_id') }}
                    then 'secret_in_identifier:run_id'
                when {{ contains_secret('task_id') }}
                    then 'secret_in_identifier:task_id'
                when {{ contains_secret('run_a') }} or {{ contains_secret('run_b') }}
                    then 'secret_in_identifier:run_a or run_b'
            end
        ) as problem
    from staged

)

select
    * exclude (record_kind, problem),
    case when problem is null then record_kind else 'skip' end as record_kind,
    split_part(problem, ':', 1) as skip_reason,
    nullif(substr(problem, length(split_part(problem, ':', 1)) + 2), '') as skip_detail
from checked
