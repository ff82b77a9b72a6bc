-- One row: the corpus statistics and the parameters every BM25 score was computed with,
-- so that a query (distill replay) tokenises and ranks exactly as the index was built.

{%- set parameters = bm25_parameters() %}

with

documents as (

    select * from {{ ref('bm25_documents') }}

),

statistics as (

    select
        count(*) as document_count,
        coalesce(avg(document_length), 0)::double as average_document_length
    from documents

)

select
    'lucene' as bm25_variant,
    {{ parameters.k1 }}::double as k1,
    {{ parameters.b }}::double as b,
    {{ parameters.tie_tolerance }}::double as tie_tolerance,
    '{{ bm25_token_pattern() }}' as token_pattern,
    statistics.document_count,
    statistics.average_document_length
from statistics
