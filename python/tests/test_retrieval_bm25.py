"""The warehouse's BM25 ranking of playbooks equals a reference implementation's.

The reference is bm25s with its Lucene variant, the same k1 and b, and its default
tokeniser without stop words; scores are computed in float64. Scores closer than 1e-6
count as tied and are ordered by playbook_id; both rankings are put in that order.
"""

from __future__ import annotations

import bm25s
import duckdb
import pytest

from distill.layout import Layout
from distill.retrieval import index_info, retrieve, tokenize
from distill.warehouse import connect

QUERIES = [
    "I need to cancel my flight and get a refund",
    "change my reservation to a later flight, keep the same cabin",
    "book a one-way flight from New York to Seattle with two checked bags",
    "write a function that returns the sum of squares of a list of numbers",
    "sort a matrix in ascending order according to the sum of its rows",
    "check whether a string matches an a followed by three b",
    "reverse words in a sentence python",
    "Given that f(x) = 4x^3 - 9x - 14, find the value of f(2)",
    "compose an engaging travel blog post about a recent trip to Hawaii",
    "explain the difference between a list and a tuple tuple tuple",
    "extract the highest and lowest closing prices for each month",
    "Café naïve résumé: élan vital",
    "get_user_details get_reservation_details cancel_reservation",
    "is_woodall number",
]
TIE = 1e-6


def reference_ranking(ids: list[str], scores, k: int) -> list[str]:
    """bm25s's scores put in the stated order: rounded to 6 decimals, then playbook_id."""
    order = sorted(range(len(ids)), key=lambda i: (-round(float(scores[i]), 6), ids[i]))
    return [ids[i] for i in order if scores[i] > 0][:k]


@pytest.fixture(scope="module")
def warehouse(real_root):
    con = connect(Layout(real_root))
    yield con
    con.close()


@pytest.fixture(scope="module")
def reference(warehouse):
    info = index_info(warehouse)
    rows = warehouse.execute(
        "select playbook_id, body from exports.playbooks order by playbook_id"
    ).fetchall()
    ids = [r[0] for r in rows]
    corpus = bm25s.tokenize([r[1] for r in rows], stopwords=None, return_ids=False,
                            show_progress=False)
    retriever = bm25s.BM25(k1=info.k1, b=info.b, method="lucene", dtype="float64")
    retriever.index(corpus, show_progress=False)
    return ids, retriever


def reference_scores(reference, query: str):
    ids, retriever = reference
    terms = bm25s.tokenize([query], stopwords=None, return_ids=False, show_progress=False)[0]
    known = [t for t in terms if t in retriever.vocab_dict]
    if not known:
        return [0.0] * len(ids)
    return retriever.get_scores(known)


def test_index_is_built_with_the_documented_parameters(warehouse):
    info = index_info(warehouse)
    playbooks = warehouse.execute("select count(*) from exports.playbooks").fetchone()[0]
    assert (info.variant, info.k1, info.b) == ("lucene", 1.5, 0.75)
    assert info.document_count == playbooks == 570


@pytest.mark.parametrize("query", QUERIES)
def test_top_10_equals_bm25s_lucene(warehouse, reference, query):
    ids, _ = reference
    expected_scores = reference_scores(reference, query)
    expected = reference_ranking(ids, expected_scores, 10)
    hits = retrieve(warehouse, query, 10)

    assert [h.playbook_id for h in hits] == expected
    by_id = dict(zip(ids, expected_scores, strict=True))
    for hit in hits:
        assert abs(hit.score - by_id[hit.playbook_id]) < TIE


def test_query_tokens_are_the_reference_tokens(warehouse):
    info = index_info(warehouse)
    for query in QUERIES:
        mine = tokenize(warehouse, query, info)
        theirs = bm25s.tokenize([query], stopwords=None, return_ids=False,
                                show_progress=False)[0]
        assert mine == theirs, query


def test_a_task_sharing_no_term_retrieves_nothing(warehouse):
    assert retrieve(warehouse, "zqxjv wkpfy", 5) == []
    assert retrieve(warehouse, "? ! a", 5) == []


def test_held_out_task_leaves_its_own_playbooks_out(warehouse):
    task_id, title = warehouse.execute(
        "select task_id, title from exports.playbooks where task_kind = 'tool_use' "
        "order by playbook_id limit 1"
    ).fetchone()
    own = {r[0] for r in warehouse.execute(
        "select playbook_id from exports.playbooks where task_id = ?", [task_id]
    ).fetchall()}
    query = title.split(": ", 1)[1]
    assert own & {h.playbook_id for h in retrieve(warehouse, query, 5)}
    held_out = retrieve(warehouse, query, 5, excluded_task_id=task_id)
    assert len(held_out) == 5
    assert not own & {h.playbook_id for h in held_out}


def test_ties_are_ordered_by_playbook_id(tmp_path):
    """Three playbooks with the same body score the same: they rank by playbook_id."""
    con = duckdb.connect(str(tmp_path / "ties.duckdb"))
    con.execute("create schema retrieval")
    con.execute(
        "create table retrieval.bm25_documents as select * from (values "
        "('pb_c', 't1', 'x: c', 'x', ['s']::varchar[], []::varchar[], 'alpha beta'), "
        "('pb_a', 't2', 'x: a', 'x', ['s']::varchar[], []::varchar[], 'alpha beta'), "
        "('pb_b', 't3', 'x: b', 'x', ['s']::varchar[], []::varchar[], 'alpha beta'), "
        "('pb_d', 't4', 'x: d', 'x', []::varchar[], []::varchar[], 'gamma delta') "
        ") as v(playbook_id, task_id, title, task_kind, steps, tools, body)"
    )
    con.execute(
        "create table retrieval.bm25_corpus as select 'lucene' as bm25_variant, 1.5 as k1, "
        "0.75 as b, 1e-6 as tie_tolerance, '[\\pL\\pN_]{2,}' as token_pattern, "
        "4::bigint as document_count, 2.0 as average_document_length"
    )
    # equal up to float noise far below the tie tolerance
    con.execute(
        "create table retrieval.bm25_postings as select * from (values "
        "('alpha', 'pb_c', 0.5000000000001), ('alpha', 'pb_a', 0.5), "
        "('alpha', 'pb_b', 0.4999999999999), ('gamma', 'pb_d', 0.9)"
        ") as v(term, playbook_id, term_weight)"
    )
    assert [h.playbook_id for h in retrieve(con, "alpha", 3)] == ["pb_a", "pb_b", "pb_c"]
    assert [h.playbook_id for h in retrieve(con, "alpha gamma", 2)] == ["pb_d", "pb_a"]
