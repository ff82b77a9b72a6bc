"""Materialization: every source line ends in evidence or in the skip file, with a reason."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

from distill.layout import PROJECT_DIR
from distill.receipts import count_lines

from conftest import FIXTURE_KB, read_jsonl


def accounted_lines(root: Path) -> tuple[set, set]:
    kept = {(p["file"], p["line"])
            for r in read_jsonl(root / "data/evidence/evidence.jsonl") for p in r["provenance"]}
    skipped = {(s["source_file"], s["source_line"])
               for s in read_jsonl(root / "data/_kb/distillation_skips.jsonl")}
    return kept, skipped


def source_lines(kb: Path) -> set:
    lines = set()
    for path in kb.rglob("*.jsonl"):
        if path.name in ("distillation_skips.jsonl", "scoring_skips.jsonl"):
            continue
        rel = path.relative_to(kb).as_posix()
        lines |= {(rel, n) for n in range(1, count_lines(path) + 1)}
    return lines


def test_every_real_line_is_kept_or_skipped_never_both(real_root):
    kept, skipped = accounted_lines(real_root)
    lines = source_lines(real_root / "data/_kb")

    assert len(lines) == 1767
    assert kept | skipped == lines
    assert kept & skipped == set()


def test_real_sample_counts_per_source_format(real_summary):
    materialize = real_summary["phases"]["materialize"]

    assert materialize["per_source_format"] == {
        "mtbench_answer": 190, "reflexion_run": 1122, "taubench_trajectory": 140,
    }
    assert materialize["skipped"] == 0
    assert materialize["in_lines"] == 1767


def test_every_fixture_line_is_kept_or_skipped_never_both(fixture_root):
    kept, skipped = accounted_lines(fixture_root)
    lines = source_lines(fixture_root / "data/_kb")
    array_file = fixture_root / "data/_kb/taubench/gpt-4o-airline-array.json"
    elements = len(json.loads(array_file.read_text()))
    lines |= {("taubench/gpt-4o-airline-array.json", n) for n in range(1, elements + 1)}

    assert kept | skipped == lines
    assert kept & skipped == set()


def test_each_hostile_line_gets_its_own_reason(fixture_root):
    skips = {(s["source_file"], s["source_line"]): s["skip_reason"]
             for s in read_jsonl(fixture_root / "data/_kb/distillation_skips.jsonl")}

    assert skips[("hostile/mixed.jsonl", 2)] == "blank_line"
    assert skips[("hostile/mixed.jsonl", 3)] == "blank_line"
    assert skips[("hostile/mixed.jsonl", 4)] == "invalid_json"
    assert skips[("hostile/mixed.jsonl", 5)] == "invalid_utf8"
    assert skips[("hostile/mixed.jsonl", 6)] == "not_a_json_object"
    assert skips[("hostile/mixed.jsonl", 8)] == "too_deeply_nested"
    assert skips[("hostile/windows.jsonl", 2)] == "blank_line"
    assert skips[("hostile/mystery.jsonl", 1)] == "unrecognised_format"
    assert skips[("canonical/runs.jsonl", 15)] == "duplicate_run_id"
    assert skips[("canonical/reviews.jsonl", 7)] == "wrong_type"  # a NaN score


def test_bom_crlf_huge_and_unterminated_lines_become_runs(fixture_root):
    evidence = {r["run_id"]: r for r in read_jsonl(fixture_root / "data/evidence/evidence.jsonl")}

    assert evidence["fx-bom-1"]["source_line"] == 1
    assert evidence["fx-crlf-1"]["output_text"] == "OK!"  # no carriage return kept
    assert evidence["fx-crlf-2"]["source_line"] == 3  # a lone CR did not split a line
    assert len(evidence["fx-huge-1"]["output_text"]) == 3_600_000
    assert evidence["fx-last-1"]["source_line"] == 10


def test_a_nan_score_and_a_text_score_are_never_read_as_numbers(fixture_root):
    scored = {r["run_id"]: r for r in read_jsonl(
        fixture_root / "data/scored-runs/scored_runs.jsonl")}

    assert scored["fx-nan-1"]["quality_score"] == "needs_human_review"
    assert scored["fx-nan-1"]["reasons"] == ["no_quality_signal"]
    # "8" as text is skipped; the run keeps only its passing check
    assert scored["fx-tools-1"]["signal_counts"]["positive"] == 1


def test_question_lines_feed_every_answer_that_joins_them(fixture_root):
    evidence = {r["run_id"]: r for r in read_jsonl(fixture_root / "data/evidence/evidence.jsonl")}
    question = {"file": "mtbench/question.jsonl", "line": 1}

    assert question in evidence["mtbench/model-a:q81"]["provenance"]
    assert question in evidence["mtbench/model-b:q81"]["provenance"]


def test_dry_run_prints_counts_and_writes_nothing(tmp_path):
    root = tmp_path / "dry"
    kb = root / "data" / "_kb"
    kb.mkdir(parents=True)
    for name in ("canonical/runs.jsonl", "hostile/mixed.jsonl"):
        (kb / name).parent.mkdir(parents=True, exist_ok=True)
        (kb / name).write_bytes((FIXTURE_KB / name).read_bytes())
    before = sorted(p.relative_to(root).as_posix() for p in root.rglob("*"))

    done = subprocess.run(
        [sys.executable, "-m", "distill.cli", "materialize", "--dry-run", "--root", str(root)],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONPATH": str(PROJECT_DIR / "python")},
    )

    assert done.returncode == 0, done.stderr
    assert "canonical/runs.jsonl [canonical_runs]: 25 lines, 21 used, 4 skipped" in done.stdout
    assert "hostile/mixed.jsonl [canonical_runs]: 10 lines, 3 used, 7 skipped" in done.stdout
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*")) == before


def test_run_all_writes_only_under_its_root(real_root):
    written = {p.relative_to(real_root).parts[0] for p in real_root.rglob("*") if p.is_file()}

    assert written == {"data", "exports", "reports", "warehouse"}
    assert (real_root / "warehouse" / "distill.duckdb").is_file()
    assert (real_root / "warehouse" / "dbt-target" / "run_results.json").is_file()


def test_skip_reasons_of_the_fixture_match_the_contract(fixture_root, fixture_expected):
    got = Counter(s["skip_reason"] for s in read_jsonl(
        fixture_root / "data/_kb/distillation_skips.jsonl"))
    promised = Counter(e["expected"] for e in fixture_expected if e["expected_kind"] == "skip")

    assert got == promised
    assert set(got) >= {"blank_line", "invalid_json", "invalid_utf8", "not_a_json_object",
                        "too_deeply_nested", "unrecognised_format", "duplicate_run_id",
                        "missing_required_field", "wrong_type", "orphan_signal",
                        "orphan_comparison", "task_without_runs"}


def test_the_committed_fixture_is_what_its_script_writes():
    sys.path.insert(0, str(PROJECT_DIR / "fixtures"))
    try:
        import build_fixture_kb
    finally:
        sys.path.pop(0)

    for relpath, data in build_fixture_kb.build().items():
        assert (FIXTURE_KB / relpath).read_bytes() == data, relpath
    committed = {p.relative_to(FIXTURE_KB).as_posix() for p in FIXTURE_KB.rglob("*")
                 if p.is_file()}
    assert committed == set(build_fixture_kb.build())


def test_evidence_json_lines_parse_and_carry_schema_version(real_root):
    with open(real_root / "data/evidence/evidence.jsonl", "rb") as handle:
        first = json.loads(handle.readline())

    assert first["schema_version"] == 1
    assert first["evidence_id"].startswith("ev_")


def test_a_root_whose_path_holds_quotes_reads_its_own_knowledge_base(tmp_path):
    from distill.layout import Layout
    from distill.pipeline import run_all

    from conftest import RECORDED_AT

    root = tmp_path / "o'brien's runs"
    decoy = tmp_path / "o"  # what a path pasted into SQL unescaped would reach
    for target in (root, decoy):
        (target / "data" / "_kb").mkdir(parents=True)
    (root / "data/_kb/runs.jsonl").write_text(
        json.dumps({"run_id": "mine", "task_id": "t", "task": "x", "output": "y"}) + "\n")
    (decoy / "data/_kb/runs.jsonl").write_text(
        json.dumps({"run_id": "decoy", "task_id": "t", "task": "x", "output": "y"}) + "\n")

    summary = run_all(Layout(root), RECORDED_AT)

    runs = [r["run_id"] for r in read_jsonl(root / "data/evidence/evidence.jsonl")]
    assert runs == ["mine"]
    assert summary["inputs"][0]["path"] == "runs.jsonl"
