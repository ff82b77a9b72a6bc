"""The benchmark's generator and meters: the numbers it prints are only worth something if
the knowledge base it times is the one it claims (deterministic, with the planted mix of
signals and bad lines, every line accounted for by run-all) and if each child's memory is
its own.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import pytest

from distill.bench import Planted, duckdb_alone, generate, run_child

from conftest import read_jsonl

RUNS = 200


def file_bytes(kb: Path) -> dict[str, bytes]:
    return {p.relative_to(kb).as_posix(): p.read_bytes() for p in sorted(kb.rglob("*.jsonl"))}


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> tuple[Path, Planted]:
    kb = tmp_path_factory.mktemp("bench-kb") / "_kb"
    return kb, generate(kb, RUNS)


@pytest.fixture(scope="module")
def bench_root(generated, make_root) -> Path:
    kb, _ = generated
    return make_root("bench", kb=kb)


@pytest.fixture(scope="module")
def bench_summary(bench_root) -> dict:
    found = sorted((bench_root / "reports" / "distillation").glob("*/summary.json"))
    return json.loads(found[-1].read_text())


def test_the_same_seed_writes_byte_identical_files(generated, tmp_path):
    kb, planted = generated

    again = generate(tmp_path / "again", RUNS)
    generate(tmp_path / "other", RUNS, seed=7)

    assert file_bytes(tmp_path / "again") == file_bytes(kb)
    assert again.skips == planted.skips and again.categories == planted.categories
    assert file_bytes(tmp_path / "other") != file_bytes(kb)


def count_bad_lines(kb: Path) -> Counter:
    """The bad lines, found by reading the files the way a careful script would."""
    found: Counter = Counter()
    run_ids: set[str] = set()
    signals: list[dict] = []
    for relpath, data in file_bytes(kb).items():
        for raw in data.split(b"\n")[:-1]:
            if not raw.strip():
                found["blank_line"] += 1
                continue
            try:
                record = json.loads(raw)
            except json.JSONDecodeError:
                found["invalid_json"] += 1
                continue
            if relpath.startswith("runs/"):
                found["duplicate_run_id"] += record["run_id"] in run_ids
                run_ids.add(record["run_id"])
            elif relpath.startswith(("checks/", "reviews/")):
                signals.append(record)
    for signal in signals:
        if "check" in signal and "passed" not in signal:
            found["missing_required_field"] += 1
        elif isinstance(signal.get("passed", True), str) or isinstance(signal.get("score"), str):
            found["wrong_type"] += 1
        elif signal["run_id"] not in run_ids:
            found["orphan_signal"] += 1
    return found


def test_the_generator_plants_every_kind_of_bad_line_it_claims(generated):
    kb, planted = generated

    assert count_bad_lines(kb) == planted.skips
    assert set(planted.skips) == {
        "blank_line", "invalid_json", "wrong_type", "duplicate_run_id", "orphan_signal",
        "missing_required_field",
    }
    assert all(count >= 1 for count in planted.skips.values())
    assert sum(planted.skips.values()) < planted.lines * 0.05  # a small share


def test_the_generator_writes_a_crlf_file_and_several_runs_per_task(generated):
    kb, planted = generated

    comparisons = (kb / "comparisons.jsonl").read_bytes()
    assert planted.crlf_lines > 0
    assert comparisons.count(b"\r\n") == comparisons.count(b"\n") == planted.crlf_lines

    runs = [json.loads(line) for line in (kb / "runs" / "runs-0001.jsonl").read_bytes()
            .split(b"\n") if line.strip().endswith(b"}")]
    per_task = Counter(r["task_id"] for r in runs)
    assert max(per_task.values()) >= 3
    assert any(r["trajectory"] for r in runs) and any(isinstance(r["output"], list) for r in runs)


def test_run_all_skips_exactly_the_planted_bad_lines(generated, bench_summary):
    _, planted = generated
    materialize = bench_summary["phases"]["materialize"]

    assert materialize["in_lines"] == planted.lines
    assert materialize["skipped_by_reason"] == dict(planted.skips)
    assert materialize["normalized_lines"]["crlf_ending"] == planted.crlf_lines
    assert materialize["out_records"] == RUNS


def test_run_all_accounts_for_every_generated_line_once(generated, bench_root):
    _, planted = generated
    every_line = {(f, n) for f, count in planted.files.items() for n in range(1, count + 1)}

    used = {
        (p["file"], p["line"])
        for record in read_jsonl(bench_root / "data" / "evidence" / "evidence.jsonl")
        for p in record["provenance"]
    }
    skipped = [
        (s["source_file"], s["source_line"])
        for s in read_jsonl(bench_root / "data" / "_kb" / "distillation_skips.jsonl")
    ]

    assert used | set(skipped) == every_line
    assert not used & set(skipped)
    assert len(skipped) == len(set(skipped)) == sum(planted.skips.values())


def test_run_all_gives_every_planted_run_its_intended_category(generated, bench_root):
    _, planted = generated

    scored = {
        r["run_id"]: r["quality_score"]
        for r in read_jsonl(bench_root / "data" / "scored-runs" / "scored_runs.jsonl")
    }

    assert scored == planted.categories
    assert set(Counter(planted.categories.values())) == {
        "accepted", "partially_accepted", "rejected", "needs_human_review",
    }


def test_duckdb_alone_reads_every_line_and_writes_the_export_bytes(generated, tmp_path):
    kb, planted = generated
    target = 3 * planted.bytes

    split = duckdb_alone(
        [str(kb / f) for f in sorted(planted.files)], target, str(tmp_path / "out.jsonl")
    )

    assert split["lines"] == planted.lines
    assert split["bytes_written"] == (tmp_path / "out.jsonl").stat().st_size
    assert target - 10_000 < split["bytes_written"] <= target


def test_each_child_reports_its_own_peak_memory(tmp_path):
    big = run_child([sys.executable, "-c", "x = b'1' * (300 << 20)"], tmp_path / "big.log", 60)
    ballast = b"1" * (300 << 20)  # a big parent must not lend its peak to a small child
    small = run_child([sys.executable, "-c", "print('small')"], tmp_path / "small.log", 60)
    del ballast

    assert big.exit_code == small.exit_code == 0
    assert big.peak_rss_mb > 300
    assert big.cpu_seconds > 0
    assert small.peak_rss_mb < 100
    assert small.output == "small\n"


def test_a_child_past_its_timeout_is_killed(tmp_path):
    sleeper = [sys.executable, "-c", "import time; time.sleep(30)"]
    slow = run_child(sleeper, tmp_path / "slow.log", 1)

    assert slow.exit_code == -9
    assert slow.seconds < 10
