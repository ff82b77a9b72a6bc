"""Every command block of docs/runbook.md runs, in order, and exits as the page says.

The runbook promises that its commands work. Each ```bash block is run with
`bash -euo pipefail`, ROOT set to a root built from the fixture knowledge base and the
project's environment first on PATH. Blocks under one heading share a root (a fresh copy
per heading), so a diagnosis sees what the heading's setup planted and a fix can be
checked by the commands after it. An HTML comment just before a block says what it needs:

    <!-- runbook-test: setup=plant_sft_leak expect-exit=1 -->

`setup` names a function below that puts the root in the state the section is about (a
leak to quarantine, a tampered receipt, ...); `expect-exit` is the exit code the block
must end with (0 unless told). Headings run two at a time, each on its own root.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from distill.audit_checks import CHECKS
from distill.layout import PROJECT_DIR

FIXTURE_KB = PROJECT_DIR / "fixtures" / "kb"

RUNBOOK = PROJECT_DIR / "docs" / "runbook.md"
BIN = Path(sys.executable).parent
BLOCK_TIMEOUT = 240
SFT = "exports/sft/instruction_response.jsonl"
PREFERENCE = "exports/preference/chosen_rejected.jsonl"
DIRECTIVE = re.compile(r"^<!--\s*runbook-test:(?P<body>.*?)-->\s*$")


@dataclass
class Block:
    heading: str
    line: int
    code: str
    setup: str | None = None
    expect_exit: int = 0

    @property
    def name(self) -> str:
        first = next((ln for ln in self.code.splitlines() if ln.strip()), "")
        return f"[{self.heading}] line {self.line}: {first.strip()}"


@dataclass
class Section:
    heading: str
    blocks: list[Block] = field(default_factory=list)


def parse(text: str) -> list[Section]:
    """The page's bash blocks, grouped by the nearest heading above them, in order."""
    sections: list[Section] = []
    heading, pending, in_block, block = "(top)", None, False, None
    lines = text.splitlines()
    for number, line in enumerate(lines, start=1):
        if in_block:
            if line.startswith("```"):
                in_block = False
                if not sections or sections[-1].heading != heading:
                    sections.append(Section(heading))
                sections[-1].blocks.append(block)
            else:
                block.code += line + "\n"
            continue
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
            pending = None
        elif (found := DIRECTIVE.match(line.strip())) is not None:
            pending = dict(part.split("=", 1) for part in found["body"].split())
        elif line.strip() == "```bash":
            options = pending or {}
            unknown = set(options) - {"setup", "expect-exit"}
            assert not unknown, f"runbook line {number}: unknown directive {unknown}"
            block = Block(heading, number + 1, "", options.get("setup"),
                          int(options.get("expect-exit", 0)))
            in_block, pending = True, None
        elif line.strip():
            pending = None
    assert not in_block, "runbook: a ```bash block is never closed"
    return sections


SECTIONS = parse(RUNBOOK.read_text(encoding="utf-8")) if RUNBOOK.is_file() else []


# ---------------------------------------------------------------- setups


def distill(root: Path, *args: str, env: dict | None = None) -> str:
    done = subprocess.run(
        [str(BIN / "distill"), *args, "--root", str(root)], capture_output=True, text=True,
        env=env or clean_env(root), timeout=BLOCK_TIMEOUT,
    )
    assert done.returncode == 0, f"setup: distill {' '.join(args)}: {done.stderr[-2000:]}"
    return done.stdout


def rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def rewrite(path: Path, records: list[dict]) -> None:
    """Write through the published link, as a hand edit or another tool would."""
    path.resolve().write_text("".join(json.dumps(r) + "\n" for r in records))


def plant_sft_leak(root: Path, stack: ExitStack) -> dict:
    """A reviewer rejects a run that is in SFT; only materialize and score run after it."""
    run_id = next(r["source_run_id"] for r in rows(root / SFT)
                  if r["quality_score"] == "accepted")
    reviews = root / "data" / "_kb" / "canonical" / "reviews.jsonl"
    reviews.parent.mkdir(parents=True, exist_ok=True)
    with open(reviews, "a") as handle:
        handle.write(json.dumps({"run_id": run_id, "reviewer": "dave", "verdict": "reject"})
                     + "\n")
    distill(root, "materialize")
    distill(root, "score")
    return {}


def plant_secret(root: Path, stack: ExitStack) -> dict:
    records = rows(root / SFT)
    records[0]["response"] += "\nWrite to ops.lead@example.com if this fails."
    rewrite(root / SFT, records)
    return {}


def plant_self_pair(root: Path, stack: ExitStack) -> dict:
    records = rows(root / PREFERENCE)
    records[0]["rejected_run_id"] = records[0]["chosen_run_id"]
    rewrite(root / PREFERENCE, records)
    return {}


def empty_knowledge_base(root: Path, stack: ExitStack) -> dict:
    """The sources were moved away and the root rebuilt: every export is empty."""
    kb = root / "data" / "_kb"
    sources = root.parent / (root.name + "-sources")
    sources.mkdir()
    for entry in sorted(kb.iterdir()):
        if not entry.is_symlink():
            shutil.move(entry, sources / entry.name)
    distill(root, "run-all")
    assert (root / SFT).read_bytes() == b""
    return {"SOURCES": str(sources)}


def plant_bad_registry(root: Path, stack: ExitStack) -> dict:
    with open(root / "data" / "_kb" / "formats.csv", "a") as handle:
        handle.write("extra/*.jsonl,no_such_format\n")
    return {}


def _new_run(root: Path) -> None:
    runs = root / "data" / "_kb" / "canonical" / "runs.jsonl"
    runs.parent.mkdir(parents=True, exist_ok=True)
    with open(runs, "a") as handle:
        handle.write(json.dumps({
            "run_id": "runbook-new-1", "task_id": "t-runbook",
            "task": "Reverse a string in Python.", "output": "def rev(s):\n    return s[::-1]",
            "model": "m-large", "agent": "coder", "status": "completed",
        }) + "\n")


def add_source_line(root: Path, stack: ExitStack) -> dict:
    _new_run(root)
    return {}


def materialize_only(root: Path, stack: ExitStack) -> dict:
    _new_run(root)
    distill(root, "materialize")
    return {}


def failed_dbt_test(root: Path, stack: ExitStack) -> dict:
    """The last build's results record a failed test, as a build stopped by one does."""
    path = root / "warehouse" / "dbt-target" / "run_results.json"
    results = json.loads(path.read_text())
    test = next(r for r in results["results"] if r["unique_id"].startswith("test."))
    test["status"], test["message"] = "fail", "Got 1 result, configured to fail if != 0"
    path.write_text(json.dumps(results))
    return {}


def plant_bad_replay_line(root: Path, stack: ExitStack) -> dict:
    log = root / "data" / "_kb" / "replay_runs.jsonl"
    with open(log, "ab") as handle:
        handle.write(b'{"schema_version": 1, "replay_id": "rp_cut", "task": "Sum a li\n')
    return {}


def tamper_summary(root: Path, stack: ExitStack) -> dict:
    path = sorted((root / "reports" / "distillation").glob("*/summary.json"))[-1]
    summary = json.loads(path.read_text())
    summary["outputs"][0]["rows"] += 1
    path.write_text(json.dumps(summary, indent=2) + "\n")
    return {}


def plant_drift(root: Path, stack: ExitStack) -> dict:
    """An accepted baseline from a time when the exports were twice as large."""
    distill(root, "baseline", "--notes", "first baseline")
    path = root / "data" / "_kb" / "audit_baselines.jsonl"
    row = json.loads(path.read_text().splitlines()[-1])
    row["metrics"] = {k: v * 2 if k.startswith("exports.") else v
                      for k, v in row["metrics"].items()}
    path.write_text(json.dumps(row, sort_keys=True) + "\n")
    return {}


def model_server(root: Path, stack: ExitStack) -> dict:
    """A model on loopback that answers every task with steps, like a local Ollama."""
    sys.path.insert(0, str(Path(__file__).parent))
    from test_replay_llm import ModelServer

    server = stack.enter_context(ModelServer("ok"))
    return {"DISTILL_MODEL_PROVIDER": "ollama", "DISTILL_MODEL_BASE_URL": server.url}


def grow_replay_log(root: Path, stack: ExitStack) -> dict:
    """A replay log past its bound: the bound was lowered after the log grew."""
    distill(root, "replay", "--from-runs", "1", "--baseline")
    log = root / "data" / "_kb" / "replay_runs.jsonl"
    record = rows(log)[0]
    with open(log, "a") as handle:
        for number in range(60):
            handle.write(json.dumps(dict(record, replay_id=f"rp_grown_{number:04d}"),
                                    sort_keys=True) + "\n")
    bound = log.stat().st_size - 1
    return {"DISTILL_REPLAY_LOG_MAX_BYTES": str(bound)}


SETUPS: dict[str, Callable[[Path, ExitStack], dict]] = {
    f.__name__: f for f in (
        plant_sft_leak, plant_secret, plant_self_pair, empty_knowledge_base,
        plant_bad_registry, add_source_line, materialize_only, failed_dbt_test,
        plant_bad_replay_line, tamper_summary, plant_drift, model_server, grow_replay_log,
    )
}


# ---------------------------------------------------------------- running


def clean_env(root: Path, extra: dict | None = None) -> dict:
    """The caller's environment without distill's own settings, so the page's commands
    behave as written; then ROOT, PATH and whatever the section's setup set."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DISTILL_")}
    env["DISTILL_PROJECT_DIR"] = str(PROJECT_DIR)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["ROOT"] = str(root)
    env.update(extra or {})
    return env


def run_section(section: Section, base: Path, scratch: Path) -> list[str]:
    """Run a heading's blocks in order on its own copy of the base root; the failures."""
    started = time.monotonic()
    folder = Path(tempfile.mkdtemp(dir=scratch))
    root = folder / "root"
    shutil.copytree(base, root, symlinks=True)
    failures: list[str] = []
    env = clean_env(root)
    with ExitStack() as stack:
        for block in section.blocks:
            if block.setup:
                try:
                    planted = SETUPS[block.setup](root, stack)
                except Exception as error:  # noqa: BLE001 -- reported under the block's name
                    failures.append(f"{block.name}\n  setup {block.setup!r} failed: "
                                    f"{type(error).__name__}: {error}")
                    break
                env = clean_env(root, {**env_extra(env), **planted})
            done = subprocess.run(
                ["bash", "-euo", "pipefail", "-c", block.code], cwd=folder, env=env,
                capture_output=True, text=True, timeout=BLOCK_TIMEOUT,
            )
            if done.returncode != block.expect_exit:
                failures.append(
                    f"{block.name}\n  exit {done.returncode}, expected {block.expect_exit}\n"
                    f"  stdout: {done.stdout[-1500:]}\n  stderr: {done.stderr[-1500:]}"
                )
                break
    print(f"runbook section {section.heading!r}: {time.monotonic() - started:.1f}s",
          file=sys.stderr)
    return failures


def env_extra(env: dict) -> dict:
    return {k: v for k, v in env.items() if k.startswith("DISTILL_") or k == "SOURCES"} | {
        "DISTILL_PROJECT_DIR": str(PROJECT_DIR)}


@pytest.fixture(scope="module")
def runbook_root(make_root, tmp_path_factory) -> Path:
    """The fixture knowledge base as a user's own, built once: without its promised
    outcomes (a section adds lines the fixture promises nothing for) and without its
    replay log, so every required check passes and each section's setup alone decides
    what fails."""
    kb = tmp_path_factory.mktemp("runbook-kb") / "kb"
    shutil.copytree(FIXTURE_KB, kb, ignore=shutil.ignore_patterns("replay_runs*", "expected_*"))
    return make_root("runbook", kb=kb)


@pytest.fixture(scope="module")
def outcomes(runbook_root, tmp_path_factory) -> dict[str, list[str]]:
    """Every section run once, two at a time (each its own root and processes)."""
    scratch = tmp_path_factory.mktemp("runbook")
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {s.heading: pool.submit(run_section, s, runbook_root, scratch)
                   for s in SECTIONS}
        return {heading: future.result() for heading, future in futures.items()}


# ---------------------------------------------------------------- tests


def test_runbook_exists_with_command_blocks():
    assert RUNBOOK.is_file(), "docs/runbook.md is missing"
    blocks = [b for s in SECTIONS for b in s.blocks]
    assert len(blocks) >= 30, f"only {len(blocks)} command blocks"
    assert all(b.code.strip() for b in blocks), "an empty command block"


@pytest.mark.parametrize("heading", [s.heading for s in SECTIONS])
def test_every_block_runs(outcomes, heading):
    failures = outcomes[heading]
    assert not failures, "runbook block failed:\n" + "\n".join(failures)


def test_every_required_check_is_named_in_a_heading():
    headings = [ln for ln in RUNBOOK.read_text(encoding="utf-8").splitlines()
                if ln.startswith("#")]
    required = [c.name for c in CHECKS if c.required]
    assert len(required) >= 16
    missing = [name for name in required if not any(f"`{name}`" in h for h in headings)]
    assert not missing, f"required checks with no heading in the runbook: {missing}"


def test_every_symptom_has_a_section():
    text = RUNBOOK.read_text(encoding="utf-8").lower()
    headings = [ln for ln in text.splitlines() if ln.startswith("#")]
    for symptom in ("contamination leak", "acceptance gate", "empty exports", "self-pair",
                    "summary does not validate", "hash mismatch", "drift",
                    "replay regressions", "replay log"):
        assert any(symptom in h for h in headings), f"no section for {symptom!r}"
    for marker in ("**cause.**", "**diagnose.**", "**fix.**"):
        assert text.count(marker) >= 15, f"too few {marker} paragraphs"


def test_commands_stay_on_the_root_and_use_no_missing_tool():
    for section in SECTIONS:
        for block in section.blocks:
            assert not re.search(r"\bjq\b", block.code), f"{block.name}: jq is not installed"
            for command in re.findall(r"(?m)(?:^|[|;(]\s*|\bthen\s+|[A-Z_]+=\S+\s+)"
                                      r"distill\s+([a-z-]+)([^\n]*)", block.code):
                name, rest = command
                assert "--root" in rest, f"{block.name}: distill {name} without --root"
