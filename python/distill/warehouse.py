"""Running the dbt project in-process against one root, and reading its warehouse.

dbt runs through its Python runner so that the test suite pays its start-up once per
process, not once per command. Every path dbt writes (the DuckDB file, its target and log
folders) is under the root.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from distill.errors import CheckFailed, ConfigError, DistillError
from distill.layout import PROJECT_DIR, Layout, thread_count


@dataclass
class BuildResult:
    """What one dbt invocation did: per node, its status; failures by name."""

    seconds: float
    statuses: dict[str, str] = field(default_factory=dict)
    node_seconds: dict[str, float] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    messages: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failures


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def dbt_vars(layout: Layout, extra: dict | None = None) -> dict:
    """The dbt variables a command passes: the knowledge base, plus any overrides."""
    values = {"kb_dir": str(layout.kb.resolve())}
    values.update(extra or {})
    return values


def run_dbt(
    layout: Layout,
    command: str,
    select: Sequence[str] = (),
    extra_vars: dict | None = None,
    target: str = "local",
    show_progress: bool = True,
) -> BuildResult:
    """Run `dbt <command> --select ...` on the root's warehouse and collect the results."""
    from dbt.cli.main import dbtRunner

    layout.warehouse_dir.mkdir(parents=True, exist_ok=True)
    result = BuildResult(seconds=0.0)
    started = time.monotonic()

    def on_event(event) -> None:
        name = event.info.name
        if name not in ("LogModelResult", "LogTestResult", "LogSeedResult"):
            return
        data = event.data
        node = data.node_info
        status = str(data.status)
        label = node.node_name if name != "LogTestResult" else f"test {data.name}"
        result.statuses[label] = status
        result.node_seconds[node.node_path or label] = float(data.execution_time or 0.0)
        failed = status.lower() in ("error", "fail")
        if failed:
            result.failures.append(label)
            result.messages[label] = getattr(data, "msg", "") or ""
        if show_progress and (failed or name != "LogTestResult"):
            print(
                f"  [{data.index}/{data.total}] {label}: {status}",
                file=sys.stderr,
                flush=True,
            )

    args = [
        command,
        "--project-dir", str(PROJECT_DIR),
        "--profiles-dir", str(PROJECT_DIR),
        "--target", target,
        "--target-path", str(layout.dbt_target.resolve()),
        "--log-path", str(layout.dbt_logs.resolve()),
        "--threads", str(thread_count()),
        "--vars", json.dumps(dbt_vars(layout, extra_vars)),
        "--quiet",
        "--no-use-colors",
    ]
    for selector in select:
        args += ["--select", selector]
    if select:
        # a test runs only when every model it reads was built in this invocation
        args += ["--indirect-selection", "cautious"]

    env = {"DISTILL_ROOT": str(layout.root.resolve()), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    with _environment(env):
        try:
            outcome = dbtRunner(callbacks=[on_event]).invoke(args)
        finally:
            _release_warehouse()
    result.seconds = time.monotonic() - started

    if isinstance(outcome.exception, KeyboardInterrupt):
        raise KeyboardInterrupt
    if outcome.exception is not None:
        raise ConfigError(f"dbt {command} could not run: {outcome.exception}")
    if not outcome.success and not result.failures:
        result.failures.append(f"dbt {command}")
    return result


def _release_warehouse() -> None:
    """Close the DuckDB file dbt-duckdb keeps open in this process after a run.

    dbt-duckdb holds its database handle in a class attribute between invocations, which
    would keep DuckDB's file lock for as long as this process lives (a test session, a
    long-lived caller) and block every other process from the warehouse.
    """
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    environment = DuckDBConnectionManager._ENV
    if environment is not None:
        environment.close()
    DuckDBConnectionManager.close_all_connections()


def require_success(result: BuildResult, what: str) -> None:
    """Stop with the names of what failed, and dbt's message for each."""
    if result.ok:
        return
    lines = [f"{what} failed: {len(result.failures)} node(s)"]
    for name in result.failures:
        message = result.messages.get(name, "").strip().splitlines()
        lines.append(f"  - {name}" + (f": {message[0]}" if message else ""))
    raise CheckFailed("\n".join(lines))


def connect(
    layout: Layout, read_only: bool = True, config: dict | None = None
) -> duckdb.DuckDBPyConnection:
    """A connection to the root's warehouse; fails with what to run when there is none,
    and with who holds it when another process is writing to it."""
    if not layout.warehouse.is_file():
        raise ConfigError(
            f"no warehouse under {layout.root}: run `distill run-all --root {layout.root}` first"
        )
    try:
        return duckdb.connect(str(layout.warehouse), read_only=read_only, config=config or {})
    except duckdb.IOException as error:
        if "lock" not in str(error).lower():
            raise
        raise DistillError(
            f"the warehouse {layout.warehouse} is in use by another process (a run-all or "
            f"another command on {layout.root}); wait for it to finish. DuckDB said: {error}"
        ) from None


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence = ()) -> object:
    row = con.execute(sql, list(params)).fetchone()
    return row[0] if row else None


def counts_by(con: duckdb.DuckDBPyConnection, sql: str) -> dict[str, int]:
    """Rows of (key, count) as an ordered dict, keys sorted."""
    return {str(k): int(v) for k, v in sorted(con.execute(sql).fetchall(), key=lambda r: str(r[0]))}


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(scalar(
        con,
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        (schema, table),
    ))


def project_file(*parts: str) -> Path:
    return PROJECT_DIR.joinpath(*parts)
