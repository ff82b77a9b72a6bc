"""Ranking playbooks for a task with the BM25 index the warehouse builds (models/6_retrieval).

The index holds each (term, playbook) weight precomputed, so a query is one join of its
terms against retrieval.bm25_postings and a sum; the k playbooks ranked first are then
looked up by key in retrieval.bm25_documents. The query is tokenised in DuckDB with the
pattern stored in retrieval.bm25_corpus, so a query and the corpus can never be tokenised
differently. Ties: scores closer than 1e-6 are tied; the ranking sorts by the score rounded
to 6 decimals, highest first, then by playbook_id ascending, which makes it a total order.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from distill.errors import ConfigError

SCORE_DECIMALS = 6
"""Scores are compared rounded to this many decimals: closer than 1e-6 means tied."""

RANKING_SQL = f"""
with

query_terms as (

    select unnest(regexp_extract_all(lower($task), $pattern)) as term

),

scored as (

    select
        postings.playbook_id,
        sum(postings.term_weight) as score
    from query_terms
    inner join retrieval.bm25_postings as postings
        on query_terms.term = postings.term
    group by postings.playbook_id

),

excluded as (

    select playbook_id from retrieval.bm25_documents where task_id = $excluded_task_id

),

top as (

    select scored.*
    from scored
    where scored.playbook_id not in (select playbook_id from excluded)
    order by round(scored.score, {SCORE_DECIMALS}) desc, scored.playbook_id
    limit $k

)

select
    top.playbook_id,
    top.score,
    documents.title,
    documents.task_id,
    documents.task_kind,
    documents.steps,
    documents.tools,
    documents.body
from top
inner join retrieval.bm25_documents as documents
    on top.playbook_id = documents.playbook_id
order by round(top.score, {SCORE_DECIMALS}) desc, top.playbook_id
"""


@dataclass(frozen=True)
class Hit:
    """One retrieved playbook and its BM25 score for the task."""

    playbook_id: str
    score: float
    title: str
    task_id: str
    task_kind: str
    steps: list[str]
    tools: list[str]
    body: str


@dataclass(frozen=True)
class IndexInfo:
    """How the index was built: what a replay record and a report should name."""

    variant: str
    k1: float
    b: float
    token_pattern: str
    document_count: int

    def describe(self) -> str:
        return (f"bm25 {self.variant}, k1 {self.k1:g}, b {self.b:g}, "
                f"{self.document_count:,} playbooks")


def index_info(con: duckdb.DuckDBPyConnection) -> IndexInfo:
    """The index's parameters; a clear error when the warehouse has no index yet."""
    try:
        row = con.execute(
            "select bm25_variant, k1, b, token_pattern, document_count from retrieval.bm25_corpus"
        ).fetchone()
    except duckdb.CatalogException:
        raise ConfigError(
            "the warehouse has no playbook index (retrieval.bm25_corpus): run "
            "`distill run-all` to build it"
        ) from None
    if row is None:
        raise ConfigError("retrieval.bm25_corpus is empty: rebuild with `distill run-all`")
    return IndexInfo(str(row[0]), float(row[1]), float(row[2]), str(row[3]), int(row[4]))


def tokenize(con: duckdb.DuckDBPyConnection, text: str, info: IndexInfo) -> list[str]:
    """The terms of a text exactly as the index tokenises it (for validation and reports)."""
    row = con.execute(
        "select regexp_extract_all(lower($text), $pattern)",
        {"text": text, "pattern": info.token_pattern},
    ).fetchone()
    return list(row[0]) if row else []


def retrieve(
    con: duckdb.DuckDBPyConnection,
    task: str,
    k: int,
    info: IndexInfo | None = None,
    excluded_task_id: str | None = None,
) -> list[Hit]:
    """The top k playbooks for the task; none when no term of the task is in the corpus.

    excluded_task_id leaves that task's own playbooks out of the ranking (a held-out
    replay); they still count in the corpus statistics, as the index was built with them.
    """
    if k < 1:
        raise ConfigError(f"--k must be at least 1, not {k}")
    info = info or index_info(con)
    rows = con.execute(RANKING_SQL, {
        "task": task,
        "pattern": info.token_pattern,
        "excluded_task_id": excluded_task_id,
        "k": k,
    }).fetchall()
    return [
        Hit(
            playbook_id=row[0],
            score=float(row[1]),
            title=row[2],
            task_id=row[3],
            task_kind=row[4],
            steps=list(row[5] or []),
            tools=list(row[6] or []),
            body=row[7] or "",
        )
        for row in rows
    ]
