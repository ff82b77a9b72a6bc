-- One row per (term, playbook): the term's BM25 weight in that playbook, precomputed, so
-- that a query's score is the sum of its terms' weights. Stored in term order, so that
-- looking up a handful of terms reads only the blocks that hold them.

with

term_counts as (

    select * from {{ ref('bm25_term_counts') }}

),

documents as (

    select * from {{ ref('bm25_documents') }}

),

terms as (

    select * from {{ ref('bm25_terms') }}

),

corpus as (

    select * from {{ ref('bm25_corpus') }}

),

weighted as (

    select
        term_counts.term,
        term_counts.playbook_id,
        term_counts.term_frequency,
        documents.document_length,
        terms.idf * term_counts.term_frequency / (
            term_counts.term_frequency + corpus.k1 * (
                1 - corpus.b
                + corpus.b * documents.document_length / corpus.average_document_length
            )
        ) as term_weight
    from term_counts
    inner join documents
        on term_counts.playbook_id = documents.playbook_id
    inner join terms
        on term_counts.term = terms.term
    cross join corpus

)

select * from weighted
order by term, playbook_id
