"""The audit's checks: one function each, with a stable name, a phase and whether it is
required. A required check passes or fails; an informational one says what it saw
(`info`) or that something deserves a look (`warn`) and never fails the audit.

Each check reads the root as it is on disk (the published files, the warehouse, the
receipt) and returns the numbers behind its verdict. A check that cannot run (a file or a
module missing) fails if it is required: a guarantee nobody could verify is not kept.
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from distill import SCHEMA_VERSION, schemas
from distill.audit_context import AuditContext, category_ranks, macro_list
from distill.layout import PROJECT_DIR
from distill.publish import OUTPUTS

PASS, FAIL, WARN, INFO = "pass", "fail", "warn", "info"


@dataclass
class Outcome:
    result: str
    detail: str
    numbers: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class CheckSpec:
    name: str
    phase: str
    required: bool
    description: str
    run: Callable[[AuditContext], Outcome]


@dataclass
class CheckResult:
    name: str
    phase: str
    required: bool
    description: str
    result: str
    detail: str
    numbers: dict[str, object]

    @property
    def failed(self) -> bool:
        return self.required and self.result != PASS


CHECKS: list[CheckSpec] = []


def check(name: str, phase: str, required: bool = True):
    """Register a check; its docstring's first line is its description in the report."""

    def register(function: Callable[[AuditContext], Outcome]):
        description = (function.__doc__ or "").strip().splitlines()[0]
        CHECKS.append(CheckSpec(name, phase, required, description, function))
        return function

    return register


def verdict(passed: bool, detail: str, **numbers: object) -> Outcome:
    return Outcome(PASS if passed else FAIL, detail, numbers)


def sample(items, limit: int = 3) -> str:
    shown = [str(i) for i in list(items)[:limit]]
    more = len(items) - len(shown)
    return ", ".join(shown) + (f" (+{more} more)" if more > 0 else "")


def run_checks(ctx: AuditContext) -> list[CheckResult]:
    results = []
    for spec in CHECKS:
        try:
            outcome = spec.run(ctx)
        except Exception as error:  # noqa: BLE001 -- a check that cannot run is reported
            outcome = Outcome(
                FAIL if spec.required else WARN,
                f"could not run: {type(error).__name__}: {error}",
            )
        results.append(CheckResult(
            spec.name, spec.phase, spec.required, spec.description,
            outcome.result, outcome.detail, outcome.numbers,
        ))
    return results


def _never_in_sft() -> set[str]:
    return set(macro_list("firewall.sql", "never_in_sft"))


def _categories() -> list[str]:
    return macro_list("firewall.sql", "quality_categories")


def _known_formats() -> list[dict]:
    with open(PROJECT_DIR / "seeds" / "source_formats.csv", newline="") as handle:
        return list(csv.DictReader(handle))


# ---------------------------------------------------------------- P0: sources


@check("p0_knowledge_base_present", "P0")
def knowledge_base_present(ctx: AuditContext) -> Outcome:
    """The knowledge base folder exists and holds at least one source file."""
    files = ctx.source_files
    if not ctx.layout.kb.is_dir():
        return verdict(False, "no data/_kb folder under the root", files=0, lines=0)
    return verdict(
        bool(files), f"{len(files)} source files, {sum(ctx.source_lines.values()):,} lines",
        files=len(files), lines=sum(ctx.source_lines.values()),
    )


@check("p0_format_registry_valid", "P0")
def format_registry_valid(ctx: AuditContext) -> Outcome:
    """The format registry (data/_kb/formats.csv) parses and names only known formats."""
    from distill.errors import ConfigError
    from distill.pipeline import check_knowledge_base

    registry = ctx.layout.kb / "formats.csv"
    if not registry.is_file():
        return verdict(True, "no registry: every file is recognised by its keys", entries=0)
    try:
        check_knowledge_base(ctx.layout)
    except ConfigError as error:
        return verdict(False, str(error))
    lines = [
        line for line in registry.read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    entries = len(lines) - 1  # the header
    return verdict(True, f"{entries} entries, all known formats", entries=entries)


@check("p0_inputs_match_warehouse", "P0")
def inputs_match_warehouse(ctx: AuditContext) -> Outcome:
    """Every source file on disk was read by the last build, with the same sha256."""
    read = {path: sha for path, sha in ctx.query(
        "select source_file, file_sha256 from intake.kb_files order by 1")}
    new = sorted(p for p in ctx.source_files if p not in read and ctx.source_lines[p] > 0)
    changed = sorted(p for p, sha in ctx.source_sha256.items() if p in read and read[p] != sha)
    detail = "every source file was read as it is now"
    if new or changed:
        detail = (f"not what the warehouse read -- new: {sample(new) or 'none'}; changed: "
                  f"{sample(changed) or 'none'}; run `distill run-all`")
    return verdict(not new and not changed, detail, new=len(new), changed=len(changed),
                   read=len(read))


@check("p0_source_streams", "P0", required=False)
def source_streams(ctx: AuditContext) -> Outcome:
    """Files and lines per known source format; a missing stream gives 0 rows."""
    per_format = Counter()
    files = Counter()
    if ctx.con is not None:
        for fmt, count, lines in ctx.query(
            "select source_format, count(*), sum(line_count) from intake.kb_files group by 1"
        ):
            files[fmt] = int(count)
            per_format[fmt] = int(lines or 0)
    missing = [f["source_format"] for f in _known_formats() if files[f["source_format"]] == 0]
    present = {k: v for k, v in sorted(per_format.items(), key=lambda kv: str(kv[0])) if k}
    detail = ", ".join(f"{k} {v:,} lines" for k, v in present.items()) or "no stream"
    if missing:
        detail += f"; missing (0 rows, informational): {', '.join(missing)}"
    return Outcome(INFO if missing else PASS, detail,
                   {"present": len(present), "missing": len(missing)})


@check("p0_sources_removed_since_run", "P0", required=False)
def sources_removed(ctx: AuditContext) -> Outcome:
    """Files the last build read that are no longer on disk (their rows remain exported)."""
    read = [row[0] for row in ctx.query("select source_file from intake.kb_files order by 1")]
    gone = [p for p in read if p not in ctx.source_files]
    if gone:
        return Outcome(INFO, f"gone since the last build: {sample(gone)}", {"removed": len(gone)})
    return Outcome(PASS, "none", {"removed": 0})


@check("p0_unrecognised_files", "P0", required=False)
def unrecognised_files(ctx: AuditContext) -> Outcome:
    """Files of no known format: their lines are skipped as unrecognised_format."""
    found = [row[0] for row in ctx.query(
        "select source_file from intake.kb_files where source_format is null order by 1")]
    return Outcome(WARN if found else PASS, sample(found) or "none", {"files": len(found)})


@check("p0_recon_current", "P0", required=False)
def recon_current(ctx: AuditContext) -> Outcome:
    """The recon report describes the knowledge base as it is (same input hashes)."""
    from distill.recon import RECON_PATH, recorded_inputs

    recorded = recorded_inputs(ctx.layout.root / RECON_PATH)
    if recorded is None:
        return Outcome(INFO, f"no {RECON_PATH}: run `distill recon`", {"stale_files": 0})
    current = ctx.source_sha256
    stale = sorted(p for p in set(recorded) | set(current) if recorded.get(p) != current.get(p))
    if stale:
        return Outcome(WARN, f"stale for {sample(stale)}: rerun `distill recon`",
                       {"stale_files": len(stale)})
    return Outcome(PASS, f"current for all {len(current)} files", {"stale_files": 0})


# ---------------------------------------------------------------- P1: schemas

@check("p1_schema_version_on_every_record", "P1")
def schema_version_everywhere(ctx: AuditContext) -> Outcome:
    """Every record of every published file carries schema_version 1 and is a JSON object."""
    wrong, bad, total = Counter(), Counter(), 0
    for output in OUTPUTS:
        loaded = ctx.rows(output.relation)
        total += len(loaded.records)
        bad[output.relpath] += len(loaded.bad_lines)
        wrong[output.relpath] += sum(
            1 for r in loaded.records if r.get("schema_version") != SCHEMA_VERSION)
    broken = {k: wrong[k] + bad[k] for k in wrong if wrong[k] + bad[k]}
    detail = f"{total:,} records" if not broken else "wrong or missing: " + ", ".join(
        f"{k} {v}" for k, v in broken.items())
    return verdict(not broken, detail, records=total, wrong=sum(broken.values()))


@check("p1_records_validate", "P1")
def records_validate(ctx: AuditContext) -> Outcome:
    """Every published record validates against its JSON Schema (distill.schemas)."""
    try:
        from distill.schemas import validate
    except ImportError:
        return verdict(False, "not available: the schema validator distill.schemas is missing")
    invalid: dict[str, int] = {}
    first: list[str] = []
    total = 0
    for relation, record_type in schemas.RECORD_TYPE_OF_TABLE.items():
        loaded = ctx.rows(relation)
        for index, record in enumerate(loaded.records, start=1):
            total += 1
            messages = validate(record_type, record)
            if messages:
                invalid[loaded.path.name] = invalid.get(loaded.path.name, 0) + 1
                if len(first) < 3:
                    first.append(f"{loaded.path.name} record {index}: {messages[0]}")
    detail = f"{total:,} records valid" if not invalid else "; ".join(first)
    return verdict(not invalid, detail, records=total, invalid=sum(invalid.values()))


# ---------------------------------------------------------------- P2: materializer


def _provenance_lines(ctx: AuditContext) -> dict[str, set[int]]:
    kept: dict[str, set[int]] = {}
    for record in ctx.rows("evidence.evidence").records:
        for place in record.get("provenance") or []:
            kept.setdefault(place.get("file"), set()).add(int(place.get("line") or 0))
    return kept


@check("p2_conservation_files", "P2")
def conservation_files(ctx: AuditContext) -> Outcome:
    """Every line of every source file on disk is in some evidence record's provenance or
    in distillation_skips.jsonl, never both, never skipped twice."""
    kept = _provenance_lines(ctx)
    skipped: dict[str, set[int]] = {}
    twice = 0
    for skip in ctx.rows("evidence.distillation_skips").records:
        lines = skipped.setdefault(skip.get("source_file"), set())
        line = int(skip.get("source_line") or 0)
        twice += line in lines
        lines.add(line)
    lost, both = {}, 0
    for path, count in ctx.source_lines.items():
        expected = set(range(1, count + 1))
        found = (kept.get(path, set()) | skipped.get(path, set())) & expected
        both += len(kept.get(path, set()) & skipped.get(path, set()))
        if len(found) < count:
            lost[path] = count - len(found)
    total = sum(ctx.source_lines.values())
    detail = f"{total:,} lines accounted for"
    if lost or both or twice:
        detail = (f"unaccounted: {sample([f'{k} {v}' for k, v in lost.items()]) or 'none'}; "
                  f"{both} kept and skipped; {twice} skipped twice")
    return verdict(not lost and not both and not twice, detail, lines=total,
                   unaccounted=sum(lost.values()), both=both, skipped_twice=twice)


@check("p2_conservation_warehouse", "P2")
def conservation_warehouse(ctx: AuditContext) -> Outcome:
    """In the warehouse, every intake line is in provenance or in the skips, exactly once."""
    (lines, lost, both, twice), = ctx.query(
        """
        with lines as (select source_file, source_line from intake.kb_lines),
        kept as (
            select distinct p.file as source_file, p.line as source_line
            from (select unnest(provenance) as p from evidence.evidence)
        ),
        skipped as (
            select source_file, source_line, count(*) as times
            from evidence.distillation_skips group by all
        )
        select
            (select count(*) from lines),
            (select count(*) from lines
                anti join kept using (source_file, source_line)
                anti join skipped using (source_file, source_line)),
            (select count(*) from kept inner join skipped using (source_file, source_line)),
            (select count(*) from skipped where times > 1)
        """
    )
    return verdict(
        lost == 0 and both == 0 and twice == 0,
        f"{lines:,} lines: {lost} unaccounted, {both} kept and skipped, {twice} skipped twice",
        lines=int(lines), unaccounted=int(lost), both=int(both), skipped_twice=int(twice),
    )


@check("p2_evidence_ids_unique", "P2")
def evidence_ids_unique(ctx: AuditContext) -> Outcome:
    """Evidence ids and run ids are present and unique in evidence.jsonl."""
    records = ctx.rows("evidence.evidence").records
    ids = [r.get("evidence_id") for r in records]
    runs = [r.get("run_id") for r in records]
    duplicates = [k for k, n in Counter(ids).items() if n > 1]
    duplicate_runs = [k for k, n in Counter(runs).items() if n > 1]
    missing = ids.count(None) + runs.count(None)
    return verdict(
        bool(records) and not duplicates and not duplicate_runs and not missing,
        f"{len(records):,} records; duplicate ids: {sample(duplicates) or 'none'}; "
        f"duplicate runs: {sample(duplicate_runs) or 'none'}; missing: {missing}",
        records=len(records), duplicate_ids=len(duplicates),
        duplicate_runs=len(duplicate_runs), missing=missing,
    )


@check("p2_provenance_and_skip_reasons", "P2")
def provenance_and_reasons(ctx: AuditContext) -> Outcome:
    """Every evidence record names its file and line; every skip names its file, line and a
    reason from the skip-reason list."""
    no_provenance = sum(
        1 for r in ctx.rows("evidence.evidence").records
        if not r.get("provenance")
        or any(not p.get("file") or not p.get("line") for p in r["provenance"])
    )
    reasons = {row[0] for row in ctx.query("select skip_reason from reference.skip_reasons")}
    bad_skips = Counter()
    for relation in ("evidence.distillation_skips", "scoring.scoring_skips"):
        for skip in ctx.rows(relation).records:
            if skip.get("skip_reason") not in reasons:
                bad_skips[str(skip.get("skip_reason"))] += 1
            elif relation == "evidence.distillation_skips" and not (
                skip.get("source_file") and skip.get("source_line")
            ):
                bad_skips["(no file or line)"] += 1
    return verdict(
        no_provenance == 0 and not bad_skips,
        f"{no_provenance} records without provenance; unknown or unplaced skips: "
        f"{sample([f'{k} {v}' for k, v in bad_skips.items()]) or 'none'}",
        records_without_provenance=no_provenance, bad_skips=sum(bad_skips.values()),
    )


# ---------------------------------------------------------------- P3: scorer


@check("p3_scored_equals_evidence_minus_skips", "P3")
def scored_partition(ctx: AuditContext) -> Outcome:
    """Each evidence record is scored or skipped by the scorer, exactly once."""
    evidence = [r.get("evidence_id") for r in ctx.rows("evidence.evidence").records]
    scored = [r.get("evidence_id") for r in ctx.rows("scoring.scored_runs").records]
    skipped = [r.get("evidence_id") for r in ctx.rows("scoring.scoring_skips").records]
    outcome = Counter(scored) + Counter(skipped)
    unscored = [e for e in evidence if outcome[e] == 0]
    twice = [e for e, n in outcome.items() if n > 1]
    stray = [e for e in outcome if e not in set(evidence)]
    return verdict(
        bool(evidence) and not unscored and not twice and not stray,
        f"{len(evidence):,} evidence = {len(scored):,} scored + {len(skipped):,} skipped; "
        f"{len(unscored)} neither, {len(twice)} twice, {len(stray)} not in evidence",
        evidence=len(evidence), scored=len(scored), skipped=len(skipped),
        neither=len(unscored), twice=len(twice), stray=len(stray),
    )


@check("p3_categories_from_the_four", "P3")
def categories_from_the_four(ctx: AuditContext) -> Outcome:
    """Every scored run has exactly one quality_score, one of the four categories."""
    allowed = set(_categories())
    counts = Counter(r.get("quality_score") for r in ctx.rows("scoring.scored_runs").records)
    other = {str(k): v for k, v in counts.items() if k not in allowed}
    detail = ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items(), key=lambda kv: str(kv[0])))
    return verdict(bool(counts) and not other, detail or "no scored runs",
                   **{str(k): v for k, v in counts.items()})


@check("p3_every_score_has_known_reasons", "P3")
def every_score_has_reasons(ctx: AuditContext) -> Outcome:
    """Every scored run lists at least one reason, each a rule id of the scoring rules."""
    rules = {row[0] for row in ctx.query("select rule_id from reference.scoring_rules")}
    records = ctx.rows("scoring.scored_runs").records
    empty = sum(1 for r in records if not r.get("reasons"))
    unknown = Counter(
        reason for r in records for reason in r.get("reasons") or [] if reason not in rules)
    return verdict(
        bool(records) and not empty and not unknown,
        f"{empty} without a reason; unknown rules: {sample(list(unknown)) or 'none'}",
        without_reason=empty, unknown_reasons=sum(unknown.values()),
    )


@check("p3_one_scorer_version", "P3")
def one_scorer_version(ctx: AuditContext) -> Outcome:
    """All scored runs carry the same scorer_version, the one on the receipt."""
    versions = Counter(r.get("scorer_version") for r in ctx.rows("scoring.scored_runs").records)
    on_receipt = ((ctx.summary or {}).get("phases") or {}).get("score", {}).get("scorer_version")
    ok = len(versions) == 1 and None not in versions and on_receipt in versions
    return verdict(ok, f"in the file: {sample(list(versions)) or 'none'}; receipt: {on_receipt}",
                   versions=len(versions))


# ---------------------------------------------------------------- P4: exports


@check("p4_sft_firewall", "P4")
def sft_firewall(ctx: AuditContext) -> Outcome:
    """No SFT row is rejected or needs_human_review, by its own label or its run's score,
    and every SFT row comes from a scored run."""
    never = _never_in_sft()
    category = ctx.category_of_run
    leaks, unknown = [], []
    for row in ctx.rows("exports.sft_samples").records:
        run = row.get("source_run_id")
        if row.get("quality_score") in never or row.get("quality_score") is None \
                or category.get(run) in never:
            leaks.append(run)
        elif run not in category:
            unknown.append(run)
    table_leaks = 0
    if ctx.has_table("exports.sft_samples"):
        (table_leaks,), = ctx.query(
            "select count(*) from exports.sft_samples as s "
            "left join scoring.scored_runs as r on s.source_run_id = r.run_id "
            "where coalesce(s.quality_score, '') in (select unnest(?::varchar[])) "
            "or coalesce(r.quality_score, '') in (select unnest(?::varchar[]))",
            [sorted(never | {""}), sorted(never)],
        )
    rows = len(ctx.rows("exports.sft_samples").records)
    return verdict(
        not leaks and not unknown and not table_leaks,
        f"{rows:,} rows; leaks in the file: {sample(leaks) or 'none'}; in the warehouse: "
        f"{table_leaks}; not a scored run: {sample(unknown) or 'none'}",
        rows=rows, leaks=len(leaks), warehouse_leaks=int(table_leaks), unknown_runs=len(unknown),
    )


@check("p4_exports_nonempty", "P4")
def exports_nonempty(ctx: AuditContext) -> Outcome:
    """Each of the three exports has at least one row."""
    counts = {
        name: len(ctx.rows(relation).records)
        for name, relation in (("sft", "exports.sft_samples"),
                               ("preference", "exports.preference_pairs"),
                               ("rag", "exports.playbooks"))
    }
    empty = [k for k, v in counts.items() if v == 0]
    return verdict(not empty, ", ".join(f"{k} {v:,}" for k, v in counts.items())
                   + (f"; empty: {', '.join(empty)}" if empty else ""), **counts)


@check("p4_preference_no_self_pairs", "P4")
def no_self_pairs(ctx: AuditContext) -> Outcome:
    """No preference pair has the same run, or the same text, on both sides."""
    records = ctx.rows("exports.preference_pairs").records
    same_run = [r.get("id") for r in records
                if not r.get("chosen_run_id") or r.get("chosen_run_id") == r.get("rejected_run_id")]
    same_text = [r.get("id") for r in records if r.get("chosen") == r.get("rejected")]
    return verdict(
        not same_run and not same_text,
        f"{len(records):,} pairs; same run: {sample(same_run) or 'none'}; "
        f"same text: {sample(same_text) or 'none'}",
        pairs=len(records), same_run=len(same_run), same_text=len(same_text),
    )


@check("p4_preference_chosen_better", "P4")
def chosen_better(ctx: AuditContext) -> Outcome:
    """Chosen and rejected answer the same task; the chosen run ranks strictly higher, or an
    explicit comparison between the two runs exists."""
    ranks = category_ranks()
    compared = set()
    if ctx.has_table("evidence.comparisons"):
        for run_a, run_b in ctx.query("select run_a, run_b from evidence.comparisons"):
            compared |= {(run_a, run_b), (run_b, run_a)}
    tasks = ctx.task_of_run
    category = ctx.category_of_run
    other_task, not_better = [], []
    for pair in ctx.rows("exports.preference_pairs").records:
        chosen, rejected = pair.get("chosen_run_id"), pair.get("rejected_run_id")
        if not (tasks.get(chosen) == tasks.get(rejected) == pair.get("task_id") is not None):
            other_task.append(pair.get("id"))
        by_rank = ranks.get(category.get(chosen), 0) > ranks.get(category.get(rejected), 99)
        if not by_rank and (chosen, rejected) not in compared:
            not_better.append(pair.get("id"))
    return verdict(
        not other_task and not not_better,
        f"other task: {sample(other_task) or 'none'}; not better: {sample(not_better) or 'none'}",
        other_task=len(other_task), not_better=len(not_better),
    )


@check("p4_playbooks_cite_accepted_runs", "P4")
def playbooks_cite_accepted(ctx: AuditContext) -> Outcome:
    """Every playbook cites at least one source run, and every run it cites is accepted."""
    category = ctx.category_of_run
    records = ctx.rows("exports.playbooks").records
    bad = [
        b.get("playbook_id") for b in records
        if not b.get("source_run_ids")
        or any(category.get(run) != "accepted" for run in b["source_run_ids"])
    ]
    return verdict(not bad, f"{len(records):,} playbooks; citing other runs: "
                   f"{sample(bad) or 'none'}", playbooks=len(records), bad=len(bad))


def _strings(value: object) -> list[str]:
    """Every string inside a record, decoded: a secret hides from no JSON escape."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


@check("p4_no_secrets_in_exports", "P4")
def no_secrets(ctx: AuditContext) -> Outcome:
    """No export line matches a secret or e-mail pattern of seeds/secret_patterns.csv."""
    with open(PROJECT_DIR / "seeds" / "secret_patterns.csv", newline="") as handle:
        patterns = [(row["kind"], re.compile(row["pattern"])) for row in csv.DictReader(handle)]
    found = Counter()
    for relation in ("exports.sft_samples", "exports.preference_pairs", "exports.playbooks"):
        for record in ctx.rows(relation).records:
            text = "\n".join(_strings(record))
            for kind, pattern in patterns:
                if pattern.search(text):
                    found[kind] += 1
    return verdict(not found, ", ".join(f"{k} {v}" for k, v in sorted(found.items()))
                   or f"none of {len(patterns)} patterns found", lines_with_secrets=sum(
                       found.values()), patterns=len(patterns))


@check("p4_outputs_in_stable_order", "P4")
def stable_order(ctx: AuditContext) -> Outcome:
    """Each published file is in its total order, so equal input gives equal bytes."""
    unsorted = []
    for output in OUTPUTS:
        keys = [k.strip() for k in output.order_by.split(",")]
        values = [tuple(str(r.get(k)) for k in keys) for r in ctx.rows(output.relation).records]
        typed = [tuple(int(v) if v.isdigit() else v for v in row) for row in values]
        if typed != sorted(typed, key=lambda row: tuple((isinstance(v, str), v) for v in row)):
            unsorted.append(output.relpath)
    return verdict(not unsorted, f"out of order: {sample(unsorted) or 'none'}",
                   files=len(OUTPUTS), unsorted=len(unsorted))


# ---------------------------------------------------------------- P5: receipts


@check("p5_receipt_present", "P5")
def receipt_present(ctx: AuditContext) -> Outcome:
    """The latest run left a readable summary.json with a run_hash."""
    if ctx.summary_path is None:
        return verdict(
            False, "no reports/distillation/<run_id>/summary.json: run `distill run-all`"
        )
    if ctx.summary is None or not ctx.summary.get("run_hash"):
        return verdict(False, f"{ctx.summary_path.parent.name}/summary.json has no run_hash")
    return verdict(True, f"run {ctx.summary_path.parent.name}, run_hash "
                   f"{ctx.summary['run_hash'][:16]}")


@check("p5_run_summary_validates", "P5")
def summary_validates(ctx: AuditContext) -> Outcome:
    """The RunSummary validates against its schema (distill.schemas)."""
    try:
        from distill.schemas import validate
    except ImportError:
        return verdict(False, "not available: the schema validator distill.schemas is missing")
    if ctx.summary is None:
        return verdict(False, "no summary to validate")
    messages = validate("run_summary", ctx.summary)
    return verdict(not messages, "; ".join(messages[:3]) or "valid", errors=len(messages))


@check("p5_run_hash_recomputes", "P5")
def run_hash_recomputes(ctx: AuditContext) -> Outcome:
    """Hashing the receipt's hashed fields again gives its run_hash."""
    from distill.receipts import run_hash

    if ctx.summary is None:
        return verdict(False, "no summary")
    again = run_hash(ctx.summary)
    return verdict(again == ctx.summary.get("run_hash"),
                   f"recomputed {again[:16]}, recorded {str(ctx.summary.get('run_hash'))[:16]}")


@check("p5_outputs_match_receipt", "P5")
def outputs_match_receipt(ctx: AuditContext) -> Outcome:
    """Each output file on disk has the sha256 and rows the receipt recorded."""
    from distill.receipts import count_lines, sha256_file

    if ctx.summary is None:
        return verdict(False, "no summary")
    differ = []
    recorded = ctx.summary.get("outputs") or []
    for output in recorded:
        path = ctx.layout.root / output["path"]
        if not path.is_file() or sha256_file(path) != output.get("sha256") \
                or count_lines(path) != output.get("rows"):
            differ.append(output["path"])
    expected = {o.relpath for o in OUTPUTS}
    missing = sorted(expected - {o.get("path") for o in recorded})
    return verdict(not differ and not missing,
                   f"{len(recorded)} outputs; changed since the receipt: "
                   f"{sample(differ) or 'none'}; not on the receipt: {sample(missing) or 'none'}",
                   outputs=len(recorded), changed=len(differ), missing=len(missing))


@check("p5_counts_match_warehouse", "P5")
def counts_match_warehouse(ctx: AuditContext) -> Outcome:
    """The receipt's per-phase counts are the warehouse's counts now."""
    from distill.receipts import phase_counts

    if ctx.summary is None or ctx.con is None:
        return verdict(False, "no summary or no warehouse")
    now = json.loads(json.dumps(phase_counts(ctx.con)))
    recorded = ctx.summary.get("phases") or {}
    differ = sorted(k for k in set(now) | set(recorded) if now.get(k) != recorded.get(k))
    return verdict(not differ, f"phases that differ: {', '.join(differ) or 'none'}",
                   phases=len(now), differ=len(differ))


# ---------------------------------------------------------------- P6: acceptance


@check("p6_dbt_tests_passed", "P6")
def dbt_tests_passed(ctx: AuditContext) -> Outcome:
    """The last dbt build under this root ran its tests and none failed."""
    path = ctx.layout.dbt_target / "run_results.json"
    if not path.is_file():
        return verdict(False, "no dbt run_results.json: dbt never built this root")
    results = json.loads(path.read_text()).get("results", [])
    tests = [r for r in results if str(r.get("unique_id", "")).startswith("test.")]
    failed = [r["unique_id"].split(".")[-2] if r["unique_id"].count(".") > 2 else r["unique_id"]
              for r in results if r.get("status") in ("fail", "error")]
    return verdict(bool(tests) and not failed,
                   f"{len(tests)} tests, {len(failed)} failed: {sample(failed) or 'none'}",
                   tests=len(tests), failed=len(failed))


@check("p6_acceptance_report", "P6", required=False)
def acceptance_report(ctx: AuditContext) -> Outcome:
    """The acceptance report (distill acceptance) if one was written under this root."""
    path = ctx.layout.reports_dir / "phase6-acceptance-report.md"
    if not path.is_file():
        return Outcome(INFO, "no phase6-acceptance-report.md under this root", {})
    text = path.read_text(encoding="utf-8")
    failed = re.findall(r"^\|[^|\n]*\|.*\bfail(?:ed)?\b", text, re.MULTILINE | re.IGNORECASE)
    return Outcome(WARN if failed else PASS,
                   f"{len(failed)} failing rows in the report" if failed else "no failing row",
                   {"failing_rows": len(failed)})


# ---------------------------------------------------------------- P7: replay


@check("p7_replay_log_valid", "P7")
def replay_log_valid(ctx: AuditContext) -> Outcome:
    """Every replay record (live log and archives) validates and has a validation result."""
    try:
        from distill.replay_log import read_records
        from distill.schemas import validate
    except ImportError as error:
        return verdict(False, f"not available: {error.name} is missing")
    records = read_records(ctx.layout)
    invalid = [i for i, r in enumerate(records, start=1) if validate("replay_run", r)]
    return verdict(not invalid, f"{len(records):,} replay records; invalid: "
                   f"{sample(invalid) or 'none'}", records=len(records), invalid=len(invalid))


@check("p7_replay_pass_rate", "P7", required=False)
def replay_pass_rate(ctx: AuditContext) -> Outcome:
    """How many replays passed their validation, per model."""
    from distill.replay_log import read_records

    records = read_records(ctx.layout)
    if not records:
        return Outcome(INFO, "no replay yet", {"replays": 0})
    by_model: dict[str, list[int]] = {}
    for record in records:
        tally = by_model.setdefault(str(record.get("model")), [0, 0])
        tally[0] += bool((record.get("validation_result") or {}).get("passed"))
        tally[1] += 1
    passed = sum(t[0] for t in by_model.values())
    detail = "; ".join(f"{m} {p}/{n}" for m, (p, n) in sorted(by_model.items()))
    return Outcome(PASS, detail, {"replays": len(records), "passed": passed})


@check("p7_replay_log_size", "P7", required=False)
def replay_log_size(ctx: AuditContext) -> Outcome:
    """The live replay log's size against its rotation bound, and the archives kept."""
    from distill.replay_log import archives, log_path, max_bytes_from_env

    live = log_path(ctx.layout)
    size = live.stat().st_size if live.is_file() else 0
    bound = max_bytes_from_env()
    kept = archives(ctx.layout)
    return Outcome(WARN if size > bound else PASS,
                   f"{size:,} of {bound:,} bytes; {len(kept)} archives",
                   {"bytes": size, "bound": bound, "archives": len(kept)})
