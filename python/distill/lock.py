"""One writer per root: a second run waits for nothing and refuses, naming the first."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sys
from collections.abc import Iterator
from datetime import UTC, datetime

from distill.errors import DistillError
from distill.layout import Layout


class RootBusy(DistillError):
    """Another distill command is writing to the same root."""


@contextlib.contextmanager
def exclusive(layout: Layout, command: str) -> Iterator[None]:
    """Hold the root's lock for the duration of a writing command.

    The lock is an fcntl lock on warehouse/run.lock, so the kernel releases it when the
    holder dies, kill -9 included: a stale lock file never blocks the next run.
    """
    layout.warehouse_dir.mkdir(parents=True, exist_ok=True)
    handle = open(layout.lock_file, "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise RootBusy(
            f"{layout.root} is busy: another distill command holds {layout.lock_file} "
            f"({holder}). Wait for it to finish, then run again."
        ) from None
    try:
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({
            "pid": os.getpid(),
            "command": command,
            "argv": sys.argv[1:],
            "since": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }))
        handle.flush()
        yield
    finally:
        handle.seek(0)
        handle.truncate()
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()
