"""`distill receipts`: show the latest receipt, or check that a receipt can be trusted.

A receipt passes when it matches the RunSummary schema and its run_hash is the hash of the
fields it covers. Exit codes: 0 valid, 1 invalid (each failing field printed), 2 no receipt
found or a file that is not JSON.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from distill import receipts
from distill.errors import EXIT_OK, CheckFailed, ConfigError
from distill.layout import Layout


def register(add) -> None:
    command = add(
        "receipts",
        "show the latest run's receipt (RunSummary), or validate one with --validate",
        run,
    )
    command.add_argument(
        "--validate", nargs="?", const="", default=None, metavar="PATH",
        help="check a receipt against the RunSummary schema and its run_hash; PATH is a "
             "summary.json or its run folder (default: the latest receipt under the root)",
    )


def resolve(layout: Layout, given: str | None) -> Path:
    """The receipt to read: the one given (a file or a run folder), else the latest."""
    if given:
        path = Path(given).expanduser()
        path = path / "summary.json" if path.is_dir() else path
        if not path.exists():
            raise ConfigError(f"no receipt at {path}")
        return path
    latest = receipts.latest_summary(layout)
    if latest is None:
        raise ConfigError(
            f"no receipt under {layout.reports_dir}: run `distill run-all --root {layout.root}`"
        )
    return latest


def describe(summary: dict) -> list[str]:
    """The receipt in a few lines a person can check against the files."""
    phases = summary["phases"]
    inputs, outputs = summary["inputs"], summary["outputs"]
    categories = ", ".join(f"{k} {v:,}" for k, v in phases["score"]["per_category"].items())
    lines = [
        f"run_hash: {summary['run_hash']}",
        f"recorded_at: {summary['recorded_at']}  run_id: {summary['run_id']}",
        f"inputs: {len(inputs)} files, {sum(i['lines'] for i in inputs):,} lines",
        (
            f"evidence: {phases['materialize']['out_records']:,} runs, "
            f"{phases['materialize']['skipped']:,} lines skipped"
        ),
        (
            f"scored: {phases['score']['out']:,} runs ({categories or 'none'}), "
            f"{phases['score']['skipped']:,} skipped"
        ),
    ]
    lines += [f"  {o['path']}: {o['rows']:,} rows, sha256 {o['sha256']}" for o in outputs]
    return lines


def run(args: argparse.Namespace) -> int:
    layout = Layout(args.root)
    path = resolve(layout, args.validate)
    summary = receipts.read_summary(path)
    problems = receipts.validate_summary(summary)
    if problems:
        raise CheckFailed(
            f"{path} is not a valid RunSummary v1: {len(problems)} problem(s)\n"
            + "\n".join(f"  {problem}" for problem in problems)
        )

    if args.validate is not None:
        print(f"valid: {path} (RunSummary v1, run_hash {summary['run_hash']})")
        return EXIT_OK
    print(f"receipt: {path}")
    for line in describe(summary):
        print(line)
    return EXIT_OK
