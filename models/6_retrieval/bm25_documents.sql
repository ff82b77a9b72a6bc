-- One row per playbook: its length in terms, the document length BM25 normalises by.
-- A playbook with no term at all is still a document (length 0): it counts in N and in
-- the average length, as it does in other BM25 implementations.

with

playbooks as (

    select playbook_id from {{ ref('playbooks') }}

),

term_counts as (

    select * from {{ ref('bm25_term_counts') }}

),

lengths as (

    select
        playbook_id,
        sum(term_frequency) as document_length
    from term_counts
    group by playbook_id

),

documents as (

    select
        playbooks.playbook_id,
        coalesce(lengths.document_length, 0)::bigint as document_length
    from playbooks
    left join lengths
        on playbooks.playbook_id = lengths.playbook_id

)

select * from documents
