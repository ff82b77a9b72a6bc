-- One row per term of each playbook: how often the term occurs in the playbook's body
-- (its task, steps, tools and worked answer), tokenised as macros/retrieval.sql says.

with

playbooks as (

    select playbook_id, body from {{ ref('playbooks') }}

),

terms as (

    {{ bm25_term_rows('playbooks', 'playbook_id', 'body') }}

),

counted as (

    select
        playbook_id,
        term,
        count(*) as term_frequency
    from terms
    group by playbook_id, term

)

select * from counted
