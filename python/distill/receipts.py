"""The RunSummary: a receipt of what one run read, did and wrote, and its run_hash.

run_hash is the sha256 of the canonical JSON (sorted keys, no spaces, UTF-8) of these
fields of the summary, and nothing else (HASHED_FIELDS):

- `inputs`: every source file's path (relative to the knowledge base), sha256, lines,
  bytes and the format that read it. One changed byte changes its sha256.
- `outputs`: every written file's path (relative to the root), sha256, rows and bytes.
- `phases`: the counts of each phase (in, out, skipped by reason, per category), and the
  scorer version, which the scoring model derives from its rules and thresholds.
- `config`: what decides the outputs besides the inputs: the dbt variables given on the
  command line (paths left out), the sha256 of dbt_project.yml (the variables' defaults),
  of every seed (thresholds, rule order, skip reasons, formats), of the SQL of models/ and
  macros/ (every rule is SQL), and of the knowledge base's format registry.
- `schema_version` and `recorded_at` (given with --recorded-at or DISTILL_RECORDED_AT).

What stays out: `run_id` (a folder name read off the clock), `durations_seconds`, the
library `versions` (their effect, if any, shows in the output hashes), the thread count,
the time zone, the locale, the order of files on disk and the absolute path of the root.
Nothing is seeded at random. The same inputs, configuration and recorded_at therefore give
the same run_hash; docs/receipts.md says the same for operators, and the receipt tests
prove it across thread counts, file orders, time zones and locales.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from distill import SCHEMA_VERSION, __version__, schemas, warehouse
from distill.errors import ConfigError
from distill.layout import Layout
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
        return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as error:
        raise ConfigError(
            f"recorded_at {value!r} is not an ISO 8601 time (e.g. 2026-01-01T00:00:00Z)"
        ) from error
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        parsed = parsed.astimezone(UTC)
    except OverflowError:
        parsed = None
    if parsed is None or not 1000 <= parsed.year <= 9999:
        raise ConfigError(
            f"recorded_at {value!r} is outside the years 1000 to 9999 a receipt can state"
        )
    return parsed.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _tree_sha256(folder: Path, pattern: str) -> str:
    """One sha256 over every matching file under folder: relative path and content."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob(pattern), key=lambda p: p.relative_to(folder).as_posix()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(sha256_file(path).encode() + b"\n")
    return digest.hexdigest()


def configuration(dbt_variables: dict, kb: Path | None = None,
                  project_dir: Path | None = None) -> dict:
    """The configuration that decides the outputs: variables, seeds, SQL, the registry.

    project_dir defaults to the dbt project the pipeline runs (read at call time, so that
    both always name the same one); kb is the knowledge base whose formats.csv is the
    registry.
    """
    project = project_dir or warehouse.PROJECT_DIR
    registry = kb / "formats.csv" if kb is not None else None
    return {
        "vars": {k: v for k, v in sorted(dbt_variables.items()) if k != "kb_dir"},
        "project_sha256": sha256_file(project / "dbt_project.yml"),
        "seeds_sha256": {
            path.name: sha256_file(path) for path in sorted((project / "seeds").glob("*.csv"))
        },
        "sql_sha256": {
            "models": _tree_sha256(project / "models", "*.sql"),
            "macros": _tree_sha256(project / "macros", "*.sql"),
        },
        "registry_sha256": (
            sha256_file(registry) if registry is not None and registry.is_file() else None
        ),
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
    skips = counts_by(
        con, "select skip_reason, count(*) from evidence.distillation_skips group by 1"
    )
    scored = int(scalar(con, "select count(*) from scoring.scored_runs") or 0)
    score_skips = counts_by(
        con, "select skip_reason, count(*) from scoring.scoring_skips group by 1"
    )
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
            "redactions": counts_by(con, "select kind, redactions from evidence.redactions"),
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
            "scorer_version": scalar(
                con, "select any_value(scorer_version) from scoring.scored_runs"
            ),
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
        "config": configuration(dbt_variables, layout.kb),
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


def read_summary(path: Path) -> object:
    """The JSON of a receipt; a file that cannot be read or parsed is a usage error."""
    try:
        return json.loads(Path(path).read_bytes())
    except OSError as error:
        raise ConfigError(f"cannot read the receipt {path}: {error.strerror or error}") from error
    except (ValueError, RecursionError) as error:
        raise ConfigError(f"the receipt {path} is not JSON a receipt can be: {error}") from None


def validate_summary(summary: object) -> list[str]:
    """What is wrong with a receipt, one message per field; [] when it can be trusted.

    Beyond the RunSummary schema, the run_hash must be the hash of the fields it covers:
    a receipt edited after the run, or pasted from another run, fails here. A receipt that
    breaks the schema is reported by its failing fields alone.
    """
    problems = schemas.validate("run_summary", summary)
    if not problems:
        given, expected = summary["run_hash"], run_hash(summary)
        if given != expected:
            problems.append(
                f"run_hash: {given} is not the hash of the receipt's hashed fields "
                f"({expected}): it was edited after the run or belongs to another one"
            )
    return problems
