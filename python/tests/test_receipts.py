"""The receipt can be trusted: it validates, its validator names what is wrong, and its
run_hash moves with the inputs and the configuration, and with nothing else.

The invariance runs are separate processes (thread count, time zone and locale are
process-wide) on a small knowledge base cut from the real sample; they run at once.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from distill import receipts, schemas, warehouse
from distill.cli import main
from distill.layout import PROJECT_DIR, Layout
from distill.pipeline import run_all
from distill.publish import OUTPUTS

from small_kb import small_kb_files, write_kb

RECORDED_AT = "2026-01-01T00:00:00Z"
TMPFS = Path("/dev/shm")
"""A RAM file system lists a folder in the order its files were created (most disk file
systems list by a hash of the name), so roots there make "a different order on disk" real."""

INVARIANCE_RUNS = {
    "threads-1 UTC C files-in-order": {
        "DISTILL_THREADS": "1", "TZ": "UTC", "LC_ALL": "C", "reverse": False,
    },
    "threads-2 Los-Angeles C.UTF-8 files-reversed": {
        "DISTILL_THREADS": "2", "TZ": "America/Los_Angeles", "LC_ALL": "C.UTF-8",
        "reverse": True,
    },
    "threads-4 Los-Angeles C files-reversed": {
        "DISTILL_THREADS": "4", "TZ": "America/Los_Angeles", "LC_ALL": "C", "reverse": True,
    },
}
BASELINE = "threads-1 UTC C files-in-order"


def latest(root: Path) -> dict:
    path = receipts.latest_summary(Layout(root))
    assert path is not None, f"no receipt under {root}"
    return json.loads(path.read_text())


def new_root(parent: Path, name: str) -> Path:
    root = parent / name.replace(" ", "_")
    root.mkdir(parents=True)
    return root


@pytest.fixture(scope="session")
def scratch(tmp_path_factory):
    """Where the small roots go: a RAM file system when there is one."""
    if TMPFS.is_dir() and os.access(TMPFS, os.W_OK):
        folder = Path(tempfile.mkdtemp(prefix="distill-receipts-", dir=TMPFS))
        yield folder
        shutil.rmtree(folder, ignore_errors=True)
    else:
        yield tmp_path_factory.mktemp("receipts")


@pytest.fixture(scope="session")
def small_files() -> dict[str, bytes]:
    return small_kb_files()


@pytest.fixture(scope="session")
def invariance(scratch, small_files) -> dict[str, Path]:
    """One root per variant, each built by its own `distill run-all` process, all at once."""
    roots, running = {}, {}
    for name, variant in INVARIANCE_RUNS.items():
        root = new_root(scratch, name)
        write_kb(root, small_files, reverse=variant["reverse"])
        env = {k: v for k, v in os.environ.items() if k != "DISTILL_RECORDED_AT"}
        env.update({k: v for k, v in variant.items() if k != "reverse"}, LANG=variant["LC_ALL"])
        running[name] = subprocess.Popen(
            [sys.executable, "-m", "distill.cli", "run-all", "--root", str(root),
             "--recorded-at", RECORDED_AT],
            env=env, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        roots[name] = root
    for name, process in running.items():
        out, err = process.communicate(timeout=600)
        assert process.returncode == 0, f"{name}: exit {process.returncode}\n{err.decode()[-3000:]}"
        assert b"run_hash: " in out
    return roots


@pytest.fixture(scope="session")
def baseline(invariance) -> dict:
    return latest(invariance[BASELINE])


def project_copy(parent: Path) -> Path:
    """The dbt project, copied so that a test can change a threshold or a rule in it."""
    project = parent / "project"
    project.mkdir()
    for name in ("dbt_project.yml", "profiles.yml"):
        shutil.copy2(PROJECT_DIR / name, project / name)
    for name in ("models", "macros", "seeds", "tests"):
        if (PROJECT_DIR / name).is_dir():
            shutil.copytree(PROJECT_DIR / name, project / name)
    return project


def edit_csv(path: Path, key: str, row_key: str, changes: dict[str, str]) -> None:
    """Change one row of a seed, found by its key column, and nothing else."""
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
        fields = list(rows[0])
    found = [row for row in rows if row[key] == row_key]
    assert len(found) == 1, f"{path.name}: no single row {key}={row_key}"
    found[0].update(changes)
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(text.getvalue())


def differing(a: dict, b: dict, prefix: str = "") -> set[str]:
    """The paths at which two JSON values differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        found: set[str] = set()
        for key in sorted(set(a) | set(b)):
            found |= differing(a.get(key), b.get(key), f"{prefix}.{key}" if prefix else key)
        return found
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        found = set()
        for index, (x, y) in enumerate(zip(a, b, strict=True)):
            found |= differing(x, y, f"{prefix}[{index}]")
        return found
    return set() if a == b else {prefix}


# ---------------------------------------------------------------- a real run's receipt


def test_the_real_run_receipt_is_valid(real_summary):
    assert receipts.validate_summary(real_summary) == []
    assert real_summary["phases"]["materialize"]["in_lines"] == sum(
        i["lines"] for i in real_summary["inputs"]
    )
    assert [o["path"] for o in real_summary["outputs"]] == [o.relpath for o in OUTPUTS]


def test_the_real_run_receipt_names_the_configuration(real_summary):
    config = real_summary["config"]
    assert config["seeds_sha256"]["scoring_thresholds.csv"] == receipts.sha256_file(
        PROJECT_DIR / "seeds" / "scoring_thresholds.csv"
    )
    assert config["project_sha256"] == receipts.sha256_file(PROJECT_DIR / "dbt_project.yml")
    assert config["registry_sha256"] == receipts.sha256_file(
        PROJECT_DIR / "data" / "_kb" / "formats.csv"
    )
    assert "kb_dir" not in config["vars"]


DAMAGES = [
    ("missing run_hash", lambda s: s.pop("run_hash"), ["run_hash: is required"]),
    (
        "a count of the wrong type",
        lambda s: s["phases"]["score"].update(out="12"),
        ['phases.score.out: "12" is not of type integer'],
    ),
    (
        "an output without sha256",
        lambda s: s["outputs"][2].pop("sha256"),
        ["outputs[2].sha256: is required"],
    ),
    (
        "an input hash that is not one",
        lambda s: s["inputs"][0].update(sha256="abc"),
        ['inputs[0].sha256: "abc" does not match ^[0-9a-f]{64}$'],
    ),
    (
        "a category that does not exist",
        lambda s: s["phases"]["score"]["per_category"].update(excellent=3),
        [('phases.score.per_category: "excellent" is not one of '
         '["accepted", "partially_accepted", "rejected", "needs_human_review"]')],
    ),
    ("another schema version", lambda s: s.update(schema_version=2),
     ["schema_version: 2 is not 1"]),
    (
        "a field the schema does not know",
        lambda s: s["config"].update(operator="me"),
        ["config.operator: is not a field of this record"],
    ),
    (
        "no recorded_at",
        lambda s: s.pop("recorded_at"),
        ["recorded_at: is required"],
    ),
]


@pytest.mark.parametrize(
    ("damage", "expected"), [(d[1], d[2]) for d in DAMAGES], ids=[d[0] for d in DAMAGES]
)
def test_a_damaged_receipt_fails_naming_the_field(real_summary, damage, expected):
    summary = copy.deepcopy(real_summary)
    damage(summary)
    assert receipts.validate_summary(summary) == expected


def test_a_receipt_edited_after_the_run_fails_on_its_run_hash(real_summary):
    summary = copy.deepcopy(real_summary)
    summary["phases"]["score"]["per_category"]["accepted"] += 1
    problems = receipts.validate_summary(summary)
    assert len(problems) == 1
    assert problems[0].startswith(f"run_hash: {real_summary['run_hash']} is not the hash")


def test_what_stays_out_of_run_hash_can_change(real_summary):
    summary = copy.deepcopy(real_summary)
    summary["run_id"] = "20300101T000000000000Z-1"
    summary["durations_seconds"] = {"total": 999.0}
    summary["versions"]["duckdb"] = "9.9.9"
    assert receipts.run_hash(summary) == real_summary["run_hash"]
    assert receipts.validate_summary(summary) == []


# ---------------------------------------------------------------- distill receipts


def test_receipts_validate_exit_codes(real_root, tmp_path, capsys):
    assert main(["receipts", "--validate", "--root", str(real_root)]) == 0
    assert "valid: " in capsys.readouterr().out

    damaged = json.loads(receipts.latest_summary(Layout(real_root)).read_text())
    damaged["outputs"][0].pop("sha256")
    damaged["phases"]["materialize"]["in_lines"] = -1
    (tmp_path / "summary.json").write_text(json.dumps(damaged))
    assert main(["receipts", "--validate", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "outputs[0].sha256: is required" in err
    assert "phases.materialize.in_lines: -1 is less than the minimum of 0" in err

    (tmp_path / "broken.json").write_text('{"schema_version": 1,')
    assert main(["receipts", "--validate", str(tmp_path / "broken.json")]) == 2
    assert "is not JSON" in capsys.readouterr().err

    assert main(["receipts", "--validate", str(tmp_path / "absent.json")]) == 2
    empty = tmp_path / "empty-root"
    empty.mkdir()
    assert main(["receipts", "--root", str(empty)]) == 2
    assert "no receipt under" in capsys.readouterr().err


def test_receipts_shows_the_latest_run(real_root, real_summary, capsys):
    assert main(["receipts", "--root", str(real_root)]) == 0
    out = capsys.readouterr().out
    assert f"run_hash: {real_summary['run_hash']}" in out
    rows = {o["path"]: o["rows"] for o in real_summary["outputs"]}
    sft = rows["exports/sft/instruction_response.jsonl"]
    assert f"exports/sft/instruction_response.jsonl: {sft:,} rows" in out


# ---------------------------------------------------------------- run_hash: invariance


def test_run_hash_is_the_same_across_threads_file_order_time_zone_and_locale(invariance):
    summaries = {name: latest(root) for name, root in invariance.items()}
    hashed = {name: {k: s[k] for k in receipts.HASHED_FIELDS} for name, s in summaries.items()}
    moved = {name: differing(h, hashed[BASELINE]) for name, h in hashed.items()}
    assert moved == {name: set() for name in summaries}, "fields that moved the run_hash"
    assert len({s["run_hash"] for s in summaries.values()}) == 1
    assert len({s["run_id"] for s in summaries.values()}) == len(summaries)
    for summary in summaries.values():
        assert receipts.validate_summary(summary) == []


def test_files_were_really_created_in_another_order(invariance, scratch):
    if not str(scratch).startswith(str(TMPFS)):
        pytest.skip("no RAM file system: the folder listing does not follow creation order")
    listings = {
        name: os.listdir(root / "data" / "_kb" / "reflexion-coding")
        for name, root in invariance.items()
    }
    assert listings[BASELINE] != listings["threads-2 Los-Angeles C.UTF-8 files-reversed"]


def test_exports_are_byte_identical_across_those_runs(invariance, baseline):
    expected = {o["path"]: o["sha256"] for o in baseline["outputs"]}
    for name, root in invariance.items():
        on_disk = {o.relpath: receipts.sha256_file(root / o.relpath) for o in OUTPUTS}
        assert on_disk == expected, name


def test_the_small_run_writes_every_kind_of_record_and_each_validates(invariance, baseline):
    rows = {o["path"]: o["rows"] for o in baseline["outputs"]}
    assert all(rows[o.relpath] > 0 for o in OUTPUTS), rows
    assert baseline["phases"]["materialize"]["skipped_by_reason"] == {
        "blank_line": 1, "invalid_json": 1,
    }
    root = invariance[BASELINE]
    for output in OUTPUTS:
        record_type = schemas.RECORD_TYPE_OF_TABLE[output.relation]
        assert schemas.validate_jsonl(record_type, root / output.relpath) == [], output.relpath


# ---------------------------------------------------------------- run_hash: what moves it


def test_one_changed_input_byte_changes_run_hash(scratch, small_files, baseline):
    files = dict(small_files)
    target = "reflexion-coding/simple_mbpp_py.jsonl"
    at = files[target].index(b"return")
    files[target] = files[target][:at] + b"R" + files[target][at + 1:]  # one byte, valid JSON
    root = new_root(scratch, "one-byte")
    write_kb(root, files)
    changed = run_all(Layout(root), RECORDED_AT)

    assert changed["run_hash"] != baseline["run_hash"]
    changed_inputs = {
        i["path"] for i, j in zip(changed["inputs"], baseline["inputs"], strict=True) if i != j
    }
    assert changed_inputs == {target}
    assert changed["config"] == baseline["config"]


def test_one_changed_threshold_changes_run_hash(scratch, small_files, baseline, monkeypatch):
    project = project_copy(new_root(scratch, "threshold-project"))
    edit_csv(project / "seeds" / "scoring_thresholds.csv", "threshold", "score_accept_min",
             {"value": "0.7"})
    monkeypatch.setattr(warehouse, "PROJECT_DIR", project)
    root = new_root(scratch, "threshold")
    write_kb(root, small_files)
    changed = run_all(Layout(root), RECORDED_AT)

    assert changed["run_hash"] != baseline["run_hash"]
    assert differing(changed["config"], baseline["config"]) == {
        "seeds_sha256.scoring_thresholds.csv"
    }
    assert changed["inputs"] == baseline["inputs"]
    assert changed["phases"]["score"]["scorer_version"] != (
        baseline["phases"]["score"]["scorer_version"]
    )


def test_one_changed_rule_changes_run_hash(scratch, small_files, baseline, monkeypatch):
    """A rule's category moves: a partial signal now rejects the run."""
    project = project_copy(new_root(scratch, "rule-project"))
    edit_csv(project / "seeds" / "scoring_rules.csv", "rule_id", "partial_signal",
             {"quality_score": "rejected"})
    monkeypatch.setattr(warehouse, "PROJECT_DIR", project)
    root = new_root(scratch, "rule")
    write_kb(root, small_files)
    changed = run_all(Layout(root), RECORDED_AT)

    assert changed["run_hash"] != baseline["run_hash"]
    assert differing(changed["config"], baseline["config"]) == {"seeds_sha256.scoring_rules.csv"}
    assert changed["phases"]["score"]["scorer_version"] != (
        baseline["phases"]["score"]["scorer_version"]
    )


def test_a_changed_rule_in_sql_a_variable_or_the_registry_changes_the_configuration(
    tmp_path, baseline
):
    """The SQL of a rule, a dbt variable and the registry each enter config, so run_hash."""
    project = project_copy(tmp_path)
    kb = write_kb(tmp_path / "root", {"formats.csv": b"glob,source_format\n"})
    start = receipts.configuration({}, kb, project)

    scored_runs = project / "models" / "4_scoring" / "scored_runs.sql"
    rule = "'holds': partial_sources > 0"
    assert rule in scored_runs.read_text(), "the partial_signal rule is written differently"
    scored_runs.write_text(scored_runs.read_text().replace(rule, "'holds': partial_sources > 1"))
    after_sql = receipts.configuration({}, kb, project)
    assert differing(after_sql, start) == {"sql_sha256.models"}

    with_var = receipts.configuration({"max_pairs_per_task": 3}, kb, project)
    assert differing(with_var, after_sql) == {"vars.max_pairs_per_task"}

    (kb / "formats.csv").write_bytes(b"glob,source_format\nx/*.jsonl,reflexion_run\n")
    assert differing(receipts.configuration({}, kb, project), after_sql) == {"registry_sha256"}

    for config in (after_sql, with_var):
        assert receipts.run_hash({**baseline, "config": config}) != receipts.run_hash(
            {**baseline, "config": start}
        )
