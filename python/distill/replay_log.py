"""The replay log: data/_kb/replay_runs.jsonl, one record per replay, rotated by size.

Appends and rotations happen under an exclusive fcntl lock on warehouse/replay_runs.lock,
so two replays at once never interleave a line or rotate the same file twice. Past the size
bound the live log is compressed into replay_runs.NNNNNN.jsonl.gz (numbered, never
overwritten) before it is emptied, so a record is always in the live log, in an archive, or
-- after a crash between the two steps -- in both; read_records drops such a copy by its
replay_id. The archives are not source streams (the pipeline reads *.jsonl only): the next
`run-all` scores the records of the live log.
"""

from __future__ import annotations

import contextlib
import fcntl
import gzip
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

from distill.errors import ConfigError
from distill.layout import Layout
from distill.publish import fsync_path

LOG_NAME = "replay_runs.jsonl"
ARCHIVE_PATTERN = re.compile(r"^replay_runs\.(\d{6})\.jsonl\.gz$")
DEFAULT_MAX_BYTES = 100 * 1024 * 1024
SCHEMA_VERSION = 1


def log_path(layout: Layout) -> Path:
    return layout.kb / LOG_NAME


def max_bytes_from_env() -> int:
    """DISTILL_REPLAY_LOG_MAX_BYTES: the size past which the log rotates (100 MB)."""
    raw = os.environ.get("DISTILL_REPLAY_LOG_MAX_BYTES", "").strip()
    if not raw:
        return DEFAULT_MAX_BYTES
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigError(f"DISTILL_REPLAY_LOG_MAX_BYTES={raw!r} must be a positive integer")
    return int(raw)


def archives(layout: Layout) -> list[Path]:
    """The compressed archives, oldest first."""
    if not layout.kb.is_dir():
        return []
    found = [p for p in layout.kb.iterdir() if ARCHIVE_PATTERN.match(p.name)]
    return sorted(found, key=lambda p: p.name)


@contextlib.contextmanager
def _locked(layout: Layout) -> Iterator[None]:
    layout.warehouse_dir.mkdir(parents=True, exist_ok=True)
    with open(layout.warehouse_dir / "replay_runs.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _rotate(layout: Layout, live: Path) -> Path:
    """Compress the live log into the next archive, then empty it. Caller holds the lock."""
    existing = archives(layout)
    number = int(ARCHIVE_PATTERN.match(existing[-1].name).group(1)) + 1 if existing else 1
    archive = layout.kb / f"replay_runs.{number:06d}.jsonl.gz"
    partial = archive.with_name(archive.name + ".partial")
    with open(live, "rb") as source, open(partial, "wb") as raw:
        # mtime=0: the archive's bytes depend only on the records
        with gzip.GzipFile(filename=LOG_NAME, mode="wb", fileobj=raw, mtime=0) as packed:
            while chunk := source.read(1 << 20):
                packed.write(chunk)
        raw.flush()
        os.fsync(raw.fileno())
    os.replace(partial, archive)
    fsync_path(layout.kb)
    os.truncate(live, 0)
    return archive


def append(layout: Layout, record: dict, max_bytes: int | None = None) -> Path | None:
    """Append one record as one line; rotate first when it would pass the bound.

    Returns the archive written by a rotation, if any.
    """
    limit = max_bytes_from_env() if max_bytes is None else max_bytes
    line = (json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
    layout.kb.mkdir(parents=True, exist_ok=True)
    live = log_path(layout)
    with _locked(layout):
        rotated = None
        size = live.stat().st_size if live.exists() else 0
        if size > 0 and size + len(line) > limit:
            rotated = _rotate(layout, live)
        fd = os.open(live, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
    return rotated


def _lines(path: Path) -> Iterator[bytes]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        yield from handle


def read_records(layout: Layout) -> list[dict]:
    """Every record, archives first (oldest to newest), then the live log; a record that a
    crash left in both an archive and the live log is returned once."""
    records: list[dict] = []
    seen: set[str] = set()
    with _locked(layout):
        sources = archives(layout) + ([log_path(layout)] if log_path(layout).exists() else [])
        for path in sources:
            for raw in _lines(path):
                if not raw.strip():
                    continue
                record = json.loads(raw)
                key = record.get("replay_id")
                if key is not None and key in seen:
                    continue
                seen.add(key)
                records.append(record)
    return records
