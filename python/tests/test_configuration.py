"""Bad configuration fails fast, naming what is wrong, with exit code 2 and no traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from distill.layout import PROJECT_DIR


def distill(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "distill.cli", *args], capture_output=True, text=True,
        timeout=300, env={**os.environ, "PYTHONPATH": str(PROJECT_DIR / "python"), **(env or {})},
    )


@pytest.fixture()
def small_root(tmp_path):
    kb = tmp_path / "data" / "_kb"
    kb.mkdir(parents=True)
    (kb / "runs.jsonl").write_text('{"run_id": "r1", "task_id": "t", "task": "x", "output": "y"}\n')
    return tmp_path


@pytest.mark.parametrize("threads", ["abc", "0", "-1", "1.5", "100000"])
def test_a_bad_thread_count_is_refused(small_root, threads):
    done = distill("run-all", "--root", str(small_root), env={"DISTILL_THREADS": threads})

    assert done.returncode == 2
    assert f"DISTILL_THREADS={threads!r} is not a whole number from 1 to 64" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (small_root / "warehouse").exists()


@pytest.mark.parametrize("recorded_at, said", [
    ("garbage", "is not an ISO 8601 time"),
    ("0001-01-01T00:00:00Z", "is outside the years 1000 to 9999"),
])
def test_a_bad_recorded_at_is_refused(small_root, recorded_at, said):
    done = distill("run-all", "--root", str(small_root), "--recorded-at", recorded_at)

    assert done.returncode == 2
    assert said in done.stderr


def test_a_root_without_a_knowledge_base_is_refused_and_left_untouched(tmp_path):
    done = distill("run-all", "--root", str(tmp_path))

    assert done.returncode == 2
    assert f"no knowledge base at {tmp_path}/data/_kb" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_registry_naming_an_unknown_format_is_refused(small_root):
    (small_root / "data/_kb/formats.csv").write_text("glob,source_format\n*.jsonl,no_such\n")

    done = distill("run-all", "--root", str(small_root))

    assert done.returncode == 2
    assert "names the format 'no_such', which does not exist" in done.stderr


def test_a_registry_that_is_not_text_is_refused(small_root):
    (small_root / "data/_kb/formats.csv").write_bytes(b"\xff\xfe\x00garbage")

    done = distill("run-all", "--root", str(small_root))

    assert done.returncode == 2
    assert "formats.csv is not UTF-8 text" in done.stderr
    assert "Traceback" not in done.stderr


def test_scoring_before_materializing_says_what_to_run(small_root):
    done = distill("score", "--root", str(small_root))

    assert done.returncode == 2
    assert "run `distill materialize" in done.stderr
