"""`distill audit-full` and `distill baseline`: inspect a root as it is on disk.

The audit rebuilds nothing. It runs every check of audit_checks over the published files,
the warehouse (read-only) and the receipt, compares the metrics with the baseline
(drift), appends its metrics to the history, and writes a Markdown and a self-contained
HTML report. It exits 1 when a required check fails and names each failing check.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass
from pathlib import Path

from distill import audit_checks, baseline, charts, drift
from distill.audit_context import AuditContext
from distill.errors import EXIT_OK, CheckFailed, ConfigError
from distill.layout import Layout
from distill.lock import exclusive
from distill.query import read_only_connection
from distill.receipts import resolve_recorded_at
from distill.render import render, write_atomically

REPORT_NAME = "phase8-full-audit-report"


@dataclass
class Audit:
    recorded_at: str
    threshold: float
    checks: list[audit_checks.CheckResult]
    drift_rows: list[drift.DriftRow]
    baseline: baseline.Baseline | None
    history_problems: list[str]
    run_id: str | None
    run_hash: str | None

    @property
    def failed(self) -> list[audit_checks.CheckResult]:
        return [c for c in self.checks if c.failed]

    @property
    def required(self) -> list[audit_checks.CheckResult]:
        return [c for c in self.checks if c.required]

    @property
    def warnings(self) -> list[drift.DriftRow]:
        return [r for r in self.drift_rows if r.status == drift.WARN]


def _open(layout: Layout):
    return read_only_connection(layout) if layout.warehouse.is_file() else None


def run_audit(layout: Layout, recorded_at: str, threshold: float,
              keep_history: bool = True) -> Audit:
    con = _open(layout)
    try:
        ctx = AuditContext(layout, con)
        checks = audit_checks.run_checks(ctx)
        metrics = drift.collect_metrics(ctx)
        summary = ctx.summary or {}
    finally:
        if con is not None:
            con.close()

    history = baseline.read_history(layout)
    chosen = baseline.choose_baseline(history)
    rows = drift.compare(metrics, chosen.metrics if chosen else None, threshold)
    checks.append(_drift_check(rows, chosen, threshold))
    checks.append(_history_check(history))
    if keep_history:
        baseline.append_row(layout, recorded_at, metrics, summary.get("run_hash"))
    return Audit(
        recorded_at=recorded_at,
        threshold=threshold,
        checks=checks,
        drift_rows=rows,
        baseline=chosen,
        history_problems=history.problems,
        run_id=summary.get("run_id"),
        run_hash=summary.get("run_hash"),
    )


def _drift_check(rows, chosen, threshold) -> audit_checks.CheckResult:
    warned = [r.metric for r in rows if r.status == drift.WARN]
    if chosen is None:
        result, detail = audit_checks.INFO, "no baseline yet: this audit's metrics become it"
    else:
        result = audit_checks.WARN if warned else audit_checks.PASS
        detail = (f"{len(warned)} of {len(rows)} metrics moved more than {threshold:.0%}"
                  + (f": {audit_checks.sample(warned, 5)}" if warned else ""))
    return audit_checks.CheckResult(
        "p8_drift", "P8", False, "Metrics against the baseline in data/_kb/audit_baselines.jsonl.",
        result, detail, {"metrics": len(rows), "warn": len(warned)},
    )


def _history_check(history: baseline.History) -> audit_checks.CheckResult:
    problems = history.problems
    return audit_checks.CheckResult(
        "p8_baseline_history_readable", "P8", False,
        "Every line of data/_kb/audit_baselines.jsonl is a usable baseline row.",
        audit_checks.WARN if problems else audit_checks.PASS,
        "; ".join(problems[:3]) + (" (skipped)" if problems else "")
        or f"{len(history.rows)} rows",
        {"rows": len(history.rows), "unusable": len(problems)},
    )


# ---------------------------------------------------------------- reports


def _move_text(move: float | None) -> str:
    if move is None:
        return "-"
    return "new or gone" if math.isinf(move) else f"{move:+.1%}".replace("+", "")


def _chart_data(audit: Audit, layout: Layout) -> list[charts.BarChart]:
    numbers = {c.name: c.numbers for c in audit.checks}
    categories = [
        (k, float(v), f"cat-{k}") for k, v in numbers.get("p3_categories_from_the_four", {}).items()
        if isinstance(v, int)
    ]
    total = sum(v for _, v, _ in categories) or 1
    shares = [(k, v / total, css) for k, v, css in sorted(categories)]

    current = {r.metric: r.current for r in audit.drift_rows}
    phases = [
        (name, float(current.get(metric) or 0), "phase")
        for name, metric in (
            ("input lines", "rows.input_lines"), ("evidence", "rows.evidence"),
            ("distillation skips", "rows.distillation_skips"), ("scored runs", "rows.scored_runs"),
            ("scoring skips", "rows.scoring_skips"), ("SFT samples", "exports.sft_samples"),
            ("preference pairs", "exports.preference_pairs"), ("playbooks", "exports.playbooks"),
        )
    ]
    skips = [
        (r.metric.removeprefix("skip_rate."), float(r.current or 0), "skip")
        for r in audit.drift_rows if r.metric.startswith("skip_rate.") and r.current
    ]
    moved = sorted(
        (r for r in audit.drift_rows if r.move),
        key=lambda r: (-min(r.move, 1e9), r.metric),
    )[:30]
    drifts = [(r.metric, r.move, f"drift-{r.status}") for r in moved]
    return [
        charts.bar_chart("category-shares", "Score distribution: share of scored runs",
                         shares, scale_max=1.0, value_format=lambda v: f"{v:.1%}",
                         empty_text="no scored runs"),
        charts.bar_chart("phase-counts", "Rows per phase", phases,
                         value_format=lambda v: f"{int(v):,}"),
        charts.bar_chart("skip-reasons", "Skip rate by reason (of the phase's input)", skips,
                         value_format=lambda v: f"{v:.2%}", empty_text="no skips"),
        charts.bar_chart(
            "drift", f"Drift against the baseline (relative move; {audit.threshold:.0%} marked)",
            drifts, scale_max=max(1.0, audit.threshold * 2), value_format=_move_text,
            marker=audit.threshold, marker_label=f"{audit.threshold:.0%}",
            empty_text=("no baseline yet: this audit becomes it" if audit.baseline is None
                        else "no metric moved"),
        ),
    ]


def write_reports(layout: Layout, audit: Audit) -> tuple[Path, Path]:
    context = {
        "audit": audit,
        "move_text": _move_text,
        "charts": _chart_data(audit, layout),
        "required_count": len(audit.required),
        "failed_count": len(audit.failed),
    }
    md = write_atomically(layout.reports_dir / f"{REPORT_NAME}.md",
                          render("audit_report.md.j2", **context))
    html = write_atomically(layout.reports_dir / f"{REPORT_NAME}.html",
                            render("audit_report.html.j2", **context))
    return md, html


# ---------------------------------------------------------------- commands


def cmd_audit_full(args: argparse.Namespace) -> int:
    layout = Layout(args.root)
    if not layout.root.is_dir():
        raise ConfigError(f"--root {layout.root} is not a folder")
    threshold = drift.resolve_threshold(args.drift_threshold)
    recorded_at = resolve_recorded_at(args.recorded_at)
    with exclusive(layout, "audit-full"):
        audit = run_audit(layout, recorded_at, threshold, keep_history=not args.no_history)
        md, html = write_reports(layout, audit)

    width = max(len(c.name) for c in audit.checks)
    for item in audit.checks:
        kind = "required" if item.required else "info"
        label = f"[{item.phase} {kind}]"
        print(f"{item.result.upper():4}  {item.name:<{width}}  {label}  {item.detail}")
    print(
        f"{len(audit.required)} required checks, {len(audit.failed)} failed; "
        f"drift: {len(audit.warnings)} of {len(audit.drift_rows)} metrics past "
        f"{threshold:.0%}" + ("" if audit.baseline else " (no baseline yet)")
    )
    print(f"wrote {md.relative_to(layout.root)} and {html.relative_to(layout.root)}")
    if audit.failed:
        raise CheckFailed(
            "required checks failed: " + ", ".join(c.name for c in audit.failed)
        )
    return EXIT_OK


def cmd_baseline(args: argparse.Namespace) -> int:
    layout = Layout(args.root)
    notes = (args.notes or "").strip()
    if not notes:
        raise ConfigError('--notes must say why this state is accepted, e.g. --notes "new source"')
    with exclusive(layout, "baseline"):
        con = _open(layout)
        try:
            ctx = AuditContext(layout, con)
            metrics = drift.collect_metrics(ctx)
            run_hash = (ctx.summary or {}).get("run_hash")
        finally:
            if con is not None:
                con.close()
        baseline.append_row(layout, resolve_recorded_at(args.recorded_at), metrics, run_hash,
                            notes=notes)
    print(f"accepted {len(metrics)} metrics as the baseline "
          f"(run_hash {str(run_hash)[:16]}): {notes}")
    print(f"appended to {baseline.baselines_path(layout).relative_to(layout.root)}")
    return EXIT_OK


def register(add) -> None:
    audit = add(
        "audit-full",
        "check every phase's guarantees on what is on disk, compare with the baseline "
        "(drift), write the Markdown and HTML audit reports",
        cmd_audit_full,
    )
    audit.add_argument("--drift-threshold", type=float, default=None,
                       help="relative move that warns (default: $DISTILL_DRIFT_THRESHOLD, "
                            "else 0.2 = 20%%)")
    audit.add_argument("--recorded-at", help="ISO time stamped on the report and the history "
                       "row (default: $DISTILL_RECORDED_AT, else now)")
    audit.add_argument("--no-history", action="store_true",
                       help="do not append this audit's metrics to data/_kb/audit_baselines.jsonl")

    accept = add(
        "baseline",
        "accept the current metrics as the drift baseline, with a note saying why",
        cmd_baseline,
    )
    accept.add_argument("--notes", required=True, help="why this state is the new normal")
    accept.add_argument("--recorded-at", help="ISO time stamped on the row "
                        "(default: $DISTILL_RECORDED_AT, else now)")
