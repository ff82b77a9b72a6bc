"""The audit's history and its baseline: data/_kb/audit_baselines.jsonl.

Each audit appends one row with its metrics (`accepted: false`). An operator accepts the
current state as the new normal with `distill baseline --notes "why"`, which appends a row
with `accepted: true` and the notes; a row written by hand with a `notes` field counts as
accepted too, and one without `metrics` accepts the metrics of the row above it. The
baseline is the latest accepted row, or the first row when none was accepted. Rows are
schema-versioned (schema_version 1); a line that is not a usable row is reported and
skipped, never silently taken as a baseline.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from distill import SCHEMA_VERSION
from distill.layout import Layout

BASELINES_NAME = "audit_baselines.jsonl"


def baselines_path(layout: Layout):
    return layout.kb / BASELINES_NAME


@dataclass
class History:
    rows: list[dict] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    """One message per line that could not be used, naming its line number."""


@dataclass
class Baseline:
    metrics: dict[str, float]
    line: int
    recorded_at: str | None
    accepted: bool
    notes: str | None


def read_history(layout: Layout) -> History:
    history = History()
    path = baselines_path(layout)
    if not path.is_file():
        return history
    try:
        from distill.schemas import validate
    except ImportError:
        validate = None
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                row = json.loads(raw)
            except ValueError:
                history.problems.append(f"line {number}: not JSON")
                continue
            if not isinstance(row, dict) or row.get("schema_version") != SCHEMA_VERSION:
                history.problems.append(f"line {number}: not a schema_version 1 baseline row")
                continue
            if validate is not None and not _hand_written(row):
                messages = validate("audit_baseline", row)
                if messages:
                    history.problems.append(f"line {number}: {messages[0]}")
                    continue
            row["_line"] = number
            history.rows.append(row)
    return history


def _hand_written(row: dict) -> bool:
    """A row an operator wrote with notes, perhaps without `accepted` or `metrics`."""
    return bool(row.get("notes")) and "accepted" not in row


def _accepted(row: dict) -> bool:
    return row.get("accepted") is True or bool(row.get("notes"))


def _metrics_of(rows: list[dict], index: int) -> dict | None:
    for row in reversed(rows[: index + 1]):
        if isinstance(row.get("metrics"), dict):
            return row["metrics"]
    return None


def choose_baseline(history: History) -> Baseline | None:
    """The latest accepted row with metrics (its own or the row above's), else the first."""
    rows = history.rows
    for index in range(len(rows) - 1, -1, -1):
        if _accepted(rows[index]):
            metrics = _metrics_of(rows, index)
            if metrics is not None:
                row = rows[index]
                return Baseline(metrics, row["_line"], row.get("recorded_at"), True,
                                row.get("notes"))
    for row in rows:
        if isinstance(row.get("metrics"), dict):
            return Baseline(row["metrics"], row["_line"], row.get("recorded_at"), False, None)
    return None


def append_row(layout: Layout, recorded_at: str, metrics: dict[str, float],
               run_hash: str | None, notes: str | None = None) -> dict:
    """Append one row, a whole line in one write, so a crash never leaves half a row."""
    row: dict = {
        "schema_version": SCHEMA_VERSION,
        "recorded_at": recorded_at,
        "accepted": notes is not None,
        "run_hash": run_hash,
        "metrics": metrics,
    }
    if notes is not None:
        row["notes"] = notes
    path = baselines_path(layout)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(row, sort_keys=True, ensure_ascii=False) + "\n"
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(line)
    return row
