"""`distill recon`: a profile of the knowledge base before anything is trusted to it.

Per source file: the format detected (by the registry or by keys), rows, unreadable lines
by reason, and each top-level key with the JSON types seen and its null rate. The intake
models read the files, in a scratch warehouse, so the recon sees exactly the lines and
the formats the pipeline would: format detection and line reading are SQL's, never
re-implemented here. Nested keys (inside `messages`, `traj`, ...) are not profiled.

The report is stamped with `recorded_at` and the sha256 of every file it read, so the
audit can tell whether it still describes the knowledge base.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from distill.errors import EXIT_OK
from distill.layout import Layout
from distill.query import read_only_connection
from distill.receipts import resolve_recorded_at
from distill.render import render, write_atomically
from distill.warehouse import require_success, run_dbt

RECON_PATH = Path("docs") / "recon" / "local-distillation-recon.md"
INTAKE_SELECTOR = "+path:models/1_intake"
# DuckDB's names for the JSON types it reads, in the words of JSON itself.
JSON_TYPE_NAMES = {
    "varchar": "string", "bigint": "integer", "ubigint": "integer", "double": "number",
    "boolean": "boolean", "array": "array", "object": "object", "null": "null",
}
INPUT_ROW = re.compile(r"^\| `(?P<path>.+)` \| `(?P<sha>[0-9a-f]{64})` \|")


@dataclass
class KeyProfile:
    key: str
    types: dict[str, int]
    present: int
    nulls: int
    null_rate: float


@dataclass
class FileProfile:
    path: str
    sha256: str
    bytes: int
    rows: int
    readable: int
    source_format: str | None
    detected_by: str | None
    unreadable: dict[str, int] = field(default_factory=dict)
    keys: list[KeyProfile] = field(default_factory=list)


def inputs_digest(files: list[FileProfile]) -> str:
    """One hash over every (path, sha256): changes when any input file does."""
    listing = "".join(f"{f.path}\t{f.sha256}\n" for f in files)
    return hashlib.sha256(listing.encode()).hexdigest()


def _profile(layout: Layout) -> list[FileProfile]:
    with read_only_connection(layout) as con:
        files = {
            row[0]: FileProfile(*row)
            for row in con.execute(
                "select source_file, file_sha256, file_bytes, line_count, readable_lines, "
                "source_format, detected_by from intake.kb_files order by source_file"
            ).fetchall()
        }
        for path, status, count in con.execute(
            "select source_file, line_status, count(*) from intake.kb_lines "
            "where line_status <> 'ok' group by all order by all"
        ).fetchall():
            files[path].unreadable[status] = int(count)
        members = con.execute(
            """
            with ok_lines as (
                select source_file, line_json from intake.kb_lines where line_status = 'ok'
            ),
            members as (
                select ok_lines.source_file, member.key, member.type
                from ok_lines, json_each(ok_lines.line_json) as member
            )
            select source_file, key, type, count(*)
            from members
            group by all
            order by source_file, key, type
            """
        ).fetchall()

    seen: dict[tuple[str, str], dict[str, int]] = {}
    for path, key, json_type, count in members:
        name = JSON_TYPE_NAMES.get(str(json_type).lower(), str(json_type).lower())
        types = seen.setdefault((path, key), {})
        types[name] = types.get(name, 0) + int(count)
    for (path, key), types in seen.items():
        profile = files[path]
        nulls = profile.readable - sum(n for t, n in types.items() if t != "null")
        profile.keys.append(KeyProfile(
            key=key,
            types={t: n for t, n in types.items() if t != "null"},
            present=sum(types.values()),
            nulls=nulls,
            null_rate=nulls / profile.readable if profile.readable else 0.0,
        ))
    return list(files.values())


def profile_knowledge_base(layout: Layout) -> list[FileProfile]:
    """Read the knowledge base through the intake models, in a warehouse thrown away after."""
    if not layout.kb.is_dir() or not any(layout.kb.rglob("*.jsonl")):
        return []
    with tempfile.TemporaryDirectory(prefix="distill-recon-") as scratch:
        scratch_layout = Layout(Path(scratch))
        # seed, then run: the intake models only, without the tests of later layers
        kb_var = {"kb_dir": str(layout.kb.resolve())}
        for command in ("seed", "run"):
            result = run_dbt(scratch_layout, command, [INTAKE_SELECTOR], kb_var)
            require_success(result, f"reading the knowledge base (dbt {command})")
        return _profile(scratch_layout)


def write_recon(layout: Layout, recorded_at: str) -> tuple[Path, list[FileProfile]]:
    files = profile_knowledge_base(layout)
    text = render(
        "recon.md.j2",
        recorded_at=recorded_at,
        kb_exists=layout.kb.is_dir(),
        files=files,
        inputs_sha256=inputs_digest(files),
        total_rows=sum(f.rows for f in files),
        total_unreadable=sum(sum(f.unreadable.values()) for f in files),
    )
    return write_atomically(layout.root / RECON_PATH, text), files


def recorded_inputs(path: Path) -> dict[str, str] | None:
    """The {file: sha256} a recon report was made from; None when there is no report."""
    if not path.is_file():
        return None
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = INPUT_ROW.match(line)
        if match:
            path_text = re.sub(r"\\(.)", r"\1", match["path"])
            found[path_text] = match["sha"]
    return found


def cmd_recon(args: argparse.Namespace) -> int:
    layout = Layout(args.root)
    path, files = write_recon(layout, resolve_recorded_at(args.recorded_at))
    unreadable = sum(sum(f.unreadable.values()) for f in files)
    unrecognised = sum(1 for f in files if f.source_format is None)
    print(
        f"profiled {len(files):,} files, {sum(f.rows for f in files):,} lines "
        f"({unreadable:,} unreadable; {unrecognised:,} files of no known format)"
    )
    for profile in files:
        print(f"  {profile.path} [{profile.source_format or 'unrecognised'}]: "
              f"{profile.rows:,} rows, {len(profile.keys)} keys")
    print(f"wrote {path.relative_to(layout.root)}")
    return EXIT_OK


def register(add) -> None:
    command = add(
        "recon",
        "profile the knowledge base (formats, rows, keys, types, null rates, unreadable "
        "lines) into docs/recon/local-distillation-recon.md",
        cmd_recon,
    )
    command.add_argument("--recorded-at", help="ISO time stamped on the report "
                         "(default: $DISTILL_RECORDED_AT, else now)")
