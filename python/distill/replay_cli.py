"""`distill replay`: ask a model (or the baseline) to do a task with the playbooks.

    distill replay --task "..." [--k N] [--local-only] [--baseline]
    distill replay --from-runs N [--k N] [--local-only] [--baseline]

Each replay appends one record to data/_kb/replay_runs.jsonl. With --task the exit code
says whether the answer passed validation (0) or not (1); --from-runs is a measurement and
exits 0 once every task is replayed. A model that does not answer is exit 2, with what to
start.
"""

from __future__ import annotations

import argparse
from collections import Counter
from statistics import mean

from distill import replay_log
from distill.errors import EXIT_CHECK_FAILED, EXIT_OK, ConfigError
from distill.layout import Layout
from distill.llm import ModelConfig, require_local
from distill.replay import HeldOut, held_out_tasks, load_phrases, replay
from distill.retrieval import index_info, tokenize
from distill.warehouse import connect


def register(add) -> None:
    command = add("replay", "check that the playbooks and a local model can do a task",
                  cmd_replay)
    what = command.add_mutually_exclusive_group(required=True)
    what.add_argument("--task", help="the task to replay, as text")
    what.add_argument("--from-runs", type=int, metavar="N",
                      help="replay N held-out tasks of the evidence, each with its own "
                           "playbooks left out, and compare with the accepted run")
    command.add_argument("--k", type=int, default=5, help="playbooks to retrieve (default 5)")
    command.add_argument("--local-only", action="store_true",
                         help="refuse a model endpoint that is not on this machine")
    command.add_argument("--baseline", action="store_true",
                         help="answer with the built-in baseline responder instead of a model")


def cmd_replay(args: argparse.Namespace) -> int:
    config = ModelConfig.from_env(baseline=args.baseline)
    if args.local_only:
        require_local(config)
    if args.k < 1:
        raise ConfigError(f"--k must be at least 1, not {args.k}")
    if args.from_runs is not None and args.from_runs < 1:
        raise ConfigError(f"--from-runs must be at least 1, not {args.from_runs}")

    layout = Layout(args.root)
    with connect(layout) as con:
        info = index_info(con)
        phrases = load_phrases(con)

        def terms(text: str) -> list[str]:
            return tokenize(con, text, info)

        def run(task: str, held_out: HeldOut | None = None) -> dict:
            record = replay(con, info, config, phrases, task, args.k, terms, held_out)
            rotated = replay_log.append(layout, record)
            if rotated is not None:
                print(f"rotated the replay log into {rotated.relative_to(layout.root)}")
            return record

        if args.task is not None:
            if not args.task.strip():
                raise ConfigError("--task is empty")
            record = run(args.task)
            print_one(record, info.document_count, config, layout)
            return EXIT_OK if record["validation_result"]["passed"] else EXIT_CHECK_FAILED

        tasks = held_out_tasks(con, args.from_runs)
        if not tasks:
            raise ConfigError("no held-out task: the evidence has no accepted run with a playbook")
        print(f"replaying {len(tasks)} held-out task(s) with {config.describe()}, "
              f"k {args.k}")
        records = []
        for number, held_out in enumerate(tasks, start=1):
            record = run(held_out.instruction, held_out)
            records.append(record)
            print_progress(number, len(tasks), record)
    print_summary(records, config, args.from_runs, layout)
    return EXIT_OK


def _indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line for line in text.splitlines()) or prefix + "(none)"


def print_one(record: dict, documents: int, config: ModelConfig, layout: Layout) -> None:
    timings = record["timings"]
    hits = record["retrieved"]
    method = record["retrieval"]
    print(f"retrieved {len(hits)} of {documents:,} playbooks (bm25 {method['variant']}, "
          f"k1 {method['k1']:g}, b {method['b']:g}) in "
          f"{timings['retrieval_ms']:.1f} ms")
    for hit in hits:
        print(f"  {hit['rank']}. {hit['score']:.6f}  {hit['playbook_id']}")
    if not hits:
        print("model: not asked (empty retrieval: no playbook shares a term with the task)")
    elif record["model_error"]:
        print(f"model: {config.describe()} failed: {record['model_error']}")
    else:
        print(f"model: {config.describe()}: answered in {timings['model_ms']:.1f} ms")
        print("answer:")
        print(_indent(record["answer"] or ""))
    result = record["validation_result"]
    if result["passed"]:
        print("validation: passed")
    else:
        pairs = zip(result["reasons"], result["details"], strict=True)
        explained = "; ".join(f"{reason} ({detail})" for reason, detail in pairs)
        print(f"validation: failed: {explained}")
    print(f"recorded replay {record['replay_id']} in "
          f"{replay_log.log_path(layout).relative_to(layout.root)}")


def print_progress(number: int, total: int, record: dict) -> None:
    result = record["validation_result"]
    compared = record["held_out"] or {}
    value = compared.get("similarity")
    shown = "n/a" if value is None else f"{value:.3f}"
    verdict = "pass" if result["passed"] else "fail: " + ", ".join(result["reasons"])
    print(f"  [{number:>{len(str(total))}}/{total}] similarity {shown} "
          f"({compared.get('similarity_method')})  {record['task_id']}  {verdict}")


def print_summary(records: list[dict], config: ModelConfig, asked: int, layout: Layout) -> None:
    passed = sum(1 for r in records if r["validation_result"]["passed"])
    reasons = Counter(reason for r in records for reason in r["validation_result"]["reasons"])
    by_method: dict[str, list[float]] = {}
    for record in records:
        compared = record["held_out"]
        if compared and compared["similarity"] is not None:
            by_method.setdefault(compared["similarity_method"], []).append(compared["similarity"])
    values = [v for group in by_method.values() for v in group]

    if len(records) < asked:
        print(f"note: only {len(records)} held-out task(s) exist; asked for {asked}")
    print(f"{config.describe()}: validation pass rate {passed}/{len(records)} "
          f"({100 * passed / len(records):.1f}%)")
    if reasons:
        print("  failed by reason: " + ", ".join(f"{k} {v}" for k, v in sorted(reasons.items())))
    if values:
        parts = ", ".join(f"{method} {mean(group):.3f} on {len(group)}"
                          for method, group in sorted(by_method.items()))
        print(f"  mean similarity to the held-out runs: {mean(values):.3f} over "
              f"{len(values)} task(s) ({parts})")
    else:
        print("  mean similarity to the held-out runs: n/a (nothing to compare)")
    print(f"recorded {len(records)} replay(s) in "
          f"{replay_log.log_path(layout).relative_to(layout.root)}")
