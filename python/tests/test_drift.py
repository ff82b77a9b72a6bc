"""Drift: the audit compares its metrics with the accepted baseline and warns past 20%."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest
from tests.conftest import REAL_KB, RECORDED_AT, read_jsonl

from distill.baseline import History, choose_baseline
from distill.cli import main
from distill.drift import WARN, compare, relative_move

BASELINES = Path("data") / "_kb" / "audit_baselines.jsonl"
REPORT = Path("reports") / "distillation" / "phase8-full-audit-report.md"


def audit(root: Path, *extra: str) -> int:
    return main(["audit-full", "--root", str(root), "--recorded-at", RECORDED_AT, *extra])


def drift_rows(root: Path) -> dict[str, list[str]]:
    text = (root / REPORT).read_text().split("## Drift", 1)[1]
    rows = {}
    for line in text.splitlines():
        if line.startswith("| `"):
            cells = [c.strip() for c in line.strip("|").split(" | ")]
            rows[cells[0].strip("`")] = cells[1:]
    return rows


def test_relative_move_and_the_threshold():
    assert relative_move(100, 120) == pytest.approx(0.2)
    assert relative_move(100, 79) == pytest.approx(0.21)
    assert relative_move(0, 0) == 0.0
    assert math.isinf(relative_move(0, 5))
    rows = {r.metric: r for r in compare({"a": 121, "b": 119, "c": 3}, {"a": 100, "b": 100,
                                                                          "d": 4}, 0.2)}
    assert [rows[k].status for k in "abcd"] == [WARN, "ok", WARN, WARN]
    assert compare({"a": 121}, {"a": 100}, 0.25)[0].status == "ok"


def test_the_baseline_is_the_latest_accepted_row_else_the_first():
    audits = [{"metrics": {"x": n}, "accepted": False, "_line": n} for n in (1, 2, 3)]
    assert choose_baseline(History(rows=audits)).metrics == {"x": 1}

    accepted = {"metrics": {"x": 9}, "accepted": True, "notes": "new source", "_line": 4}
    chosen = choose_baseline(History(rows=[*audits, accepted, audits[0] | {"_line": 5}]))
    assert (chosen.metrics, chosen.line, chosen.notes) == ({"x": 9}, 4, "new source")

    by_hand = {"notes": "accept the last audit", "_line": 6}
    chosen = choose_baseline(History(rows=[*audits, by_hand]))
    assert (chosen.metrics, chosen.line) == ({"x": 3}, 6)
    assert choose_baseline(History()) is None


@pytest.fixture(scope="module")
def audited_real(real_root, tmp_path_factory) -> Path:
    """A copy of the real root, audited once: its history holds one row, the baseline."""
    root = tmp_path_factory.mktemp("drift") / "root"
    shutil.copytree(real_root, root)
    assert audit(root) == 0
    return root


def test_the_first_audit_becomes_the_baseline_and_a_rerun_does_not_drift(audited_real):
    history = read_jsonl(audited_real / BASELINES)
    assert len(history) == 1
    assert history[0]["schema_version"] == 1 and history[0]["accepted"] is False
    summary = json.loads(next((audited_real / "reports" / "distillation").glob(
        "*/summary.json")).read_text())
    assert history[0]["metrics"]["rows.input_lines"] == summary["phases"]["materialize"][
        "in_lines"]
    assert history[0]["run_hash"] == summary["run_hash"]

    assert audit(audited_real) == 0
    assert len(read_jsonl(audited_real / BASELINES)) == 2
    assert {row[3] for row in drift_rows(audited_real).values()} == {"ok"}


def test_doubling_a_source_makes_the_drift_table_warn(audited_real, make_root, tmp_path,
                                                      capsys):
    kb = tmp_path / "kb"
    shutil.copytree(REAL_KB, kb)
    doubled = kb / "reflexion-coding" / "simple_mbpp_py.jsonl"
    doubled.write_bytes(doubled.read_bytes() * 2)
    root = make_root("doubled", kb=kb)
    shutil.copy(audited_real / BASELINES, root / BASELINES)

    assert audit(root) == 0  # drift warns, it never fails
    rows = drift_rows(root)
    base_lines = read_jsonl(audited_real / BASELINES)[0]["metrics"]["rows.input_lines"]
    added = doubled.read_bytes().count(b"\n") // 2
    assert rows["rows.input_lines"][:2] == [f"{base_lines:,}", f"{base_lines + added:,}"]
    assert rows["rows.input_lines"][3] == "warn"
    assert rows["skip_rate.materialize.duplicate_run_id"][2:] == ["new or gone", "warn"]
    assert "p8_drift" in capsys.readouterr().out


def test_an_accepted_baseline_silences_the_drift(audited_real, tmp_path):
    root = tmp_path / "root"
    shutil.copytree(audited_real, root)
    history = read_jsonl(root / BASELINES)
    shifted = dict(history[0]["metrics"])
    shifted["exports.sft_samples"] = shifted["exports.sft_samples"] * 2
    with open(root / BASELINES, "a") as handle:
        handle.write(json.dumps({"schema_version": 1, "recorded_at": RECORDED_AT,
                                 "accepted": True, "notes": "twice the SFT rows",
                                 "metrics": shifted}) + "\n")
    assert audit(root) == 0
    assert drift_rows(root)["exports.sft_samples"][3] == "warn"

    assert main(["baseline", "--root", str(root), "--notes", "the real sample as shipped",
                 "--recorded-at", RECORDED_AT]) == 0
    last = read_jsonl(root / BASELINES)[-1]
    assert last["accepted"] is True and last["notes"] == "the real sample as shipped"
    assert audit(root) == 0
    assert drift_rows(root)["exports.sft_samples"][3] == "ok"
    assert "accepted: the real sample as shipped" in (root / REPORT).read_text()


def test_baseline_without_notes_is_refused(audited_real, capsys):
    assert main(["baseline", "--root", str(audited_real), "--notes", "  "]) == 2
    assert "--notes must say why" in capsys.readouterr().err
