"""`distill query "SQL"`: ad-hoc, read-only inspection of a root's warehouse.

Two locks, so that neither alone has to be perfect. First the statement is parsed with
sqlglot and refused unless it is one read (SELECT, a set operation of SELECTs, DESCRIBE,
SUMMARIZE, SHOW) over tables of the warehouse and a short list of table functions that read
no file. Then it runs on a read-only DuckDB connection with external access disabled and
the configuration locked, so a statement the parser misjudged still cannot write, attach,
copy, install or read a file.
"""

from __future__ import annotations

import argparse
import json
import logging

import duckdb
import sqlglot
from sqlglot import exp

from distill.errors import EXIT_OK, ConfigError
from distill.layout import Layout
from distill.warehouse import connect

READ_STATEMENTS = (exp.Select, exp.SetOperation, exp.Describe, exp.Summarize, exp.Show)

# Table functions that compute rows or read the catalog, never a file.
SAFE_TABLE_FUNCTIONS = frozenset({
    "range", "generate_series", "unnest", "json_each", "json_tree",
    "duckdb_tables", "duckdb_columns", "duckdb_views", "duckdb_schemas",
    "duckdb_constraints", "duckdb_indexes", "duckdb_types",
})

# Statement kinds with the reason an operator reads when one is refused.
REFUSED_KINDS: tuple[tuple[type[exp.Expression], str], ...] = (
    (exp.Insert, "INSERT writes to the warehouse"),
    (exp.Update, "UPDATE writes to the warehouse"),
    (exp.Delete, "DELETE writes to the warehouse"),
    (exp.Merge, "MERGE writes to the warehouse"),
    (exp.Create, "CREATE is DDL"),
    (exp.Drop, "DROP is DDL"),
    (exp.Alter, "ALTER is DDL"),
    (exp.TruncateTable, "TRUNCATE writes to the warehouse"),
    (exp.Attach, "ATTACH opens another database"),
    (exp.Detach, "DETACH changes the attached databases"),
    (exp.Copy, "COPY reads or writes files"),
    (exp.Install, "INSTALL downloads an extension"),
    (exp.Pragma, "PRAGMA changes or reads settings"),
    (exp.Set, "SET changes a setting"),
    (exp.Use, "USE changes the default database"),
)

COMMAND_REASONS = {
    "LOAD": "LOAD loads an extension",
    "CALL": "CALL runs a procedure",
    "EXPORT": "EXPORT writes files",
    "IMPORT": "IMPORT reads files",
}

CATALOG_SCHEMAS = frozenset({"information_schema", "pg_catalog"})


class QueryRefused(ConfigError):
    """The statement is not a plain read of the warehouse."""


def _refusal(statement: exp.Expression) -> str | None:
    for kind, reason in REFUSED_KINDS:
        if isinstance(statement, kind):
            return reason
    if isinstance(statement, exp.Command):
        keyword = statement.name.upper()
        return COMMAND_REASONS.get(keyword, f"{keyword} is not a read")
    return None


def _table_function_name(table: exp.Table) -> str | None:
    inner = table.this
    if not isinstance(inner, exp.Func):
        return None
    if isinstance(inner, exp.Anonymous):
        return str(inner.name).lower()
    return inner.sql_name().lower()


def check_read_only(sql: str, relations: set[str]) -> exp.Expression:
    """Parse `sql` and return its one statement, or raise QueryRefused saying why.

    `relations` holds the warehouse's tables and views as "schema.name" and bare "name".
    """
    logging.getLogger("sqlglot").setLevel(logging.ERROR)
    try:
        statements = [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]
    except sqlglot.errors.ParseError as error:
        raise QueryRefused(f"refused: the statement does not parse: {error}") from None
    if len(statements) != 1:
        raise QueryRefused(f"refused: give exactly one statement, not {len(statements)}")
    statement = statements[0]

    for node in statement.walk():
        reason = _refusal(node)
        if reason:
            raise QueryRefused(f"refused: {reason}; distill query only reads")
    if not isinstance(statement, READ_STATEMENTS):
        raise QueryRefused(
            f"refused: {sql.strip()[:40]!r} is not a read; "
            "distill query runs SELECT, DESCRIBE, SUMMARIZE or SHOW only"
        )

    cte_names = {cte.alias_or_name.lower() for cte in statement.find_all(exp.CTE)}
    for table in statement.find_all(exp.Table):
        function = _table_function_name(table)
        if function is not None:
            if function not in SAFE_TABLE_FUNCTIONS:
                raise QueryRefused(
                    f"refused: the table function {function}() may read files outside the "
                    f"warehouse; allowed: {', '.join(sorted(SAFE_TABLE_FUNCTIONS))}"
                )
            continue
        name, schema = table.name.lower(), table.db.lower()
        if schema in CATALOG_SCHEMAS or (not schema and name in cte_names):
            continue
        qualified = f"{schema}.{name}" if schema else name
        if qualified not in relations:
            raise QueryRefused(
                f"refused: {qualified!r} is not a table of the warehouse (a file path or an "
                "unknown name); list them with: distill query \"show all tables\""
            )
    return statement


def warehouse_relations(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute(
        "select table_schema, table_name from information_schema.tables"
    ).fetchall()
    names = {f"{schema}.{name}".lower() for schema, name in rows}
    names |= {name.lower() for _, name in rows}
    return names


def read_only_connection(layout: Layout) -> duckdb.DuckDBPyConnection:
    """A connection that cannot write, reach a file or change its own settings."""
    return connect(
        layout,
        read_only=True,
        config={"enable_external_access": False, "lock_configuration": True},
    )


def run_query(layout: Layout, sql: str) -> tuple[list[str], list[tuple]]:
    with read_only_connection(layout) as con:
        check_read_only(sql, warehouse_relations(con))
        try:
            cursor = con.execute(sql)
        except duckdb.Error as error:
            raise ConfigError(f"the query failed: {error}") from None
        columns = [d[0] for d in cursor.description or []]
        return columns, cursor.fetchall()


def _cell(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, (dict, list, tuple)):
        text = json.dumps(value, default=str, ensure_ascii=False)
    else:
        text = str(value)
    return text.replace("\r", "\\r").replace("\n", "\\n")


def format_table(columns: list[str], rows: list[tuple]) -> str:
    """An aligned text table, one line per row, with the row count last."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    lines = [
        " | ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip(),
        "-+-".join("-" * w for w in widths),
    ]
    lines += [
        " | ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in cells
    ]
    lines.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(lines)


def format_json_lines(columns: list[str], rows: list[tuple]) -> str:
    return "\n".join(
        json.dumps(dict(zip(columns, row, strict=True)), default=str, ensure_ascii=False)
        for row in rows
    )


def cmd_query(args: argparse.Namespace) -> int:
    columns, rows = run_query(Layout(args.root), args.sql)
    output = format_json_lines(columns, rows) if args.json else format_table(columns, rows)
    if output:
        print(output)
    return EXIT_OK


def register(add) -> None:
    command = add(
        "query",
        "run one read-only SQL statement on the warehouse (writes, DDL, ATTACH, COPY, "
        "INSTALL/LOAD, PRAGMA/SET and file-reading table functions are refused)",
        cmd_query,
    )
    command.add_argument("sql", help="one SELECT, DESCRIBE, SUMMARIZE or SHOW statement")
    command.add_argument("--json", action="store_true", help="print JSON lines, one per row")
