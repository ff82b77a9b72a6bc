"""The RunSummary: a receipt of what one run read, did and wrote, and its run_hash.

What enters run_hash: the inputs (path, sha256, lines), the per-phase counts, the outputs
(path, sha256, rows), the configuration (dbt variables other than paths, the sha256 of
every seed and of the format registry), the scorer version, the schema version and
recorded_at. What stays out: run_id, durations, and anything else read off a clock, and
the versions of libraries (their effect shows in the output hashes). The same inputs with
the same recorded_at therefore give the same run_hash, whatever the thread count, the
order of files on disk, the time zone or the locale.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from distill import SCHEMA_VERSION, __version__
from distill.layout import PROJECT_DIR, Layout
from distill.publish import Output
from distill.warehouse import counts_by, scalar

HASHED_FIELDS = ("schema_version", "recorded_at", "config", "inputs", "phases", "outputs")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def count_lines(path: Path) -> int:
    """Lines as the materializer counts them: ending at \\n, a last unterminated one too."""
    count, last = 0, b""
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            count += block.count(b"\n")
            last = block[-1:]
    return count + (1 if last not in (b"", b"\n") else 0)


def canonical_json(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def run_hash(summary: dict) -> str:
    hashed = {key: summary.get(key) for key in HASHED_FIELDS}
    return hashlib.sha256(canonical_json(hashed).encode()).hexdigest()


def resolve_recorded_at(given: str | None) -> str:
    """--recorded-at, else DISTILL_RECORDED_AT, else now (then the hash differs per run)."""
    value = given or os.environ.get("DISTILL_RECORDED_AT")
    if not value:
        return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as error:
        from distill.errors import ConfigError

        raise ConfigError(
            f"recorded_at {value!r} is not an ISO 8601 time (e.g. 2026-01-01T00:00:00Z)"
        ) from error
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def configuration(dbt_variables: dict) -> dict:
    """The configuration that decides the outputs: variables, seeds, the registry."""
    seeds = {
        path.name: sha256_file(path) for path in sorted((PROJECT_DIR / "seeds").glob("*.csv"))
    }
    return {
        "vars": {k: v for k, v in sorted(dbt_variables.items()) if k != "kb_dir"},
        "seeds_sha256": seeds,
    }


def input_files(con: duckdb.DuckDBPyConnection) -> list[dict]:
    rows = con.execute(
        "select source_file, file_sha256, line_count, file_bytes, source_format, detected_by "
        "from intake.kb_files order by source_file"
    ).fetchall()
    return [
        {
            "path": path, "sha256": sha, "lines": int(lines), "bytes": int(size),
            "source_format": fmt, "detected_by": how,
        }
        for path, sha, lines, size, fmt, how in rows
    ]


def phase_counts(con: duckdb.DuckDBPyConnection) -> dict:
    """In, out, skipped by reason and per category, for each phase."""
    lines = int(scalar(con, "select count(*) from intake.kb_lines") or 0)
    evidence = int(scalar(con, "select count(*) from evidence.evidence") or 0)
    skips = counts_by(con, "select skip_reason, count(*) from evidence.distillation_skips group by 1")
    scored = int(scalar(con, "select count(*) from scoring.scored_runs") or 0)
    score_skips = counts_by(con, "select skip_reason, count(*) from scoring.scoring_skips group by 1")
    categories = counts_by(
        con, "select quality_score, count(*) from scoring.scored_runs group by 1"
    )
    sft = counts_by(con, "select quality_score, count(*) from exports.sft_samples group by 1")
    return {
        "materialize": {
            "in_lines": lines,
            "out_records": evidence,
            "skipped": sum(skips.values()),
            "skipped_by_reason": skips,
            "per_source_format": counts_by(
                con, "select source_format, count(*) from evidence.evidence group by 1"
            ),
            "normalized_lines": {
                "byte_order_mark": int(scalar(
                    con, "select count(*) from intake.kb_lines where has_bom") or 0),
                "crlf_ending": int(scalar(
                    con, "select count(*) from intake.kb_lines where has_crlf") or 0),
            },
        },
        "score": {
            "in": evidence,
            "out": scored,
            "skipped": sum(score_skips.values()),
            "skipped_by_reason": score_skips,
            "per_category": categories,
            "scorer_version": scalar(con, "select any_value(scorer_version) from scoring.scored_runs"),
        },
        "export_sft": {"in": scored, "out": sum(sft.values()), "per_category": sft},
        "export_preference": {
            "in": scored,
            "out": int(scalar(con, "select count(*) from exports.preference_pairs") or 0),
            "per_reason_kind": counts_by(
                con,
                "select split_part(r, ':', 1), count(*) from "
                "(select unnest(pair_reasons) as r from exports.preference_pairs) group by 1",
            ),
        },
        "export_rag": {
            "in": categories.get("accepted", 0),
            "out": int(scalar(con, "select count(*) from exports.playbooks") or 0),
            "per_task_kind": counts_by(
                con, "select task_kind, count(*) from exports.playbooks group by 1"
            ),
        },
    }


def output_files(layout: Layout, outputs: list[Output]) -> list[dict]:
    described = []
    for output in outputs:
        path = layout.root / output.relpath
        described.append({
            "path": output.relpath,
            "sha256": sha256_file(path),
            "rows": count_lines(path),
            "bytes": path.stat().st_size,
        })
    return described


def build_summary(
    layout: Layout,
    con: duckdb.DuckDBPyConnection,
    outputs: list[Output],
    run_id: str,
    recorded_at: str,
    dbt_variables: dict,
    durations: dict[str, float],
) -> dict:
    import dbt.version

    summary = {
        "schema_version": SCHEMA_VERSION,
        "run_id": run_id,
        "recorded_at": recorded_at,
        "versions": {
            "distill": __version__,
            "dbt_core": dbt.version.__version__,
            "duckdb": duckdb.__version__,
        },
        "config": configuration(dbt_variables),
        "inputs": input_files(con),
        "phases": phase_counts(con),
        "outputs": output_files(layout, outputs),
        "durations_seconds": {k: round(v, 3) for k, v in durations.items()},
    }
    summary["run_hash"] = run_hash(summary)
    return summary


def write_summary(layout: Layout, summary: dict) -> Path:
    folder = layout.reports_dir / summary["run_id"]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "summary.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(summary, indent=2, sort_keys=False, ensure_ascii=False) + "\n")
    os.replace(tmp, path)
    return path


def latest_summary(layout: Layout) -> Path | None:
    found = sorted(
        layout.reports_dir.glob("*/summary.json"), key=lambda p: (p.stat().st_mtime, p.name)
    )
    return found[-1] if found else None
