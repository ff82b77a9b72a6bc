"""`distill audit-full`: every required check on what is on disk, named when it fails."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from tests.conftest import REAL_KB, RECORDED_AT, read_jsonl

from distill.audit_checks import CHECKS
from distill.cli import main

REPORT = Path("reports") / "distillation" / "phase8-full-audit-report.md"
SFT = Path("exports") / "sft" / "instruction_response.jsonl"
PREFERENCE = Path("exports") / "preference" / "chosen_rejected.jsonl"


def audit(root: Path, *extra: str) -> int:
    return main(["audit-full", "--root", str(root), "--recorded-at", RECORDED_AT, *extra])


def copy_built(source: Path, target: Path) -> Path:
    """A private copy of a built root, to change without rebuilding."""
    shutil.copytree(source, target)
    return target


def check_rows(root: Path) -> dict[str, list[str]]:
    """The report's check table: name -> [phase, required, result, numbers, detail]."""
    rows = {}
    for line in (root / REPORT).read_text().splitlines():
        if line.startswith("| `p"):
            cells = [c.strip() for c in line.strip("|").split(" | ")]
            rows[cells[0].strip("`")] = cells[1:]
    return rows


def test_at_least_16_required_checks_across_every_phase():
    required = [c for c in CHECKS if c.required]
    assert len(required) >= 16
    assert {c.phase for c in required} == {"P0", "P1", "P2", "P3", "P4", "P5", "P6", "P7"}
    assert len({c.name for c in CHECKS}) == len(CHECKS)


def test_the_real_sample_passes_every_required_check(real_root, tmp_path, capsys):
    root = copy_built(real_root, tmp_path / "root")
    assert audit(root) == 0
    rows = check_rows(root)
    assert {name for name, row in rows.items() if row[1] == "yes"} == {
        c.name for c in CHECKS if c.required
    }
    assert all(row[2] == "pass" for row in rows.values() if row[1] == "yes")
    summary_path = next((root / "reports" / "distillation").glob("*/summary.json"))
    summary = json.loads(summary_path.read_text())
    lines = summary["phases"]["materialize"]["in_lines"]
    assert f"lines={lines:,}" in rows["p2_conservation_files"][3]
    assert (root / REPORT.with_suffix(".html")).is_file()
    assert "27 required checks, 0 failed" in capsys.readouterr().out


def test_a_contaminated_sft_row_fails_the_firewall_by_name(real_root, tmp_path, capsys):
    root = copy_built(real_root, tmp_path / "root")
    rejected = next(r for r in read_jsonl(root / "data" / "scored-runs" / "scored_runs.jsonl")
                    if r["quality_score"] == "rejected")
    planted = dict(read_jsonl(root / SFT)[0])
    planted.update(source_run_id=rejected["run_id"], quality_score="accepted")
    with open(root / SFT, "a") as handle:
        handle.write(json.dumps(planted) + "\n")

    assert audit(root) == 1
    err = capsys.readouterr().err
    assert "p4_sft_firewall" in err
    assert check_rows(root)["p4_sft_firewall"][2] == "**FAIL**"
    assert "leaks=1" in check_rows(root)["p4_sft_firewall"][3]


def test_a_self_pair_fails_the_self_pair_check_by_name(real_root, tmp_path, capsys):
    root = copy_built(real_root, tmp_path / "root")
    pair = dict(read_jsonl(root / PREFERENCE)[0])
    pair.update(rejected_run_id=pair["chosen_run_id"], rejected=pair["chosen"])
    with open(root / PREFERENCE, "a") as handle:
        handle.write(json.dumps(pair) + "\n")

    assert audit(root) == 1
    assert "p4_preference_no_self_pairs" in capsys.readouterr().err
    row = check_rows(root)["p4_preference_no_self_pairs"]
    assert row[2] == "**FAIL**" and "same_run=1 same_text=1" in row[3]


def test_a_deleted_source_is_informational_and_does_not_fail(make_root, tmp_path, capsys):
    kb = tmp_path / "kb"
    shutil.copytree(REAL_KB, kb)
    shutil.rmtree(kb / "taubench-airline")
    root = make_root("no-taubench", kb=kb)

    assert audit(root) == 0
    rows = check_rows(root)
    assert rows["p0_source_streams"][1:3] == ["no", "info"]
    assert "taubench_trajectory" in rows["p0_source_streams"][4].split("missing")[1]
    assert all(row[2] == "pass" for row in rows.values() if row[1] == "yes")


def test_a_root_where_nothing_ran_is_reported_not_crashed(tmp_path, capsys):
    (tmp_path / "data" / "_kb").mkdir(parents=True)
    assert audit(tmp_path) == 1
    err = capsys.readouterr().err
    rows = check_rows(tmp_path)
    assert rows["p5_receipt_present"][2] == "**FAIL**"
    assert rows["p0_knowledge_base_present"][2] == "**FAIL**"
    assert "p5_receipt_present" in err and "p0_knowledge_base_present" in err


def test_a_missing_schema_module_fails_as_not_available(real_root, tmp_path, monkeypatch):
    import sys

    root = copy_built(real_root, tmp_path / "root")
    monkeypatch.setitem(sys.modules, "distill.schemas", None)
    assert audit(root, "--no-history") == 1
    rows = check_rows(root)
    for name in ("p1_records_validate", "p5_run_summary_validates"):
        assert rows[name][2] == "**FAIL**" and "not available" in rows[name][4]


def test_an_edited_export_breaks_the_receipt_check(real_root, tmp_path, capsys):
    root = copy_built(real_root, tmp_path / "root")
    playbooks = root / "exports" / "rag" / "playbooks.jsonl"
    playbooks.write_bytes(playbooks.read_bytes()[:-1])  # the same rows, one byte less
    assert audit(root, "--no-history") == 1
    assert "p5_outputs_match_receipt" in capsys.readouterr().err


@pytest.mark.parametrize("threshold", ["0", "-1", "abc"])
def test_a_bad_drift_threshold_is_bad_configuration(real_root, tmp_path, threshold, monkeypatch):
    monkeypatch.setenv("DISTILL_DRIFT_THRESHOLD", threshold)
    assert audit(copy_built(real_root, tmp_path / "root")) == 2
