"""Where everything lives under a root, so that no command writes outside it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_DIR = Path(
    os.environ.get("DISTILL_PROJECT_DIR") or Path(__file__).resolve().parents[2]
).resolve()
"""The dbt project, its seeds and the fixture knowledge base: the repository, unless
DISTILL_PROJECT_DIR names a copy (the acceptance tests use one with a deliberate mistake)."""


@dataclass(frozen=True)
class Layout:
    """The paths of one root: its knowledge base and everything the product writes."""

    root: Path

    @property
    def kb(self) -> Path:
        return self.root / "data" / "_kb"

    @property
    def evidence_dir(self) -> Path:
        return self.root / "data" / "evidence"

    @property
    def scored_dir(self) -> Path:
        return self.root / "data" / "scored-runs"

    @property
    def exports_dir(self) -> Path:
        return self.root / "exports"

    @property
    def reports_dir(self) -> Path:
        return self.root / "reports" / "distillation"

    @property
    def warehouse_dir(self) -> Path:
        return self.root / "warehouse"

    @property
    def warehouse(self) -> Path:
        return self.warehouse_dir / "distill.duckdb"

    @property
    def dbt_target(self) -> Path:
        return self.warehouse_dir / "dbt-target"

    @property
    def dbt_logs(self) -> Path:
        return self.warehouse_dir / "dbt-logs"

    @property
    def staging_area(self) -> Path:
        """Where a new set of outputs is written before it replaces the old one."""
        return self.warehouse_dir / "publish"

    @property
    def lock_file(self) -> Path:
        return self.warehouse_dir / "run.lock"


def find_root(start: Path | None = None) -> Path:
    """The repository root above `start`: the nearest folder holding dbt_project.yml.

    A user's own root need not hold one; this is only the default when --root is absent.
    """
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "dbt_project.yml").is_file():
            return folder
    return PROJECT_DIR


MAX_THREADS = 64


def thread_count() -> int:
    """dbt's thread count, from DISTILL_THREADS (default 4); bad values fail fast."""
    raw = os.environ.get("DISTILL_THREADS", "4").strip()
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_THREADS:
        from distill.errors import ConfigError

        raise ConfigError(
            f"DISTILL_THREADS={raw!r} is not a whole number from 1 to {MAX_THREADS}"
        )
    return int(raw)
