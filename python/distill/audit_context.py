"""What the audit inspects: a root's files and warehouse, read once, never rebuilt.

Every reader tolerates a root where some phase never ran: a missing file reads as no rows
and a missing warehouse as no connection, so each check can say what is missing instead
of the audit crashing.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import duckdb

from distill.layout import PROJECT_DIR, Layout
from distill.publish import OUTPUTS, Output
from distill.receipts import count_lines, latest_summary, sha256_file

MACROS = PROJECT_DIR / "macros"


def macro_list(filename: str, macro: str) -> list[str]:
    """The list a `{% macro name() %}{{ return([...]) }}` returns: the one place it is kept.

    The firewall's categories and the product's own knowledge-base files are SQL's; the
    audit reads them from their macro rather than keeping a second copy.
    """
    text = (MACROS / filename).read_text(encoding="utf-8")
    found = re.search(
        r"\{%-?\s*macro\s+" + re.escape(macro) + r"\(\)\s*-?%\}(.*?)\{%-?\s*endmacro",
        text,
        re.DOTALL,
    )
    listed = re.search(r"return\(\[(.*?)\]\)", found.group(1), re.DOTALL) if found else None
    if not listed:
        raise ValueError(f"macros/{filename} defines no list macro {macro}()")
    return re.findall(r"'([^']*)'", listed.group(1))


def category_ranks() -> dict[str, int]:
    """The rank each category has for preference pairs (macro category_rank)."""
    text = (MACROS / "firewall.sql").read_text(encoding="utf-8")
    body = text.split("macro category_rank", 1)[1].split("endmacro", 1)[0]
    return {name: int(rank) for name, rank in re.findall(r"when '(\w+)' then (\d+)", body)}


@dataclass
class JsonlFile:
    """A JSONL file's records; lines that are not JSON objects are kept aside by number."""

    path: Path
    exists: bool
    records: list[dict] = field(default_factory=list)
    bad_lines: list[int] = field(default_factory=list)


def read_jsonl(path: Path) -> JsonlFile:
    if not path.is_file():
        return JsonlFile(path, exists=False)
    loaded = JsonlFile(path, exists=True)
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except ValueError:
                loaded.bad_lines.append(number)
                continue
            if isinstance(record, dict):
                loaded.records.append(record)
            else:
                loaded.bad_lines.append(number)
    return loaded


@dataclass
class AuditContext:
    """One root as it is on disk; each piece is read the first time a check asks for it."""

    layout: Layout
    con: duckdb.DuckDBPyConnection | None = None
    _files: dict[str, JsonlFile] = field(default_factory=dict)

    def output(self, relation: str) -> Output:
        return next(o for o in OUTPUTS if o.relation == relation)

    def rows(self, relation: str) -> JsonlFile:
        """The records of the file published from a warehouse relation."""
        relpath = self.output(relation).relpath
        if relpath not in self._files:
            self._files[relpath] = read_jsonl(self.layout.root / relpath)
        return self._files[relpath]

    @cached_property
    def own_kb_files(self) -> list[str]:
        return macro_list("knowledge_base.sql", "own_kb_files")

    @cached_property
    def source_files(self) -> dict[str, Path]:
        """The knowledge base's source files, as the intake reads them: every *.jsonl but
        the product's own."""
        if not self.layout.kb.is_dir():
            return {}
        return {
            p.relative_to(self.layout.kb).as_posix(): p
            for p in sorted(self.layout.kb.rglob("*.jsonl"))
            if p.is_file() and p.name not in self.own_kb_files
        }

    @cached_property
    def source_lines(self) -> dict[str, int]:
        return {rel: count_lines(path) for rel, path in self.source_files.items()}

    @cached_property
    def source_sha256(self) -> dict[str, str]:
        return {rel: sha256_file(path) for rel, path in self.source_files.items()}

    @cached_property
    def summary_path(self) -> Path | None:
        return latest_summary(self.layout) if self.layout.reports_dir.is_dir() else None

    @cached_property
    def summary(self) -> dict | None:
        if self.summary_path is None:
            return None
        try:
            loaded = json.loads(self.summary_path.read_text(encoding="utf-8"))
        except ValueError:
            return None
        return loaded if isinstance(loaded, dict) else None

    def has_table(self, qualified: str) -> bool:
        if self.con is None:
            return False
        schema, table = qualified.split(".")
        return bool(self.con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchone()[0])

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        if self.con is None:
            raise LookupError("no warehouse under this root: run `distill run-all` first")
        return self.con.execute(sql, params or []).fetchall()

    @cached_property
    def category_of_run(self) -> dict[str, str | None]:
        """run_id -> quality_score, from the scored-runs file."""
        return {
            r.get("run_id"): r.get("quality_score")
            for r in self.rows("scoring.scored_runs").records
        }

    @cached_property
    def task_of_run(self) -> dict[str, str | None]:
        return {r.get("run_id"): r.get("task_id") for r in self.rows("evidence.evidence").records}
