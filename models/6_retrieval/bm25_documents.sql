-- One row per playbook: its length in terms, the document length BM25 normalises by, and
-- what a replay shows of it. A playbook with no term at all is still a document (length
-- 0): it counts in N and in the average length, as it does in other BM25 implementations.
-- Keyed by playbook_id (a primary key, so an index), fetching the k playbooks a query
-- ranked first is a lookup rather than a scan of every body in the export.

with

playbooks as (

    select
        playbook_id,
        task_id,
        task_kind,
        title,
        steps,
        tools,
        body
    from {{ ref('playbooks') }}

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
        playbooks.*,
        coalesce(lengths.document_length, 0)::bigint as document_length
    from playbooks
    left join lengths
        on playbooks.playbook_id = lengths.playbook_id

)

select * from documents
