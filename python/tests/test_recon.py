"""`distill recon` profiles every source file and stamps the report with what it read."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from tests.conftest import REAL_KB, RECORDED_AT

from distill.cli import main
from distill.recon import RECON_PATH, recorded_inputs

RUNS = (
    # a run with every field
    b'{"run_id": "r1", "task_id": "t1", "task": "Add two numbers.", "output": "3", '
    b'"model": "m-a"}\n'
    # model null: counts as null for `model`
    b'{"run_id": "r2", "task_id": "t1", "task": "Add two numbers.", "output": "4", '
    b'"model": null}\n'
    # model absent, task_id a number: a second type for `task_id`
    b'{"run_id": "r3", "task_id": 7, "task": "Add two numbers.", "output": "5"}\n'
    # unreadable: invalid JSON, then a blank line
    b'{"run_id": "r4", "task_id": \n'
    b'   \n'
)


@pytest.fixture(scope="module")
def small_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("recon-small")
    kb = root / "data" / "_kb" / "canonical"
    kb.mkdir(parents=True)
    (kb / "runs.jsonl").write_bytes(RUNS)
    assert main(["recon", "--root", str(root), "--recorded-at", RECORDED_AT]) == 0
    return root


def _key_rows(report: str, section: str) -> dict[str, list[str]]:
    body = report.split(f"## `{section}`", 1)[1]
    rows = {}
    for line in body.splitlines():
        match = re.match(r"^\| `([^`]+)` \| (.*) \|$", line)
        if match:
            rows[match[1]] = [cell.strip() for cell in match[2].split("|")]
    return rows


def test_reports_rows_unreadable_lines_types_and_null_rates(small_root):
    report = (small_root / RECON_PATH).read_text()
    assert "| `canonical/runs.jsonl` | canonical_runs | keys | 5 | 3 | " \
           "blank_line 1, invalid_json 1 | 5 |" in report

    keys = _key_rows(report, "canonical/runs.jsonl")
    assert keys["model"] == ["string 1", "2", "2", "0.667"]
    assert keys["task_id"] == ["integer 1, string 2", "3", "0", "0.000"]
    assert keys["run_id"] == ["string 3", "3", "0", "0.000"]


def test_stamps_recorded_at_and_the_sha256_of_each_input(small_root):
    report = (small_root / RECON_PATH).read_text()
    assert "- recorded_at: `2026-01-01T00:00:00.000Z`" in report
    sha = hashlib.sha256(RUNS).hexdigest()
    assert recorded_inputs(small_root / RECON_PATH) == {"canonical/runs.jsonl": sha}
    digest = hashlib.sha256(f"canonical/runs.jsonl\t{sha}\n".encode()).hexdigest()
    assert f"- inputs_sha256: `{digest}`" in report


def test_same_inputs_and_recorded_at_give_the_same_report(small_root):
    first = (small_root / RECON_PATH).read_bytes()
    assert main(["recon", "--root", str(small_root), "--recorded-at", RECORDED_AT]) == 0
    assert (small_root / RECON_PATH).read_bytes() == first


def test_profiles_every_file_of_the_real_sample_with_its_registered_format(make_root):
    root = make_root("recon-real", build=False)
    assert main(["recon", "--root", str(root), "--recorded-at", RECORDED_AT]) == 0
    recorded = recorded_inputs(root / RECON_PATH)

    on_disk = {
        p.relative_to(REAL_KB).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in REAL_KB.rglob("*.jsonl")
        if p.name not in ("distillation_skips.jsonl", "scoring_skips.jsonl",
                          "audit_baselines.jsonl") and not p.name.startswith("replay_runs")
    }
    assert recorded == on_disk
    report = (root / RECON_PATH).read_text()
    question = (REAL_KB / "mtbench-phi3" / "question.jsonl").read_bytes().count(b"\n")
    assert (f"| `mtbench-phi3/question.jsonl` | mtbench_question | registry | {question} | "
            f"{question} | none |") in report
    assert "| `taubench-airline/gpt-4o-airline.jsonl` | taubench_trajectory | registry |" in report


def test_a_root_without_a_knowledge_base_gets_a_report_saying_so(tmp_path):
    assert main(["recon", "--root", str(tmp_path), "--recorded-at", RECORDED_AT]) == 0
    report = (tmp_path / RECON_PATH).read_text()
    assert "There is no knowledge-base folder: every stream is missing (0 rows)." in report
    assert recorded_inputs(tmp_path / RECON_PATH) == {}
