"""Writing the warehouse's tables out as JSONL files, replaced as one set.

Every set of outputs is written whole into its own folder, warehouse/published/<name>/,
and flushed to disk. The paths users read (exports/sft/instruction_response.jsonl, ...)
are fixed symbolic links into warehouse/published/current/, and `current` is itself a
link to one set's folder. Publishing a set is one atomic rename of `current`: a crash or
a kill at any moment leaves either the previous set or the new one, each whole and
readable -- never a mix, never a half-written file. Folders no longer current are
removed by the next publish.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

from distill.layout import Layout

CURRENT = "current"


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


def published_dir(layout: Layout) -> Path:
    return layout.warehouse_dir / "published"


def fsync_path(path: Path) -> None:
    """Flush a file's or a folder's entries to disk, so a rename that follows is durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_jsonl(con: duckdb.DuckDBPyConnection, output: Output, path: Path) -> None:
    """One JSON object per line, in the output's total order, as DuckDB serialises it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    query = f"select * from {output.relation} order by {output.order_by}"
    target = str(path).replace("'", "''")
    con.execute(f"copy ({query}) to '{target}' (format json)")
    if not path.exists():  # an empty result writes no file on some versions
        path.write_bytes(b"")


def _link_fixed_paths(layout: Layout) -> None:
    """Make each user-facing path a link into current/, once and for all.

    A path that is still a regular file (a root written before links were used) is first
    copied into the current set, so the swap to a link shows the same bytes.
    """
    current = published_dir(layout) / CURRENT
    regular = [o for o in OUTPUTS if (layout.root / o.relpath).is_file()
               and not (layout.root / o.relpath).is_symlink()]
    if regular and not current.exists():
        # the files a root had before it was published through links become its first set
        first = published_dir(layout) / "before-links"
        for output in regular:
            (first / output.relpath).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(layout.root / output.relpath, first / output.relpath)
        os.symlink(first.name, current)
    for output in OUTPUTS:
        fixed = layout.root / output.relpath
        target = os.path.relpath(current / output.relpath, fixed.parent)
        if fixed.is_symlink() and os.readlink(fixed) == target:
            continue
        fixed.parent.mkdir(parents=True, exist_ok=True)
        if fixed.is_file() and not fixed.is_symlink() and current.exists():
            kept = current / output.relpath
            if not kept.exists():
                kept.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(fixed, kept)
        tmp = fixed.with_name(fixed.name + ".link-tmp")
        if tmp.is_symlink() or tmp.exists():
            tmp.unlink()
        os.symlink(target, tmp)
        os.replace(tmp, fixed)


def _carry_over(layout: Layout, new_set: Path, relpaths: set[str]) -> None:
    """Give a partial publish the rest of the current set, so every set is whole."""
    current = published_dir(layout) / CURRENT
    for output in OUTPUTS:
        if output.relpath in relpaths:
            continue
        old = current / output.relpath
        if not old.exists():
            continue
        copy = new_set / output.relpath
        copy.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(old, copy)
        except OSError:
            shutil.copy2(old, copy)


def _remove_stale_sets(layout: Layout) -> None:
    folder = published_dir(layout)
    current = folder / CURRENT
    keep = os.readlink(current) if current.is_symlink() else None
    for entry in folder.iterdir():
        if entry.name == CURRENT or entry.name == keep:
            continue
        if entry.is_symlink() or entry.is_file():
            entry.unlink()
        else:
            shutil.rmtree(entry, ignore_errors=True)


def publish(layout: Layout, con: duckdb.DuckDBPyConnection, outputs: list[Output],
            name: str, crash_after: str | None = None) -> list[Path]:
    """Write `outputs` from the warehouse and make them, with the rest of the set, current.

    crash_after names a point ("links", "written", "swapped") at which the process kills
    itself; the crash tests use it to prove the guarantee above at each step.
    """
    folder = published_dir(layout)
    folder.mkdir(parents=True, exist_ok=True)
    _link_fixed_paths(layout)
    _crash_point(crash_after, "links")

    new_set = folder / name
    shutil.rmtree(new_set, ignore_errors=True)
    new_set.mkdir()
    for output in outputs:
        path = new_set / output.relpath
        write_jsonl(con, output, path)
        fsync_path(path)
    _carry_over(layout, new_set, {o.relpath for o in outputs})
    for directory in sorted({p.parent for p in new_set.rglob("*")} | {new_set}):
        fsync_path(directory)
    _crash_point(crash_after, "written")

    link = folder / (CURRENT + ".tmp")
    if link.is_symlink() or link.exists():
        link.unlink()
    os.symlink(name, link)
    os.replace(link, folder / CURRENT)
    fsync_path(folder)
    _crash_point(crash_after, "swapped")

    _remove_stale_sets(layout)
    return [layout.root / o.relpath for o in outputs]


def _crash_point(wanted: str | None, here: str) -> None:
    if wanted == here:
        os._exit(137)
