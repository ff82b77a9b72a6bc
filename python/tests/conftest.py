"""Shared fixtures: roots built once per test session, in temporary folders.

Each built root is a copy of a knowledge base plus everything `distill run-all` wrote
there. Tests that only read a root share one; tests that change a root make their own
with `make_root`.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from distill.layout import PROJECT_DIR, Layout
from distill.pipeline import run_all

RECORDED_AT = "2026-01-01T00:00:00Z"
REAL_KB = PROJECT_DIR / "data" / "_kb"
OWN_FILES = ("distillation_skips.jsonl", "scoring_skips.jsonl", "audit_baselines.jsonl")


def copy_kb(source: Path, root: Path) -> Path:
    """Copy a knowledge base into root/data/_kb, leaving out the product's own files."""
    kb = root / "data" / "_kb"
    # a replay log in the repository's own knowledge base is local history, not the sample
    local = ("replay_runs*",) if source == REAL_KB else ()
    shutil.copytree(source, kb, ignore=shutil.ignore_patterns(*OWN_FILES, *local))
    return kb


def read_jsonl(path: Path) -> list[dict]:
    with open(path, "rb") as handle:
        return [json.loads(line) for line in handle if line.strip()]


@pytest.fixture(scope="session")
def make_root(tmp_path_factory) -> Callable[..., Path]:
    """make_root(name, kb=REAL_KB, build=True): a fresh root, built with run-all."""

    def make(name: str, kb: Path = REAL_KB, build: bool = True) -> Path:
        root = tmp_path_factory.mktemp(name)
        copy_kb(kb, root)
        if build:
            run_all(Layout(root), RECORDED_AT)
        return root

    return make


@pytest.fixture(scope="session")
def real_root(make_root) -> Path:
    """The shipped real sample, built once. Read it; never change it."""
    return make_root("real")


@pytest.fixture(scope="session")
def real_summary(real_root) -> dict:
    found = sorted((real_root / "reports" / "distillation").glob("*/summary.json"))
    return json.loads(found[-1].read_text())


FIXTURE_KB = PROJECT_DIR / "fixtures" / "kb"


@pytest.fixture(scope="session")
def fixture_root(make_root) -> Path:
    """The fixture knowledge base (every line's outcome promised), built once. Read only."""
    return make_root("fixture", kb=FIXTURE_KB)


@pytest.fixture(scope="session")
def fixture_expected() -> list[dict]:
    import csv

    with open(FIXTURE_KB / "expected_outcomes.csv", newline="") as handle:
        return list(csv.DictReader(handle))
