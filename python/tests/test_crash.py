"""A crash loses nothing, and two runs on one root cannot corrupt it.

run-all is killed (SIGKILL, no clean-up) at each step of publishing and in the middle of
the dbt build; after each kill the seven output files must be one whole set -- all the
previous one, or all the new one -- and a rerun must complete.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from distill.layout import PROJECT_DIR, Layout
from distill.pipeline import run_all
from distill.publish import OUTPUTS

from conftest import FIXTURE_KB, RECORDED_AT

SMALL_STREAMS = ("canonical/runs.jsonl", "canonical/checks.jsonl", "canonical/reviews.jsonl",
                 "canonical/comparisons.jsonl")


def output_hashes(root: Path) -> dict[str, str]:
    return {o.relpath: hashlib.sha256((root / o.relpath).read_bytes()).hexdigest()
            for o in OUTPUTS}


def start_run_all(root: Path, crash_at: str | None = None) -> subprocess.Popen:
    env = {**os.environ, "DISTILL_RECORDED_AT": RECORDED_AT,
           "PYTHONPATH": str(PROJECT_DIR / "python")}
    env.pop("DISTILL_CRASH_AT", None)
    if crash_at:
        env["DISTILL_CRASH_AT"] = crash_at
    return subprocess.Popen(
        [sys.executable, "-m", "distill.cli", "run-all", "--root", str(root)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )


def add_a_run(root: Path, number: int) -> None:
    """Change the input so the next set differs from the previous one."""
    line = json.dumps({"run_id": f"fx-added-{number}", "task_id": "t-added",
                       "task": "Say hi.", "output": f"hi {number}"})
    with open(root / "data/_kb/canonical/runs.jsonl", "a") as handle:
        handle.write(line + "\n")


@pytest.fixture()
def small_root(tmp_path) -> Path:
    for name in SMALL_STREAMS:
        target = tmp_path / "data" / "_kb" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(FIXTURE_KB / name, target)
    run_all(Layout(tmp_path), RECORDED_AT)
    return tmp_path


@pytest.mark.parametrize("crash_at, survivor", [
    ("links", "previous"), ("written", "previous"), ("swapped", "new"),
])
def test_a_kill_while_publishing_leaves_one_whole_set(small_root, crash_at, survivor):
    previous = output_hashes(small_root)
    add_a_run(small_root, 1)

    crashed = start_run_all(small_root, crash_at)
    _, crash_err = crashed.communicate(timeout=300)
    after_crash = output_hashes(small_root)

    assert crashed.returncode == 137, crash_err[-2000:]
    if survivor == "previous":
        assert after_crash == previous
    else:
        assert after_crash != previous
        assert all(after_crash[k] != previous[k] for k in (
            "data/evidence/evidence.jsonl", "data/scored-runs/scored_runs.jsonl"))

    rerun = start_run_all(small_root)
    out, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err
    assert "run_hash:" in out
    new = output_hashes(small_root)
    assert new != previous
    if survivor == "new":
        assert new == after_crash
    evidence = (small_root / "data/evidence/evidence.jsonl").read_text()
    assert '"run_id":"fx-added-1"' in evidence


def test_a_kill_during_the_dbt_build_keeps_the_previous_set(small_root):
    previous = output_hashes(small_root)
    add_a_run(small_root, 2)

    running = start_run_all(small_root)
    deadline = time.monotonic() + 120
    results = small_root / "warehouse" / "dbt-target" / "run_results.json"
    before = results.stat().st_mtime
    # kill once dbt has started building (its log grows), before it can finish
    log = small_root / "warehouse" / "dbt-logs" / "dbt.log"
    size = log.stat().st_size
    while time.monotonic() < deadline and log.stat().st_size == size:
        time.sleep(0.05)
    running.send_signal(signal.SIGKILL)
    running.communicate(timeout=60)

    assert running.returncode == -signal.SIGKILL
    assert results.stat().st_mtime == before  # the build did not finish
    assert output_hashes(small_root) == previous

    rerun = start_run_all(small_root)
    _, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err
    assert '"run_id":"fx-added-2"' in (small_root / "data/evidence/evidence.jsonl").read_text()


def test_a_second_run_on_the_same_root_refuses_and_names_the_first(small_root):
    first = start_run_all(small_root)
    lock = small_root / "warehouse" / "run.lock"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and str(first.pid) not in lock.read_text():
        time.sleep(0.05)

    second = start_run_all(small_root)
    _, err = second.communicate(timeout=120)
    first_out, _ = first.communicate(timeout=300)

    assert second.returncode == 1
    assert "is busy" in err
    assert f'"pid": {first.pid}' in err
    assert '"command": "run-all"' in err
    assert first.returncode == 0
    assert "run_hash:" in first_out
