"""How long replay's retrieval takes: the top 5 among many playbooks, median of many queries.

    python -m distill.bench_retrieval [--playbooks 100000] [--queries 200] [--k 5]

Builds a scratch warehouse holding synthetic playbooks (bodies of 40 to 120 terms drawn
from a 20,000-term vocabulary with a Zipf-like skew, so common and rare terms mix as in
real text), builds the BM25 index with the project's own models (models/6_retrieval), then
times distill.retrieval.retrieve for queries of 3 to 8 terms drawn the same way. Everything
is seeded: the same arguments give the same corpus and queries. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from distill.layout import Layout
from distill.retrieval import index_info, retrieve
from distill.warehouse import require_success, run_dbt

VOCABULARY = 20_000
SEED = 7

SYNTHETIC_PLAYBOOKS = f"""
create or replace table exports.playbooks as
with

numbered as (

    select range as n, (40 + hash(range, 'length') % 81)::bigint as terms
    from range($count)

),

bodies as (

    select
        n,
        array_to_string(list_transform(
            range(terms),
            lambda j: 'w' || floor(
                {VOCABULARY} * pow((hash(n, j, {SEED}) % 1000003) / 1000003.0, 3)
            )::bigint
        ), ' ') as body
    from numbered

)

select
    1 as schema_version,
    'pb_' || lpad(n::varchar, 8, '0') as playbook_id,
    'synthetic: ' || left(body, 60) as title,
    'synthetic' as task_kind,
    'task-' || n as task_id,
    'direct' as approach,
    []::varchar[] as steps,
    []::varchar[] as tools,
    body,
    ['run-' || n] as source_run_ids,
    1 as success_count,
    1 as attempt_count,
    1.0 as success_rate
from bodies
"""


def zipf_term(rng: random.Random) -> str:
    return f"w{int(VOCABULARY * rng.random() ** 3)}"


def queries(count: int) -> list[str]:
    rng = random.Random(SEED)
    return [" ".join(zipf_term(rng) for _ in range(rng.randint(3, 8))) for _ in range(count)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--playbooks", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--k", type=int, default=5)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="distill-bench-retrieval-") as scratch:
        layout = Layout(Path(scratch))
        layout.warehouse_dir.mkdir(parents=True)
        started = time.monotonic()
        with duckdb.connect(str(layout.warehouse)) as con:
            con.execute("create schema if not exists exports")
            con.execute(SYNTHETIC_PLAYBOOKS, {"count": args.playbooks})
        generated = time.monotonic() - started

        result = run_dbt(layout, "run", ["path:models/6_retrieval"], show_progress=False)
        require_success(result, "building the BM25 index")

        with duckdb.connect(str(layout.warehouse), read_only=True) as con:
            info = index_info(con)
            postings = con.execute("select count(*) from retrieval.bm25_postings").fetchone()[0]
            asked = queries(args.queries)
            for task in asked[:10]:  # warm the caches once
                retrieve(con, task, args.k, info)
            seconds = []
            found = 0
            for task in asked:
                began = time.perf_counter()
                hits = retrieve(con, task, args.k, info)
                seconds.append(time.perf_counter() - began)
                found += len(hits) == args.k

    ms = sorted(s * 1000 for s in seconds)
    print(f"corpus: {info.document_count:,} synthetic playbooks, {postings:,} postings "
          f"(generated in {generated:.1f}s, indexed by dbt in {result.seconds:.1f}s)")
    print(f"retrieval of the top {args.k} over {len(ms)} queries: "
          f"median {statistics.median(ms):.1f} ms, p90 {ms[int(0.9 * (len(ms) - 1))]:.1f} ms, "
          f"max {ms[-1]:.1f} ms; "
          f"{found} queries found {args.k} playbooks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
