"""The benchmark: how fast `run-all` is, against DuckDB alone doing the same I/O.

For each N it writes a synthetic knowledge base of N runs in the canonical streams (a
seeded generator, so the same N and seed give byte-identical files), runs `distill run-all`
on it in a fresh process, then, in another fresh process and the same sitting, has DuckDB
alone read the same files, parse every line and write as many JSONL bytes as run-all
exported. The machines are noisy, so the number that matters is the ratio of the two,
not either time on its own. Peak memory is each child's own maximum resident set, read
from the kernel when the child is reaped.

    python -m distill.bench --runs 10000 100000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from distill.layout import find_root

RECORDED_AT = "2026-01-01T00:00:00Z"
SHARD_LINES = 20_000

# ---------- what the generated runs are like

TASK_KINDS = ("bugfix", "refactor", "data_query", "customer_support", "docs", "test_writing")
MODELS = ("gpt-4o-mini", "claude-3-5-sonnet", "llama-3.1-70b", "qwen2.5-coder-32b")
AGENTS = ("swe-agent", "support-bot", "sql-agent")
CHECKS = ("unit_tests", "lint", "type_check", "schema_valid", "sql_executes")
REVIEWERS = ("judge-gpt-4o", "judge-claude", "human-reviewer-3")
TOOLS = ("read_file", "search_code", "run_tests", "edit_file", "run_sql", "lookup_order")
WORDS = (
    "the", "module", "parser", "cache", "request", "retry", "timeout", "index", "query",
    "schema", "migration", "handler", "customer", "order", "refund", "invoice", "column",
    "join", "filter", "window", "test", "fixture", "branch", "commit", "config", "logging",
    "metric", "deadline", "queue", "worker", "batch", "stream", "token", "café", "naïve",
    "résumé",
)


@dataclass(frozen=True)
class Profile:
    """One kind of run: its status, the signals it gets, and the category they must give.

    checks is none, pass (every check passes) or fail (the last check fails); review is
    the reviewer's line (see Generator.review_of). The weights are shares of 100.
    """

    name: str
    category: str
    weight: int
    status: str
    checks: str
    review: str


PROFILES = (
    Profile("all_positive", "accepted", 34, "completed", "pass", "accept"),
    Profile("checks_only", "accepted", 8, "completed", "pass", "none"),
    Profile("judged_partial", "partially_accepted", 10, "completed", "pass", "score_mid"),
    Profile("reviewer_partial", "partially_accepted", 4, "completed", "none", "partial"),
    Profile("tests_fail", "rejected", 12, "completed", "fail", "reject"),
    Profile("judge_low", "rejected", 6, "completed", "none", "score_low"),
    Profile("run_failed", "rejected", 4, "failed", "none", "none"),
    Profile("conflicting", "needs_human_review", 5, "completed", "pass", "reject"),
    Profile("judge_error", "needs_human_review", 5, "completed", "pass", "judge_error"),
    Profile("handed_off", "needs_human_review", 4, "handed_off", "none", "none"),
    Profile("escalated", "needs_human_review", 2, "completed", "none", "escalate"),
    Profile("no_signal", "needs_human_review", 6, "completed", "none", "none"),
)

CATEGORY_RANK = {"accepted": 3, "partially_accepted": 2, "rejected": 1}


@dataclass
class Planted:
    """What the generator wrote and what run-all must make of it."""

    runs: int
    files: dict[str, int] = field(default_factory=dict)
    """source file (relative to the knowledge base) -> lines"""
    bytes: int = 0
    skips: Counter = field(default_factory=Counter)
    """skip reason -> lines planted to get it"""
    categories: dict[str, str] = field(default_factory=dict)
    """run id -> the quality_score its signals must give"""
    crlf_lines: int = 0

    @property
    def lines(self) -> int:
        return sum(self.files.values())


# ---------- the generator

class Generator:
    """Writes one knowledge base; every choice comes from one seeded random generator."""

    def __init__(self, runs: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.runs = runs
        self.planted = Planted(runs=runs)
        self.run_lines: list[str] = []
        self.check_lines: list[str] = []
        self.review_lines: list[str] = []
        self.comparison_lines: list[str] = []
        self.accepted_runs: list[str] = []

    def words(self, low: int, high: int) -> str:
        return " ".join(self.rng.choices(WORDS, k=self.rng.randint(low, high)))

    def run_line(self, run_id: str, task_id: str, task_kind: str, task_text: str,
                 profile: Profile, index: int) -> dict:
        rng = self.rng
        answer = f"Run {run_id}: {self.words(40, 220)}."
        if task_kind == "customer_support" and rng.random() < 0.05:
            answer += f" I wrote to customer{index}@example.com with the refund."  # redacted
        output: str | list = answer
        if rng.random() < 0.3:
            output = [
                {"role": "assistant", "content": f"Looking at {self.words(3, 8)}."},
                {"role": "assistant", "content": answer},
            ]
        task: str | list = task_text
        if rng.random() < 0.2:
            task = [
                {"role": "system", "content": f"You are a {task_kind} agent."},
                {"role": "user", "content": task_text},
            ]
        trajectory = [
            {
                "name": rng.choice(TOOLS),
                "arguments": {"target": f"{rng.choice(WORDS)}_{rng.randint(1, 99)}.py"},
                "result": self.words(5, 40),
            }
            for _ in range(rng.choice((0, 0, 1, 2, 3, 4, 6)))
        ]
        status = profile.status
        if status == "failed" and rng.random() < 0.5:
            status = "error"
        started = 1_767_225_600 + index * 37
        return {
            "run_id": run_id,
            "task_id": task_id,
            "task": task,
            "output": output,
            "trajectory": trajectory,
            "model": rng.choice(MODELS),
            "agent": rng.choice(AGENTS),
            "status": status,
            "started_at": _iso(started),
            "ended_at": _iso(started + rng.randint(5, 900)),
            "task_kind": task_kind,
        }

    def checks_of(self, run_id: str, plan: str) -> list[dict]:
        if plan == "none":
            return []
        names = self.rng.sample(CHECKS, self.rng.randint(1, 3))
        failed_last = plan == "fail"
        return [
            {
                "run_id": run_id,
                "check": name,
                "passed": not (failed_last and position == len(names) - 1),
                "detail": f"{name}: {self.rng.randint(1, 400)} items examined",
            }
            for position, name in enumerate(names)
        ]

    def review_of(self, run_id: str, plan: str) -> dict | None:
        rng = self.rng
        if plan == "none":
            return None
        reviewer = rng.choice(REVIEWERS)
        line: dict = {
            "run_id": run_id,
            "reviewer": reviewer,
            "reviewer_kind": "human" if reviewer.startswith("human") else "llm_judge",
        }
        if plan == "accept":
            line["verdict"] = "accept"
            if rng.random() < 0.5:
                line["score"] = rng.randint(8, 10)
        elif plan == "score_mid":
            line.update(rng.choice(({"score": rng.randint(5, 7)}, {"score": 3, "scale_max": 5})))
        elif plan == "score_low":
            line.update(rng.choice(({"score": rng.randint(0, 4)}, {"score": 1.5, "scale_max": 5})))
        elif plan == "judge_error":
            line.update(rng.choice(({"score": -1}, {"verdict": "error"})))
        else:
            line["verdict"] = plan
        line["comment"] = self.words(4, 20)
        return line

    def comparison_of(self, task_runs: list[tuple[str, str]]) -> dict:
        (run_a, category_a), (run_b, category_b) = self.rng.sample(task_runs, 2)
        rank_a, rank_b = CATEGORY_RANK.get(category_a, 0), CATEGORY_RANK.get(category_b, 0)
        winner = "a" if rank_a > rank_b else "b" if rank_b > rank_a else "tie"
        if self.rng.random() < 0.15:
            winner = self.rng.choice(("a", "b", "tie"))
        return {
            "run_a": run_a,
            "run_b": run_b,
            "winner": winner,
            "judge": "pairwise-judge-gpt-4o",
            "reason": self.words(4, 12),
        }

    def plant_runs(self) -> None:
        """The runs, several per task, with their checks, reviews and comparisons."""
        rng = self.rng
        weights = [p.weight for p in PROFILES]
        index = task_number = 0
        while index < self.runs:
            task_number += 1
            task_id = f"task-{task_number:06d}"
            task_kind = rng.choice(TASK_KINDS)
            task_text = f"{task_kind} task {task_number}: {self.words(12, 60)}?"
            task_runs: list[tuple[str, str]] = []
            for _ in range(min(rng.randint(1, 6), self.runs - index)):
                index += 1
                run_id = f"run-{index:07d}"
                profile = rng.choices(PROFILES, weights)[0]
                line = self.run_line(run_id, task_id, task_kind, task_text, profile, index)
                self.run_lines.append(_dump(line))
                self.check_lines += [_dump(c) for c in self.checks_of(run_id, profile.checks)]
                review = self.review_of(run_id, profile.review)
                if review is not None:
                    self.review_lines.append(_dump(review))
                self.planted.categories[run_id] = profile.category
                if profile.category == "accepted":
                    self.accepted_runs.append(run_id)
                task_runs.append((run_id, profile.category))
            if len(task_runs) >= 2 and rng.random() < 0.5:
                self.comparison_lines.append(_dump(self.comparison_of(task_runs)))

    def plant_bad_lines(self) -> None:
        """A small share of lines that run-all must skip, each with its own reason.

        The wrong-typed signals say "failed" or "2 of 10" about accepted runs: read as
        signals, they would turn those runs into rejected ones.
        """
        rng = self.rng
        share = max(2, self.runs // 500)

        def insert(lines: list[str], new: str) -> None:
            lines.insert(rng.randrange(len(lines) + 1), new)

        for number in range(share):
            insert(self.run_lines, rng.choice(("", "   \t")))
            insert(self.check_lines, "")
            ghost = _dump({"run_id": f"ghost-{number}", "task_id": "t", "task": self.words(9, 30)})
            insert(self.run_lines, ghost[: rng.randint(5, len(ghost) - 2)])
            victim = rng.choice(self.accepted_runs)
            insert(self.check_lines, _dump({"run_id": victim, "check": "lint", "passed": "false"}))
            insert(self.review_lines, _dump({"run_id": victim, "reviewer": "judge-claude",
                                             "score": "2", "comment": "score sent as text"}))
            insert(self.check_lines, _dump({"run_id": f"run-missing-{number:04d}",
                                            "check": "unit_tests", "passed": True}))
        self.planted.skips.update({
            "blank_line": 2 * share,
            "invalid_json": share,
            "wrong_type": 2 * share,
            "orphan_signal": share,
        })

        rare = max(1, self.runs // 1000)
        for _ in range(rare):
            insert(self.check_lines, _dump({"run_id": rng.choice(self.accepted_runs),
                                            "check": "unit_tests", "detail": "no outcome"}))
        self.planted.skips["missing_required_field"] += rare

    def plant_duplicates(self) -> None:
        """Runs sent twice, the second time with another output: the first line is kept."""
        count = max(1, self.runs // 1000)
        for _ in range(count):
            replayed = json.loads(self.run_lines[self.rng.randrange(self.runs)])
            replayed["output"] = f"replayed: {self.words(10, 30)}"
            self.run_lines.append(_dump(replayed))
        self.planted.skips["duplicate_run_id"] += count

    def write(self, kb: Path) -> Planted:
        streams = {
            "runs/runs": self.run_lines,
            "checks/checks": self.check_lines,
            "reviews/reviews": self.review_lines,
        }
        for stem, lines in streams.items():
            for shard, start in enumerate(range(0, len(lines), SHARD_LINES), start=1):
                self._write_file(kb, f"{stem}-{shard:04d}.jsonl", lines[start:start + SHARD_LINES])
        # exported from a Windows tool: CRLF endings, which belong to the line ending
        self._write_file(kb, "comparisons.jsonl", self.comparison_lines, ending="\r\n")
        self.planted.crlf_lines = len(self.comparison_lines)
        return self.planted

    def _write_file(self, kb: Path, relpath: str, lines: list[str], ending: str = "\n") -> None:
        path = kb / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        data = "".join(line + ending for line in lines).encode()
        path.write_bytes(data)
        self.planted.files[relpath] = len(lines)
        self.planted.bytes += len(data)


def generate(kb: Path, runs: int, seed: int = 20260101) -> Planted:
    """Write a knowledge base of `runs` runs into kb; the same arguments, the same bytes."""
    generator = Generator(runs, seed)
    generator.plant_runs()
    generator.plant_duplicates()
    generator.plant_bad_lines()
    return generator.write(kb)


def _dump(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False)


def _iso(epoch_seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch_seconds))


# ---------- measuring a child process

@dataclass
class ChildRun:
    """One fresh process: how long it took, its own peak memory, what it printed."""

    seconds: float
    cpu_seconds: float
    peak_rss_mb: float
    exit_code: int
    output: str


# Started from a big process, a child's ru_maxrss starts at its parent's peak: Linux keeps
# the high-water mark of the memory an exec replaces. So a small launcher process spawns
# the child and reaps it with wait4, and the figure is the child's own (the launcher's
# few megabytes are the floor). RUSAGE_CHILDREN would give the largest child so far.
LAUNCHER = """
import json, os, signal, sys, time
report, timeout, argv = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
started = time.monotonic()
pid = os.posix_spawnp(argv[0], argv, os.environ)
signal.signal(signal.SIGALRM, lambda *_: os.kill(pid, signal.SIGKILL))
signal.setitimer(signal.ITIMER_REAL, timeout)
_, status, usage = os.wait4(pid, 0)
seconds = time.monotonic() - started
with open(report, "w") as out:
    json.dump({"exit_code": os.waitstatus_to_exitcode(status), "seconds": seconds,
               "cpu_seconds": usage.ru_utime + usage.ru_stime, "max_rss_kb": usage.ru_maxrss},
              out)
"""


def run_child(argv: list[str], log: Path, timeout: float) -> ChildRun:
    """Run argv in a fresh process, killed after timeout seconds; output goes to log."""
    log.parent.mkdir(parents=True, exist_ok=True)
    report = log.with_suffix(".rusage.json")
    with open(log, "wb") as sink:
        subprocess.run(
            [sys.executable, "-c", LAUNCHER, str(report), str(timeout), *argv],
            stdout=sink, stderr=subprocess.STDOUT, check=True,
        )
    measured = json.loads(report.read_text())
    return ChildRun(
        seconds=measured["seconds"],
        cpu_seconds=measured["cpu_seconds"],
        peak_rss_mb=measured["max_rss_kb"] / 1024,  # Linux reports kilobytes
        exit_code=measured["exit_code"],
        output=log.read_text(errors="replace"),
    )


# ---------- the baseline: DuckDB alone, the same files in, the same bytes out

BASELINE_READ = """
create table parsed as
with texts as (
    select filename, string_split(content, chr(10)) as lines
    from read_text($files)
),
lines as (
    select
        filename,
        unnest(lines) as line,
        unnest(range(1, len(lines) + 1)) as line_number,
        len(lines) as pieces
    from texts
)
select
    filename,
    line_number,
    strlen(line) as line_bytes,
    -- json() parses and re-serialises: the same text COPY writes
    case when json_valid(line) then json(line) end as record
from lines
-- a file that ends with a newline leaves one empty piece after it: not a line
where not (line_number = pieces and line = '')
"""

BASELINE_WRITE = """
copy (
    with sized as (
        select
            record,
            filename,
            line_number,
            sum(strlen(record::varchar) + {row_overhead}) over (
                order by filename, line_number
                rows between unbounded preceding and current row
            ) as written_in_copy
        from parsed
        where record is not null
    ),
    one_copy as (
        select max(written_in_copy) as copy_bytes from sized
    )
    select sized.record
    from sized, one_copy, range({copies}) as copies(copy_number)
    where copy_number * copy_bytes + written_in_copy <= {target}
    order by copy_number, filename, line_number
) to '{path}' (format json)
"""


def duckdb_alone(files: list[str], export_bytes: int, out_path: str) -> dict:
    """Read and parse every line of files, then write about export_bytes of JSONL.

    Runs in the child process; prints its own split of the time as JSON.
    """
    import duckdb

    con = duckdb.connect()
    con.execute("set enable_progress_bar = false")
    started = time.monotonic()
    con.execute(BASELINE_READ, {"files": files})
    lines, source_bytes = con.execute(
        "select count(*), sum(line_bytes) from parsed"
    ).fetchone()
    read_seconds = time.monotonic() - started

    copies = -(-export_bytes // max(1, source_bytes)) + 1  # parsed JSON is a bit smaller
    row_overhead = len('{"record":}\n')
    con.execute(BASELINE_WRITE.format(
        row_overhead=row_overhead, copies=copies, target=export_bytes, path=out_path
    ))
    written = os.path.getsize(out_path)
    return {
        "lines": lines,
        "read_seconds": round(read_seconds, 3),
        "write_seconds": round(time.monotonic() - started - read_seconds, 3),
        "bytes_written": written,
    }


# ---------- one benchmark

@dataclass
class Result:
    """One N: the knowledge base, run-all's numbers and the baseline's, side by side."""

    runs: int
    source_files: int
    source_lines: int
    source_bytes: int
    export_bytes: int
    run_all_seconds: float
    run_all_cpu_seconds: float
    run_all_peak_rss_mb: float
    duckdb_seconds: float
    duckdb_cpu_seconds: float
    duckdb_peak_rss_mb: float
    duckdb_bytes_written: int
    duckdb_split: dict
    run_all_durations: dict
    slowest_dbt_nodes: list[dict]
    generate_seconds: float

    @property
    def lines_per_second(self) -> float:
        return self.source_lines / self.run_all_seconds

    @property
    def time_ratio(self) -> float:
        return self.run_all_seconds / self.duckdb_seconds

    @property
    def cpu_ratio(self) -> float:
        """Less sensitive than wall time to what else the machine is running."""
        return self.run_all_cpu_seconds / self.duckdb_cpu_seconds

    def as_json(self) -> dict:
        record = dict(self.__dict__)
        record["lines_per_second"] = round(self.lines_per_second, 1)
        record["time_ratio"] = round(self.time_ratio, 2)
        record["cpu_ratio"] = round(self.cpu_ratio, 2)
        record["memory_ratio"] = round(self.run_all_peak_rss_mb / self.duckdb_peak_rss_mb, 2)
        return record


def slowest_nodes(root: Path, count: int = 8) -> list[dict]:
    """dbt's own timing of each model and test, slowest first: where the time goes."""
    results = root / "warehouse" / "dbt-target" / "run_results.json"
    if not results.is_file():
        return []
    nodes = json.loads(results.read_text())["results"]
    ranked = sorted(nodes, key=lambda n: -float(n.get("execution_time") or 0.0))
    return [
        {"node": n["unique_id"], "seconds": round(float(n["execution_time"]), 2)}
        for n in ranked[:count]
    ]


def benchmark(runs: int, scratch: Path, timeout: float, seed: int) -> Result:
    """Generate, run run-all, run the baseline; raise when a child fails."""
    root = scratch / f"runs-{runs}"
    kb = root / "data" / "_kb"
    started = time.monotonic()
    planted = generate(kb, runs, seed)
    generate_seconds = time.monotonic() - started
    print(f"N={runs:,}: generated {planted.lines:,} lines in {len(planted.files)} files "
          f"({planted.bytes / 1e6:.1f} MB) in {generate_seconds:.1f}s; running run-all",
          flush=True)

    run_all = run_child(
        [sys.executable, "-m", "distill.cli", "run-all", "--root", str(root),
         "--recorded-at", RECORDED_AT],
        scratch / f"run-all-{runs}.log", timeout,
    )
    if run_all.exit_code != 0:
        raise RuntimeError(f"run-all on N={runs:,} exited {run_all.exit_code} after "
                           f"{run_all.seconds:.0f}s:\n{run_all.output[-3000:]}")
    receipt = max((root / "reports" / "distillation").glob("*/summary.json"))
    summary = json.loads(receipt.read_text())
    export_bytes = sum(output["bytes"] for output in summary["outputs"])
    print(f"N={runs:,}: run-all took {run_all.seconds:.1f}s; running DuckDB alone", flush=True)

    files = [str(kb / relpath) for relpath in sorted(planted.files)]
    baseline_out = scratch / f"duckdb-alone-{runs}.jsonl"
    code = (
        "import json, sys; from distill.bench import duckdb_alone; "
        "print(json.dumps(duckdb_alone(json.loads(sys.argv[1]), int(sys.argv[2]), sys.argv[3])))"
    )
    baseline = run_child(
        [sys.executable, "-c", code, json.dumps(files), str(export_bytes), str(baseline_out)],
        scratch / f"duckdb-alone-{runs}.log", timeout,
    )
    if baseline.exit_code != 0:
        raise RuntimeError(f"DuckDB alone on N={runs:,} exited {baseline.exit_code}:\n"
                           f"{baseline.output[-3000:]}")
    split = json.loads(baseline.output.strip().splitlines()[-1])
    if split["lines"] != planted.lines:
        raise RuntimeError(f"DuckDB alone read {split['lines']:,} lines, not {planted.lines:,}")

    return Result(
        runs=runs,
        source_files=len(planted.files),
        source_lines=planted.lines,
        source_bytes=planted.bytes,
        export_bytes=export_bytes,
        run_all_seconds=round(run_all.seconds, 2),
        run_all_cpu_seconds=round(run_all.cpu_seconds, 2),
        run_all_peak_rss_mb=round(run_all.peak_rss_mb, 1),
        duckdb_seconds=round(baseline.seconds, 2),
        duckdb_cpu_seconds=round(baseline.cpu_seconds, 2),
        duckdb_peak_rss_mb=round(baseline.peak_rss_mb, 1),
        duckdb_bytes_written=split["bytes_written"],
        duckdb_split=split,
        run_all_durations=summary["durations_seconds"],
        slowest_dbt_nodes=slowest_nodes(root),
        generate_seconds=round(generate_seconds, 2),
    )


# ---------- the command

COLUMNS = (
    ("N", lambda r: f"{r.runs:,}"),
    ("source lines", lambda r: f"{r.source_lines:,}"),
    ("source MB", lambda r: f"{r.source_bytes / 1e6:.1f}"),
    ("export MB", lambda r: f"{r.export_bytes / 1e6:.1f}"),
    ("run-all s", lambda r: f"{r.run_all_seconds:.1f}"),
    ("lines/s", lambda r: f"{r.lines_per_second:,.0f}"),
    ("peak RSS MB", lambda r: f"{r.run_all_peak_rss_mb:,.0f}"),
    ("DuckDB-alone s", lambda r: f"{r.duckdb_seconds:.1f}"),
    ("DuckDB RSS MB", lambda r: f"{r.duckdb_peak_rss_mb:,.0f}"),
    ("time ratio", lambda r: f"{r.time_ratio:.1f}x"),
    ("CPU ratio", lambda r: f"{r.cpu_ratio:.1f}x"),
)


def table(results: list[Result]) -> str:
    rows = [[name for name, _ in COLUMNS]]
    rows += [[cell(r) for _, cell in COLUMNS] for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = [
        "  ".join(value.rjust(width) for value, width in zip(row, widths, strict=True))
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m distill.bench",
        description="Time run-all on N synthetic runs against DuckDB alone reading the same "
                    "files and writing the same number of export bytes, in the same sitting.",
    )
    parser.add_argument("--runs", type=int, nargs="+", default=[10_000, 100_000],
                        help="the N to benchmark, each in a fresh knowledge base")
    parser.add_argument("--seed", type=int, default=20260101,
                        help="the generator's seed (the same seed, the same files)")
    parser.add_argument("--root", type=Path, default=None,
                        help="reports go to ROOT/reports/benchmarks (default: the repository)")
    parser.add_argument("--out", type=Path, default=None,
                        help="the folder for run-all-<N>.json (overrides --root)")
    parser.add_argument("--scratch", type=Path, default=None,
                        help="where the temporary roots go (default: the system's temp folder)")
    parser.add_argument("--timeout", type=float, default=3600,
                        help="seconds after which a child is killed")
    parser.add_argument("--keep", action="store_true",
                        help="keep the temporary roots (warehouse, dbt timings) and print them")
    args = parser.parse_args(argv)

    out = args.out or (args.root or find_root()).resolve() / "reports" / "benchmarks"
    out.mkdir(parents=True, exist_ok=True)
    if args.scratch:
        args.scratch.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="distill-bench-", dir=args.scratch))

    results: list[Result] = []
    try:
        for runs in args.runs:
            result = benchmark(runs, scratch, args.timeout, args.seed)
            results.append(result)
            report = out / f"run-all-{runs}.json"
            report.write_text(json.dumps(result.as_json(), indent=2) + "\n")
            print(f"N={runs:,}: wrote {report}", flush=True)
    except RuntimeError as error:
        print(f"benchmark failed: {error}\nscratch root kept: {scratch}", file=sys.stderr)
        return 1
    finally:
        if results:
            print()
            print(table(results))
            for result in results:
                slowest = ", ".join(f"{n['node'].split('.')[2]} {n['seconds']:.1f}s"
                                    for n in result.slowest_dbt_nodes[:5])
                print(f"N={result.runs:,} slowest dbt nodes: {slowest}")
    if args.keep:
        print(f"scratch root kept: {scratch}")
    else:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
