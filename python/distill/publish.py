"""Writing the warehouse's tables out as JSONL files, all of a set or none.

A new set is written beside the old one (warehouse/publish/<name>/), flushed to disk, and
committed by writing its manifest; only then are the files moved into place, each with an
atomic rename. A crash before the commit leaves the previous files untouched and the
half-written set is discarded by the next command; a crash after it is completed by the
next command (roll forward), so the files on disk are always one whole set or become one.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

from distill.layout import Layout

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Output:
    """One published file: the table it comes from and the total order it is written in."""

    relpath: str
    relation: str
    order_by: str
    phase: str


OUTPUTS: tuple[Output, ...] = (
    Output("data/evidence/evidence.jsonl", "evidence.evidence", "evidence_id", "materialize"),
    Output(
        "data/_kb/distillation_skips.jsonl",
        "evidence.distillation_skips",
        "source_file, source_line",
        "materialize",
    ),
    Output("data/scored-runs/scored_runs.jsonl", "scoring.scored_runs", "run_id", "score"),
    Output("data/_kb/scoring_skips.jsonl", "scoring.scoring_skips", "run_id", "score"),
    Output("exports/sft/instruction_response.jsonl", "exports.sft_samples", "id", "export-sft"),
    Output(
        "exports/preference/chosen_rejected.jsonl",
        "exports.preference_pairs",
        "id",
        "export-preference",
    ),
    Output("exports/rag/playbooks.jsonl", "exports.playbooks", "playbook_id", "export-rag"),
)


def outputs_of(phases: set[str] | None = None) -> list[Output]:
    return [o for o in OUTPUTS if phases is None or o.phase in phases]


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def recover(layout: Layout) -> list[str]:
    """Finish a committed set a crash interrupted; discard an uncommitted one.

    Returns what it did, one line per set, for the command to print.
    """
    done: list[str] = []
    if not layout.staging_area.is_dir():
        return done
    for pending in sorted(layout.staging_area.iterdir()):
        manifest = pending / MANIFEST
        if manifest.is_file():
            moved = _move_into_place(layout, pending, json.loads(manifest.read_text()))
            done.append(f"completed an interrupted publish of {moved} file(s)")
        else:
            done.append("discarded an unfinished publish")
        shutil.rmtree(pending, ignore_errors=True)
    return done


def _move_into_place(layout: Layout, pending: Path, relpaths: list[str]) -> int:
    moved = 0
    for relpath in relpaths:
        staged = pending / relpath
        if not staged.exists():
            continue  # moved before the crash
        target = layout.root / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged, target)
        moved += 1
    for folder in {(layout.root / r).parent for r in relpaths}:
        _fsync(folder)
    return moved


def write_jsonl(con: duckdb.DuckDBPyConnection, output: Output, path: Path) -> None:
    """One JSON object per line, in the output's total order, as DuckDB serialises it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    query = f"select * from {output.relation} order by {output.order_by}"
    con.execute(f"copy ({query}) to '{path}' (format json)")
    if not path.exists():  # an empty result writes no file on some versions
        path.write_bytes(b"")


def publish(layout: Layout, con: duckdb.DuckDBPyConnection, outputs: list[Output],
            name: str, crash_after: str | None = None) -> list[Path]:
    """Write `outputs` from the warehouse and replace the previous files as one set.

    crash_after names a point ("written", "committed", "moved-1") at which the process
    kills itself; the crash tests use it to prove the guarantees above.
    """
    recover(layout)
    pending = layout.staging_area / name
    shutil.rmtree(pending, ignore_errors=True)
    pending.mkdir(parents=True)

    for output in outputs:
        staged = pending / output.relpath
        write_jsonl(con, output, staged)
        _fsync(staged)
    _crash_point(crash_after, "written")

    relpaths = [o.relpath for o in outputs]
    manifest = pending / MANIFEST
    tmp = manifest.with_suffix(".tmp")
    tmp.write_text(json.dumps(relpaths))
    _fsync(tmp)
    os.replace(tmp, manifest)
    _fsync(pending)
    _crash_point(crash_after, "committed")

    for index, relpath in enumerate(relpaths, start=1):
        _move_into_place(layout, pending, [relpath])
        _crash_point(crash_after, f"moved-{index}")
    shutil.rmtree(pending, ignore_errors=True)
    return [layout.root / r for r in relpaths]


def _crash_point(wanted: str | None, here: str) -> None:
    if wanted == here:
        os._exit(137)
