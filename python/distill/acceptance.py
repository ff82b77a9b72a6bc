"""The acceptance gate: the whole pipeline on the fixture knowledge base, every invariant.

`dbt build` is the gate for everything that can be stated over one build's tables; this
driver builds the fixture (fixtures/kb, whose expected_outcomes.csv is the contract) in a
fresh temporary root, runs every dbt test there, and adds what one build cannot check:
the run_hash and the exports across a rerun and across a one-byte change of an input.

Each invariant below names where it is defined: a dbt test (models/**.yml, tests/*.sql),
or this module when it needs more than one build or the files on disk. The report is
reports/distillation/phase6-acceptance-report.md under --root.
"""

from __future__ import annotations

import csv
import json
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from distill import pipeline, publish, receipts
from distill.errors import EXIT_CHECK_FAILED, EXIT_OK
from distill.layout import PROJECT_DIR, Layout
from distill.lock import exclusive
from distill.warehouse import BuildResult, run_dbt

RECORDED_AT = "2026-01-01T00:00:00Z"
REPORT_NAME = "phase6-acceptance-report.md"
CATEGORIES = ("accepted", "partially_accepted", "rejected", "needs_human_review")


@dataclass
class Outcome:
    passed: bool
    numbers: str


@dataclass
class Invariant:
    name: str
    defined_in: str
    check: Callable[[Run], Outcome]


@dataclass
class Run:
    """What the acceptance run produced: builds, files, and the contract to hold them to."""

    root: Path
    build: BuildResult
    summary: dict | None
    rerun_summary: dict | None = None
    changed_summary: dict | None = None
    first_exports: dict[str, bytes] = field(default_factory=dict)
    first_evidence_ids: list[str] = field(default_factory=list)

    @property
    def layout(self) -> Layout:
        return Layout(self.root)

    def rows(self, relpath: str) -> list[dict]:
        path = self.root / relpath
        if not path.exists():
            return []
        with open(path, "rb") as handle:
            return [json.loads(line) for line in handle if line.strip()]

    def expected(self) -> list[dict]:
        with open(self.layout.kb / "expected_outcomes.csv", newline="") as handle:
            return list(csv.DictReader(handle))

    def dbt_ok(self, *tests: str) -> bool:
        """Every dbt test whose name starts with one of `tests` ran and passed."""
        found = [
            status for name, status in self.build.statuses.items()
            if any(name.startswith(f"test {t}") for t in tests)
        ]
        return bool(found) and all(s.lower() == "pass" for s in found)


def _category_of(run: Run) -> dict[str, str]:
    return {r["run_id"]: r["quality_score"] for r in run.rows("data/scored-runs/scored_runs.jsonl")}


# ---------- the invariants, in the order of the pipeline


def lines_accounted(run: Run) -> Outcome:
    kept: set[tuple[str, int]] = set()
    for record in run.rows("data/evidence/evidence.jsonl"):
        kept.update((p["file"], p["line"]) for p in record["provenance"])
    skipped = {(s["source_file"], s["source_line"])
               for s in run.rows("data/_kb/distillation_skips.jsonl")}
    per_source, missing, both = {}, 0, len(kept & skipped)
    for path in sorted(run.layout.kb.rglob("*.jsonl")):
        rel = path.relative_to(run.layout.kb).as_posix()
        if rel in ("distillation_skips.jsonl", "scoring_skips.jsonl"):
            continue
        lines = receipts.count_lines(path)
        accounted = sum(1 for n in range(1, lines + 1) if (rel, n) in kept | skipped)
        missing += lines - accounted
        per_source[rel] = f"{accounted}/{lines}"
    numbers = f"{missing} lost, {both} both kept and skipped; " + ", ".join(
        f"{k} {v}" for k, v in per_source.items()
    )
    ok = missing == 0 and both == 0 and run.dbt_ok("assert_every_line_accounted_for")
    return Outcome(ok, numbers)


def skip_reasons_expected(run: Run) -> Outcome:
    got = {(s["source_file"], s["source_line"]): s["skip_reason"]
           for s in run.rows("data/_kb/distillation_skips.jsonl")}
    wanted = [e for e in run.expected() if e["expected_kind"] == "skip"]
    wrong = [e for e in wanted
             if got.get((e["source_file"], int(e["source_line"]))) != e["expected"]]
    extra = len(got) - len(wanted)
    detail = "; ".join(f"{e['source_file']}:{e['source_line']} wanted {e['expected']} got "
                       f"{got.get((e['source_file'], int(e['source_line'])))}" for e in wrong[:3])
    return Outcome(not wrong and extra == 0,
                   f"{len(wanted) - len(wrong)}/{len(wanted)} as expected, {extra} unexpected"
                   + (f"; {detail}" if detail else ""))


def scoring_skips_expected(run: Run) -> Outcome:
    got = {s["run_id"]: s["skip_reason"] for s in run.rows("data/_kb/scoring_skips.jsonl")}
    wanted = [e for e in run.expected() if e["expected_kind"] == "scoring_skip"]
    wrong = [e for e in wanted if got.get(e["run_id"]) != e["expected"]]
    return Outcome(not wrong and len(got) == len(wanted),
                   f"{len(wanted) - len(wrong)}/{len(wanted)} as expected, {len(got)} skipped")


def evidence_ids_unique(run: Run) -> Outcome:
    ids = [r["evidence_id"] for r in run.rows("data/evidence/evidence.jsonl")]
    return Outcome(bool(ids) and len(set(ids)) == len(ids) and run.dbt_ok(
        "unique_evidence_evidence_id"), f"{len(ids)} ids, {len(ids) - len(set(ids))} repeated")


def evidence_ids_stable(run: Run) -> Outcome:
    again = sorted(r["evidence_id"] for r in run.rows("data/evidence/evidence.jsonl"))
    first = sorted(run.first_evidence_ids)
    return Outcome(bool(first) and first == again,
                   f"{len(first)} ids in the first run, {len(again)} in the rerun, "
                   f"{len(set(first) ^ set(again))} differ")


def evidence_has_file_and_line(run: Run) -> Outcome:
    rows = run.rows("data/evidence/evidence.jsonl")
    bad = [r for r in rows if not r.get("provenance") or not r.get("source_file")
           or any(not p.get("file") or not p.get("line") for p in r["provenance"])]
    return Outcome(bool(rows) and not bad and run.dbt_ok("assert_provenance_names_real_lines"),
                   f"{len(rows) - len(bad)}/{len(rows)} rows name file and line")


def scored_is_evidence_minus_skips(run: Run) -> Outcome:
    evidence = len(run.rows("data/evidence/evidence.jsonl"))
    scored = len(run.rows("data/scored-runs/scored_runs.jsonl"))
    skipped = len(run.rows("data/_kb/scoring_skips.jsonl"))
    return Outcome(evidence > 0 and scored == evidence - skipped,
                   f"{scored} scored = {evidence} evidence - {skipped} scoring skips")


def categories_expected(run: Run) -> Outcome:
    got = _category_of(run)
    wanted = [e for e in run.expected() if e["expected_kind"] == "category"]
    wrong = [e for e in wanted if got.get(e["run_id"]) != e["expected"]]
    detail = "; ".join(f"{e['run_id']} wanted {e['expected']} got {got.get(e['run_id'])}"
                       for e in wrong[:3])
    return Outcome(bool(wanted) and not wrong and run.dbt_ok("assert_fixture_outcomes"),
                   f"{len(wanted) - len(wrong)}/{len(wanted)} runs as expected"
                   + (f"; {detail}" if detail else ""))


def categories_only_four(run: Run) -> Outcome:
    seen = sorted(set(_category_of(run).values()), key=str)
    return Outcome(bool(seen) and set(seen) <= set(CATEGORIES),
                   "seen: " + ", ".join(map(str, seen)))


def every_row_has_reason(run: Run) -> Outcome:
    rows = run.rows("data/scored-runs/scored_runs.jsonl")
    bad = [r for r in rows if not r.get("reasons")]
    return Outcome(bool(rows) and not bad, f"{len(rows) - len(bad)}/{len(rows)} with a reason")


def sft_firewall(run: Run) -> Outcome:
    never = {e["run_id"] for e in run.expected()
             if e["expected_kind"] == "category" and e["in_sft"] == "no"}
    category = _category_of(run)
    sft = run.rows("exports/sft/instruction_response.jsonl")
    leaks = [r for r in sft if r["source_run_id"] in never
             or category.get(r["source_run_id"]) not in ("accepted", "partially_accepted")
             or r.get("quality_score") not in ("accepted", "partially_accepted")]
    return Outcome(bool(sft) and not leaks and run.dbt_ok("sft_firewall"),
                   f"{len(sft)} SFT rows, {len(leaks)} from runs the contract keeps out")


def sft_has_allowed(run: Run) -> Outcome:
    allowed = {e["run_id"] for e in run.expected()
               if e["expected_kind"] == "category" and e["in_sft"] == "yes"}
    present = {r["source_run_id"] for r in run.rows("exports/sft/instruction_response.jsonl")}
    missing = sorted(allowed - present)
    return Outcome(bool(allowed) and not missing,
                   f"{len(allowed) - len(missing)}/{len(allowed)} allowed runs present"
                   + (f"; missing {', '.join(missing[:3])}" if missing else ""))


def sft_rows_validate(run: Run) -> Outcome:
    from distill import schemas

    rows = run.rows("exports/sft/instruction_response.jsonl")
    errors: list[str] = []
    for number, row in enumerate(rows, start=1):
        errors += [f"row {number}: {e}" for e in schemas.validate("sft_sample", row)]
        messages = row.get("messages") or []
        if not messages or any(set(m) < {"role"} for m in messages) \
                or messages[-1].get("role") != "assistant":
            errors.append(f"row {number}: messages is not a chat ending with the assistant")
    return Outcome(bool(rows) and not errors,
                   f"{len(rows)} rows, {len(errors)} errors" + (f"; {errors[0]}" if errors else ""))


def no_self_pair(run: Run) -> Outcome:
    pairs = run.rows("exports/preference/chosen_rejected.jsonl")
    bad = [p for p in pairs if p["chosen_run_id"] == p["rejected_run_id"]
           or p["chosen"].strip() == p["rejected"].strip()]
    return Outcome(bool(pairs) and not bad and run.dbt_ok("no_self_pair"),
                   f"{len(pairs)} pairs, {len(bad)} self pairs")


def chosen_better(run: Run) -> Outcome:
    rank = {"accepted": 3, "partially_accepted": 2, "rejected": 1}
    category = _category_of(run)
    pairs = run.rows("exports/preference/chosen_rejected.jsonl")
    by_comparison = [p for p in pairs
                     if any(r.startswith("comparison:") for r in p["pair_reasons"])]
    worse = [p for p in pairs
             if p not in by_comparison
             and not rank.get(category.get(p["chosen_run_id"]), 0)
             > rank.get(category.get(p["rejected_run_id"]), 0)]
    worse += [p for p in by_comparison if category.get(p["chosen_run_id"]) == "rejected"]
    return Outcome(bool(pairs) and not worse and run.dbt_ok("assert_preference_chosen_is_better"),
                   f"{len(pairs)} pairs ({len(by_comparison)} by explicit comparison), "
                   f"{len(worse)} not better")


def pair_same_task(run: Run) -> Outcome:
    task = {r["run_id"]: r["task_id"] for r in run.rows("data/scored-runs/scored_runs.jsonl")}
    pairs = run.rows("exports/preference/chosen_rejected.jsonl")
    bad = [p for p in pairs
           if task.get(p["chosen_run_id"]) != task.get(p["rejected_run_id"])
           or task.get(p["chosen_run_id"]) != p["task_id"]]
    return Outcome(bool(pairs) and not bad, f"{len(pairs)} pairs, {len(bad)} across tasks")


def playbooks_accepted_only(run: Run) -> Outcome:
    category = _category_of(run)
    books = run.rows("exports/rag/playbooks.jsonl")
    bad = [b for b in books if any(category.get(r) != "accepted" for r in b["source_run_ids"])]
    return Outcome(bool(books) and not bad and run.dbt_ok("cites_accepted_runs"),
                   f"{len(books)} playbooks, {len(bad)} citing a run not accepted")


def playbooks_cite_runs(run: Run) -> Outcome:
    books = run.rows("exports/rag/playbooks.jsonl")
    bad = [b for b in books if not b.get("source_run_ids")]
    return Outcome(bool(books) and not bad, f"{len(books) - len(bad)}/{len(books)} cite a run")


def no_planted_secret(run: Run) -> Outcome:
    planted = json.loads((run.layout.kb / "planted_secrets.json").read_text())
    found: list[str] = []
    written = [o.relpath for o in publish.OUTPUTS]
    for relpath in written:
        text = (run.root / relpath).read_text(encoding="utf-8")
        for kind, secret in planted.items():
            needles = {secret, json.dumps(secret)[1:-1]}
            if any(n in text for n in needles):
                found.append(f"{kind} in {relpath}")
    return Outcome(not found and run.dbt_ok("no_secrets"),
                   f"{len(planted)} planted kinds, {len(written)} files searched, "
                   f"{len(found)} found" + (f": {', '.join(found[:3])}" if found else ""))


def summary_validates(run: Run) -> Outcome:
    from distill import schemas

    if run.summary is None:
        return Outcome(False, "no summary written")
    clean = {k: v for k, v in run.summary.items() if not k.startswith("_")}
    errors = schemas.validate("run_summary", clean)
    return Outcome(not errors, f"{len(errors)} errors" + (f": {errors[0]}" if errors else ""))


def same_hash_on_rerun(run: Run) -> Outcome:
    first = run.summary["run_hash"] if run.summary else None
    again = run.rerun_summary["run_hash"] if run.rerun_summary else None
    return Outcome(first is not None and first == again,
                   f"first {str(first)[:16]}, rerun {str(again)[:16]}")


def byte_change_changes_hash(run: Run) -> Outcome:
    first = run.summary["run_hash"] if run.summary else None
    changed = run.changed_summary["run_hash"] if run.changed_summary else None
    return Outcome(first is not None and changed is not None and first != changed,
                   f"first {str(first)[:16]}, after one changed byte {str(changed)[:16]}")


def exports_identical(run: Run) -> Outcome:
    differ = [rel for rel, data in run.first_exports.items()
              if (run.root / rel).read_bytes() != data]
    return Outcome(bool(run.first_exports) and not differ,
                   f"{len(run.first_exports)} files compared, {len(differ)} differ"
                   + (f": {', '.join(differ)}" if differ else ""))


def exports_sorted(run: Run) -> Outcome:
    unsorted = []
    for output in publish.OUTPUTS:
        keys = [k.strip() for k in output.order_by.split(",")]
        rows = run.rows(output.relpath)
        values = [tuple(r[k] for k in keys) for r in rows]
        if values != sorted(values):
            unsorted.append(output.relpath)
    return Outcome(not unsorted, f"{len(publish.OUTPUTS)} files, {len(unsorted)} out of order"
                   + (f": {', '.join(unsorted)}" if unsorted else ""))


def dbt_tests_pass(run: Run) -> Outcome:
    tests = {n: s for n, s in run.build.statuses.items() if n.startswith("test ")}
    failed = sorted(n[5:] for n, s in tests.items() if s.lower() != "pass")
    return Outcome(bool(tests) and not failed,
                   f"{len(tests) - len(failed)}/{len(tests)} dbt tests pass"
                   + (f"; failed: {', '.join(failed[:5])}" if failed else ""))


INVARIANTS: tuple[Invariant, ...] = (
    Invariant("every fixture line accounted for per source",
              "tests/assert_every_line_accounted_for.sql", lines_accounted),
    Invariant("each skip has the expected reason",
              "fixtures/kb/expected_outcomes.csv (skip rows)", skip_reasons_expected),
    Invariant("each scoring skip has the expected reason",
              "fixtures/kb/expected_outcomes.csv (scoring_skip rows)", scoring_skips_expected),
    Invariant("evidence ids unique", "models/3_evidence/evidence.yml (unique)",
              evidence_ids_unique),
    Invariant("evidence ids stable across runs", "acceptance.py (rerun)", evidence_ids_stable),
    Invariant("every evidence row has file and line",
              "tests/assert_provenance_names_real_lines.sql", evidence_has_file_and_line),
    Invariant("scored rows = evidence rows - scoring skips",
              "tests/assert_scored_is_evidence_minus_scoring_skips.sql",
              scored_is_evidence_minus_skips),
    Invariant("each fixture run gets its expected category",
              "tests/assert_fixture_outcomes.sql", categories_expected),
    Invariant("categories only from the four", "models/4_scoring/scored_runs.yml (one_of)",
              categories_only_four),
    Invariant("every scored row has at least one reason",
              "models/4_scoring/scored_runs.yml (non_empty_list)", every_row_has_reason),
    Invariant("SFT firewall holds", "macros/generic_tests/sft_firewall.sql", sft_firewall),
    Invariant("every fixture run allowed into SFT is in SFT",
              "fixtures/kb/expected_outcomes.csv (in_sft)", sft_has_allowed),
    Invariant("SFT rows validate", "python/distill/schemas/sft_sample.json",
              sft_rows_validate),
    Invariant("no preference self-pair", "macros/generic_tests/no_self_pair.sql",
              no_self_pair),
    Invariant("chosen better than rejected", "tests/assert_preference_chosen_is_better.sql",
              chosen_better),
    Invariant("chosen and rejected share the task",
              "tests/assert_preference_chosen_is_better.sql", pair_same_task),
    Invariant("playbooks only from accepted runs",
              "macros/generic_tests/cites_accepted_runs.sql", playbooks_accepted_only),
    Invariant("every playbook cites a source run",
              "macros/generic_tests/cites_accepted_runs.sql", playbooks_cite_runs),
    Invariant("no planted secret in any export",
              "fixtures/kb/planted_secrets.json; macros/generic_tests/no_secrets.sql",
              no_planted_secret),
    Invariant("RunSummary validates", "python/distill/schemas/run_summary.json",
              summary_validates),
    Invariant("same run_hash on a rerun", "acceptance.py (rerun)", same_hash_on_rerun),
    Invariant("a one-byte input change changes the run_hash",
              "acceptance.py (changed copy)", byte_change_changes_hash),
    Invariant("exports byte-identical on a rerun", "acceptance.py (rerun)", exports_identical),
    Invariant("exports sorted by their key", "python/distill/publish.py (OUTPUTS order_by)",
              exports_sorted),
    Invariant("every dbt test passes", "models/**.yml, tests/*.sql", dbt_tests_pass),
)


# ---------- running it


def _build_root(root: Path) -> tuple[BuildResult, dict | None]:
    """run-all, keeping dbt's per-test results even when the build fails."""
    layout = Layout(root)
    pipeline.check_knowledge_base(layout)
    with exclusive(layout, "acceptance"):
        started = time.monotonic()
        result = run_dbt(layout, "build", [], show_progress=False)
        if not result.ok:
            return result, None
        durations = {"dbt_build": result.seconds}
        summary = pipeline.publish_with_receipt(layout, RECORDED_AT, None, durations, started)
    return result, summary


def _change_one_byte(kb: Path) -> str:
    target = kb / "canonical" / "runs.jsonl"
    data = bytearray(target.read_bytes())
    position = data.index(b"Write")
    data[position] = ord("w")
    target.write_bytes(bytes(data))
    return f"{target.relative_to(kb)} byte {position}"


def run_acceptance(workdir: Path) -> Run:
    """Build the fixture twice in workdir/fixture, and a one-byte-changed copy beside it."""
    root = workdir / "fixture"
    shutil.copytree(PROJECT_DIR / "fixtures" / "kb", root / "data" / "_kb")
    print(f"acceptance: building the fixture knowledge base in {root}")
    build, summary = _build_root(root)
    run = Run(root=root, build=build, summary=summary)
    if summary is None:
        return run

    run.first_exports = {o.relpath: (root / o.relpath).read_bytes() for o in publish.OUTPUTS}
    run.first_evidence_ids = [r["evidence_id"] for r in run.rows("data/evidence/evidence.jsonl")]

    print("acceptance: rebuilding the same input")
    rerun_build, run.rerun_summary = _build_root(root)
    run.build.statuses.update({k: v for k, v in rerun_build.statuses.items() if v != "pass"})

    changed = workdir / "changed"
    shutil.copytree(root / "data" / "_kb", changed / "data" / "_kb",
                    ignore=shutil.ignore_patterns("*skips.jsonl"))
    where = _change_one_byte(changed / "data" / "_kb")
    print(f"acceptance: building a copy with one changed byte ({where})")
    _, run.changed_summary = _build_root(changed)
    return run


def evaluate(run: Run) -> list[tuple[Invariant, Outcome]]:
    results = []
    for invariant in INVARIANTS:
        try:
            outcome = invariant.check(run)
        except (OSError, KeyError, ValueError, TypeError) as error:
            outcome = Outcome(False, f"could not be checked: {type(error).__name__}: {error}")
        results.append((invariant, outcome))
    return results


def render(results: list[tuple[Invariant, Outcome]], run: Run) -> str:
    failed = [i.name for i, o in results if not o.passed]
    lines = [
        "# Acceptance report",
        "",
        f"Fixture: fixtures/kb ({len(run.expected())} promised outcomes). "
        f"recorded_at {RECORDED_AT}.",
        f"Result: **{'PASS' if not failed else 'FAIL'}** — "
        f"{len(results) - len(failed)}/{len(results)} invariants hold.",
        "",
        "| # | invariant | result | numbers | defined in |",
        "| --- | --- | --- | --- | --- |",
    ]
    for number, (invariant, outcome) in enumerate(results, start=1):
        numbers = outcome.numbers.replace("|", "\\|")
        lines.append(f"| {number} | {invariant.name} | {'pass' if outcome.passed else 'FAIL'} "
                     f"| {numbers} | `{invariant.defined_in}` |")
    if failed:
        lines += ["", "## Failures", ""] + [f"- {name}" for name in failed]
        dbt_failed = [n for n, s in run.build.statuses.items() if s.lower() in ("fail", "error")]
        if dbt_failed:
            lines += ["", "dbt nodes that failed: " + ", ".join(sorted(dbt_failed))]
    return "\n".join(lines) + "\n"


def cmd_acceptance(args) -> int:
    layout = Layout(args.root)
    workdir = Path(tempfile.mkdtemp(prefix="distill-acceptance-"))
    try:
        run = run_acceptance(workdir)
    except KeyboardInterrupt:
        shutil.rmtree(workdir, ignore_errors=True)  # an interrupted gate has nothing to show
        raise
    except Exception:
        print(f"acceptance stopped; the temporary root is kept for inspection: {workdir}")
        raise
    results = evaluate(run)
    report = render(results, run)

    layout.reports_dir.mkdir(parents=True, exist_ok=True)
    path = layout.reports_dir / REPORT_NAME
    path.write_text(report)
    for number, (invariant, outcome) in enumerate(results, start=1):
        mark = "ok  " if outcome.passed else "FAIL"
        print(f"{mark} {number:2d}. {invariant.name}: {outcome.numbers}")
    failed = [i.name for i, o in results if not o.passed]
    print(f"report: {path}")
    if failed:
        print(f"acceptance FAILED: {len(failed)} invariant(s): {'; '.join(failed)}")
        print(f"the temporary root is kept for inspection: {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
        print(f"acceptance passed: {len(results)}/{len(results)} invariants hold")
    print(f"acceptance: {len(results) - len(failed)} passed, {len(failed)} failed")
    return EXIT_CHECK_FAILED if failed else EXIT_OK


def register(add) -> None:
    add("acceptance", "run the pipeline and every invariant on the fixture knowledge base",
        cmd_acceptance)
