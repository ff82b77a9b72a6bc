"""The `distill` command line: one entry point, one subcommand per runbook step.

Exit codes: 0 success, 1 a check failed, 2 bad usage or bad configuration.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from distill.errors import EXIT_INTERRUPTED, EXIT_OK, DistillError
from distill.layout import Layout, find_root


def _n(value: int) -> str:
    return f"{value:,}"


def _by(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {_n(v)}" for k, v in counts.items()) or "none"


def print_run(summary: dict) -> None:
    phases = summary["phases"]
    mat, score = phases["materialize"], phases["score"]
    files = summary["inputs"]
    print(
        f"materialized {_n(mat['out_records'])} runs from {len(files)} files "
        f"({_n(mat['in_lines'])} lines); skipped {_n(mat['skipped'])}: "
        f"{_by(mat['skipped_by_reason'])}"
    )
    print(f"  per source format: {_by(mat['per_source_format'])}")
    if mat.get("redactions"):
        print(f"  redacted: {_by(mat['redactions'])}")
    normalized = mat["normalized_lines"]
    if any(normalized.values()):
        print(f"  normalized: {_by(normalized)}")
    print(
        f"scored {_n(score['out'])} runs; skipped {_n(score['skipped'])}: "
        f"{_by(score['skipped_by_reason'])}"
    )
    print(f"  per category: {_by(score['per_category'])}")
    print(f"  scorer: {score['scorer_version']}")
    print(
        f"exported sft {_n(phases['export_sft']['out'])} rows "
        f"({_by(phases['export_sft']['per_category'])}); "
        f"preference {_n(phases['export_preference']['out'])} pairs; "
        f"playbooks {_n(phases['export_rag']['out'])}"
    )
    for output in summary["outputs"]:
        print(f"  {output['path']}: {_n(output['rows'])} rows, sha256 {output['sha256'][:16]}")
    total = summary["durations_seconds"].get("total", 0.0)
    print(f"receipt: {summary['_path']}")
    print(f"recorded_at: {summary['recorded_at']}  took {total:.1f}s")
    print(f"run_hash: {summary['run_hash']}")


def cmd_run_all(args: argparse.Namespace) -> int:
    from distill import pipeline

    summary = pipeline.run_all(Layout(args.root), args.recorded_at)
    print_run(summary)
    return EXIT_OK


def cmd_materialize(args: argparse.Namespace) -> int:
    from distill import pipeline
    from distill.warehouse import connect, counts_by

    layout = Layout(args.root)
    if not args.dry_run:
        written = pipeline.run_phase(layout, "materialize")
        print("wrote " + ", ".join(str(p.relative_to(layout.root)) for p in written))
        return EXIT_OK

    for note in pipeline.check_knowledge_base(layout):
        print(f"note: {note}")
    with tempfile.TemporaryDirectory(prefix="distill-dry-run-") as scratch:
        dry = Layout(Path(scratch))
        pipeline.build(dry, ["materialize"], {"kb_dir": str(layout.kb.resolve())})
        with connect(dry, read_only=False) as con:
            per_file = con.execute(
                "select f.source_file, coalesce(f.source_format, '(unrecognised)'), f.line_count,"
                " (select count(*) from evidence.distillation_skips s"
                "  where s.source_file = f.source_file) "
                "from intake.kb_files f order by 1"
            ).fetchall()
            reasons = counts_by(
                con, "select skip_reason, count(*) from evidence.distillation_skips group by 1"
            )
            runs = con.execute("select count(*) from evidence.evidence").fetchone()[0]
    print("dry run: nothing written")
    for source_file, fmt, lines, skipped in per_file:
        print(f"  {source_file} [{fmt}]: {_n(lines)} lines, {_n(lines - skipped)} used, "
              f"{_n(skipped)} skipped")
    print(f"would materialize {_n(runs)} runs; skip {_n(sum(reasons.values()))}: {_by(reasons)}")
    return EXIT_OK


def cmd_phase(phase: str):
    def run(args: argparse.Namespace) -> int:
        from distill import pipeline

        layout = Layout(args.root)
        written = pipeline.run_phase(layout, phase)
        print("wrote " + ", ".join(str(p.relative_to(layout.root)) for p in written))
        return EXIT_OK

    return run



def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="distill",
        description="Turn agent-run logs into trusted SFT, preference and playbook data.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, help_text: str, handler) -> argparse.ArgumentParser:
        command = sub.add_parser(name, help=help_text, description=help_text)
        command.add_argument(
            "--root", type=Path, default=None,
            help="the root to work on: reads ROOT/data/_kb, writes under ROOT "
                 "(default: the repository)",
        )
        command.set_defaults(handler=handler)
        return command

    run_all = add("run-all", "run every phase and write the exports and a receipt", cmd_run_all)
    run_all.add_argument("--recorded-at", help="ISO time stamped on the receipt "
                         "(default: $DISTILL_RECORDED_AT, else now)")

    materialize = add("materialize", "turn source lines into evidence records", cmd_materialize)
    materialize.add_argument("--dry-run", action="store_true",
                             help="print per-source counts and skip reasons; write nothing")
    add("score", "score the evidence", cmd_phase("score"))
    add("export-sft", "write the SFT export", cmd_phase("export-sft"))
    add("export-preference", "write the preference export", cmd_phase("export-preference"))
    add("export-rag", "write the playbook export", cmd_phase("export-rag"))

    for module_name in ("receipts_cli", "acceptance", "audit", "replay_cli", "query", "recon"):
        try:
            module = __import__(f"distill.{module_name}", fromlist=["register"])
        except ModuleNotFoundError as error:
            if error.name != f"distill.{module_name}":
                raise
            continue
        module.register(add)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.root = (args.root or find_root()).resolve()
    try:
        return args.handler(args)
    except DistillError as error:
        print(f"distill {args.command}: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print(f"distill {args.command}: interrupted; the previous outputs are unchanged",
              file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
