"""The main job: sources to evidence, scores and exports, with a receipt.

Each phase is a `dbt build` of its folder of models (tests included, so the firewall and
the invariants stop a bad build before anything is published), then the tables are
written out as files.
"""

from __future__ import annotations

import csv
import os
import time
from datetime import UTC, datetime
from pathlib import Path

from distill import publish, receipts
from distill.errors import ConfigError
from distill.layout import PROJECT_DIR, Layout, thread_count
from distill.lock import exclusive
from distill.warehouse import connect, dbt_vars, require_success, run_dbt

PHASE_SELECTORS = {
    "materialize": ["+path:models/3_evidence"],
    "score": ["path:models/4_scoring", "path:seeds"],
    "export-sft": ["path:models/5_exports/sft_samples.sql"],
    "export-preference": ["path:models/5_exports/preference_pairs.sql"],
    "export-rag": ["path:models/5_exports/playbooks.sql", "path:models/6_retrieval"],
}


def known_formats() -> set[str]:
    with open(PROJECT_DIR / "seeds" / "source_formats.csv", newline="") as handle:
        return {row["source_format"] for row in csv.DictReader(handle)}


def check_knowledge_base(layout: Layout) -> list[str]:
    """Fail fast on bad configuration; return notes on what is merely missing."""
    thread_count()  # a bad DISTILL_THREADS fails here, before anything is written
    if not layout.root.is_dir():
        raise ConfigError(f"--root {layout.root} is not a folder")
    if not layout.kb.is_dir():
        raise ConfigError(
            f"no knowledge base at {layout.kb}: put the source streams there (see "
            f"docs/streams.md), or point --root at the folder that holds data/_kb"
        )
    notes: list[str] = []
    registry = layout.kb / "formats.csv"
    if registry.is_file():
        formats = known_formats()
        try:
            text = registry.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise ConfigError(f"{registry} is not UTF-8 text: {error}") from None
        lines = [
            line for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith("#")
        ]
        if not lines or [c.strip() for c in lines[0].split(",")] != ["glob", "source_format"]:
            raise ConfigError(f"{registry}: the first line must be the header `glob,source_format`")
        for number, row in enumerate(csv.reader(lines[1:]), start=2):
            if len(row) != 2:
                raise ConfigError(f"{registry}: entry {number} is not `glob,source_format`: {row}")
            if row[1].strip() not in formats:
                raise ConfigError(
                    f"{registry}: entry {number} names the format {row[1].strip()!r}, which "
                    f"does not exist; known formats: {', '.join(sorted(formats))}"
                )
    sources = sorted(
        p.relative_to(layout.kb).as_posix() for p in layout.kb.rglob("*.jsonl")
    )
    if not sources:
        notes.append(f"no source files (*.jsonl) under {layout.kb}: 0 rows")
    return notes


def new_run_id() -> str:
    """A folder name for the receipt: wall-clock time, which never enters the run_hash."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return f"{stamp}-{os.getpid()}"


PHASE_OF_FOLDER = {
    "1_intake": "materialize",
    "2_staging": "materialize",
    "3_evidence": "materialize",
    "4_scoring": "score",
    "5_exports": "export",
}


def build(layout: Layout, phases: list[str], extra_vars: dict | None = None) -> dict[str, float]:
    """Run dbt for the phases, in order; stop at the first that fails."""
    durations: dict[str, float] = {}
    for phase in phases:
        result = run_dbt(layout, "build", PHASE_SELECTORS[phase], extra_vars)
        require_success(result, f"dbt build of {phase}")
        durations[phase] = result.seconds
    return durations


def build_all(layout: Layout, extra_vars: dict | None = None) -> dict[str, float]:
    """One `dbt build` of the whole project: models and tests in dependency order."""
    result = run_dbt(layout, "build", [], extra_vars)
    require_success(result, "dbt build")
    durations = {"dbt_build": result.seconds}
    for node_path, seconds in result.node_seconds.items():
        phase = PHASE_OF_FOLDER.get(node_path.split("/")[0], "other")
        durations[f"dbt_{phase}"] = durations.get(f"dbt_{phase}", 0.0) + seconds
    return durations


def run_all(layout: Layout, recorded_at: str | None, extra_vars: dict | None = None) -> dict:
    """Build every phase, publish the whole set of files, write the receipt."""
    recorded = receipts.resolve_recorded_at(recorded_at)
    notes = check_knowledge_base(layout)
    with exclusive(layout, "run-all"):
        for note in notes:
            print(f"note: {note}")
        started = time.monotonic()
        durations = build_all(layout, extra_vars)
        return publish_with_receipt(layout, recorded, extra_vars, durations, started)


def publish_with_receipt(
    layout: Layout,
    recorded: str,
    extra_vars: dict | None,
    durations: dict[str, float],
    started: float,
) -> dict:
    """Write every output as one set, then the receipt that describes it."""
    run_id = new_run_id()
    outputs = publish.outputs_of()
    publish_started = time.monotonic()
    with connect(layout, read_only=False) as con:
        publish.publish(layout, con, outputs, run_id, os.environ.get("DISTILL_CRASH_AT"))
        durations["publish"] = time.monotonic() - publish_started
        durations["total"] = time.monotonic() - started
        summary = receipts.build_summary(
            layout, con, outputs, run_id, recorded, dbt_vars(layout, extra_vars), durations
        )
    path = receipts.write_summary(layout, summary)
    summary["_path"] = str(path)
    return summary


def run_phase(layout: Layout, phase: str, extra_vars: dict | None = None) -> list[Path]:
    """Build one phase and publish its files (one set per phase)."""
    check_knowledge_base(layout)
    if phase != "materialize" and not layout.warehouse.is_file():
        raise ConfigError(
            f"{phase} reads the evidence, and {layout.root} has none yet: run "
            f"`distill materialize --root {layout.root}` (or `distill run-all`) first"
        )
    with exclusive(layout, phase):
        build(layout, [phase], extra_vars)
        phase_name = {"materialize": "materialize", "score": "score"}.get(phase, phase)
        with connect(layout, read_only=False) as con:
            return publish.publish(layout, con, publish.outputs_of({phase_name}), new_run_id())
