{#
    BM25 retrieval over the playbooks, in SQL.

    The scoring is the Lucene variant of BM25 (as in Lucene 8+ and in bm25s with
    method="lucene"):

        idf(t)      = ln(1 + (N - df(t) + 0.5) / (df(t) + 0.5))
        weight(t,d) = idf(t) * tf(t,d) / (tf(t,d) + k1 * (1 - b + b * len(d) / avg_len))
        score(q,d)  = sum of weight(t,d) over the query's terms t, each occurrence counted

    k1 and b are dbt variables (bm25_k1, bm25_b); their defaults are the ones bm25s and
    Lucene use. The tokeniser lowercases and keeps every maximal run of two or more
    letters, digits or underscores: the same tokens as scikit-learn's and bm25s's default
    pattern (?u)\b\w\w+\b, with no stop words and no stemming.
#}

{% macro bm25_parameters() -%}
    {{ return({
        'k1': var('bm25_k1', 1.5),
        'b': var('bm25_b', 0.75),
        'tie_tolerance': 0.000001,
    }) }}
{%- endmacro %}


{# The tokeniser's pattern, in the dialect of the adapter's regular expressions. #}
{% macro bm25_token_pattern() -%}
    {{ return(adapter.dispatch('bm25_token_pattern', 'distill')()) }}
{%- endmacro %}

{% macro duckdb__bm25_token_pattern() -%}
    {{ return('[\\pL\\pN_]{2,}') }}
{%- endmacro %}


{# One row per token occurrence of `text_column`: (id_column, term). #}
{% macro bm25_term_rows(relation, id_column, text_column) -%}
    {{ return(adapter.dispatch('bm25_term_rows', 'distill')(relation, id_column, text_column)) }}
{%- endmacro %}

{% macro duckdb__bm25_term_rows(relation, id_column, text_column) %}
    select
        {{ id_column }},
        unnest(regexp_extract_all(
            lower(coalesce({{ text_column }}, '')), '{{ bm25_token_pattern() }}'
        )) as term
    from {{ relation }}
{% endmacro %}
