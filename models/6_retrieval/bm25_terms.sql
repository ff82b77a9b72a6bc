-- One row per term of the corpus: in how many playbooks it occurs and its inverse
-- document frequency, ln(1 + (N - df + 0.5) / (df + 0.5)).

with

term_counts as (

    select * from {{ ref('bm25_term_counts') }}

),

corpus as (

    select * from {{ ref('bm25_corpus') }}

),

frequencies as (

    select
        term,
        count(*) as document_frequency
    from term_counts
    group by term

),

weighted as (

    select
        frequencies.term,
        frequencies.document_frequency,
        ln(
            1 + (corpus.document_count - frequencies.document_frequency + 0.5)
            / (frequencies.document_frequency + 0.5)
        ) as idf
    from frequencies
    cross join corpus

)

select * from weighted
