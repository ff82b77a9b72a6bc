"""A small knowledge base cut from the shipped real sample, for tests that run the pipeline
several times: a few dozen lines of every format, plus a damaged file so that the
distillation skips are not empty.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from distill.layout import PROJECT_DIR

REAL_KB = PROJECT_DIR / "data" / "_kb"
DAMAGED_FILE = "reflexion-coding/damaged.jsonl"


def _kept(folder: str, number: int, record: dict) -> bool:
    """Lines enough for every outcome: accepted and rejected runs of one task (preference
    pairs), a judge's pairwise verdicts, runs a judge failed, a run with no output."""
    if folder == "mtbench-phi3":
        return record["question_id"] in {81, 82, 100, 101}
    if folder == "reflexion-coding":
        name = record.get("name") or record.get("task_id")
        return number <= 6 or name in {"mbpp_738_geometric_sum", "HumanEval/108"}
    return record["task_id"] in {1, 6}  # taubench: four trials each, passed and failed


def _kept_lines(relpath: str, lines: list[bytes]) -> list[bytes]:
    folder = relpath.split("/")[0]
    return [
        line for number, line in enumerate(lines, start=1)
        if _kept(folder, number, json.loads(line))
    ]


def small_kb_files() -> dict[str, bytes]:
    """Relative path -> content: the cut sample, the registry and one damaged file."""
    files: dict[str, bytes] = {"formats.csv": (REAL_KB / "formats.csv").read_bytes()}
    for folder in ("mtbench-phi3", "reflexion-coding", "taubench-airline"):
        for path in sorted((REAL_KB / folder).rglob("*.jsonl")):
            relpath = path.relative_to(REAL_KB).as_posix()
            lines = path.read_bytes().splitlines(keepends=True)
            files[relpath] = b"".join(_kept_lines(relpath, lines))
    first_reflexion = files["reflexion-coding/simple_mbpp_py.jsonl"].splitlines(True)[0]
    files[DAMAGED_FILE] = (
        first_reflexion.replace(b"mbpp_234", b"mbpp_9234")  # a run of its own
        + b"\n"  # blank_line
        + b'{"prompt": "unterminated\n'  # invalid_json
    )
    return files


def write_kb(root: Path, files: dict[str, bytes], reverse: bool = False) -> Path:
    """Write the files into root/data/_kb, in path order or the reverse: the order in which
    they are created on disk (and so, on most file systems, listed) differs."""
    kb = root / "data" / "_kb"
    shutil.rmtree(kb, ignore_errors=True)
    for relpath in sorted(files, reverse=reverse):
        target = kb / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(files[relpath])
    return kb
