"""`distill query` reads the warehouse and refuses everything else, saying why."""

from __future__ import annotations

import json

import duckdb
import pytest

from distill.cli import main
from distill.layout import Layout
from distill.query import QueryRefused, check_read_only, read_only_connection

RELATIONS = {"scoring.scored_runs", "scored_runs", "exports.sft_samples", "sft_samples"}


@pytest.mark.parametrize(
    ("sql", "why"),
    [
        ("insert into scoring.scored_runs select * from scoring.scored_runs", "INSERT writes"),
        ("update scoring.scored_runs set quality_score = 'accepted'", "UPDATE writes"),
        ("delete from exports.sft_samples", "DELETE writes"),
        ("create table t as select 1", "CREATE is DDL"),
        ("drop table exports.sft_samples", "DROP is DDL"),
        ("alter table exports.sft_samples add column x int", "ALTER is DDL"),
        ("attach 'other.duckdb' as other", "ATTACH opens another database"),
        ("copy exports.sft_samples to 'out.csv'", "COPY reads or writes files"),
        ("copy (select 1) to 'out.parquet'", "COPY reads or writes files"),
        ("install fts", "INSTALL downloads an extension"),
        ("load fts", "LOAD loads an extension"),
        ("pragma database_list", "PRAGMA changes or reads settings"),
        ("set threads = 1", "SET changes a setting"),
        ("select * from read_csv('secrets.csv')", "table function read_csv()"),
        ("select * from read_json_auto('a.jsonl')", "may read files outside"),
        ("select * from read_text('notes.txt')", "table function read_text()"),
        ("select * from glob('*')", "table function glob()"),
        ("select * from 'data.parquet'", "is not a table of the warehouse"),
        ('select * from "data.csv"', "is not a table of the warehouse"),
        ("select 1; select 2", "exactly one statement"),
        ("with w as (select 1) insert into t select * from w", "INSERT writes"),
    ],
)
def test_refuses_anything_but_a_read_and_says_why(sql, why):
    with pytest.raises(QueryRefused) as refused:
        check_read_only(sql, RELATIONS)
    assert why in str(refused.value)
    assert str(refused.value).startswith("refused:")


@pytest.mark.parametrize(
    "sql",
    [
        "select quality_score, count(*) from scoring.scored_runs group by 1",
        "with counts as (select 1 as n) select * from counts",
        "select 1 union all select 2",
        "describe exports.sft_samples",
        "select * from range(3)",
        "select * from information_schema.tables",
    ],
)
def test_accepts_reads_of_the_warehouse(sql):
    assert check_read_only(sql, RELATIONS) is not None


def test_prints_a_table_with_the_counts_per_category(real_root, capsys):
    code = main([
        "query", "--root", str(real_root),
        "select quality_score, count(*) as n from scoring.scored_runs group by 1 order by 1",
    ])
    assert code == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].split("|")[0].strip() == "quality_score"
    with read_only_connection(Layout(real_root)) as con:
        expected = con.execute(
            "select quality_score, count(*) from scoring.scored_runs group by 1 order by 1"
        ).fetchall()
    body = [[cell.strip() for cell in line.split("|")] for line in printed[2:-1]]
    assert body == [[category, str(count)] for category, count in expected]
    assert printed[-1] == f"({len(expected)} rows)"


def test_json_lines_give_one_object_per_row(real_root, capsys):
    code = main([
        "query", "--root", str(real_root), "--json",
        "select run_id, reasons from scoring.scored_runs order by run_id limit 3",
    ])
    assert code == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(rows) == 3
    assert all(set(row) == {"run_id", "reasons"} and isinstance(row["reasons"], list)
               for row in rows)
    assert [row["run_id"] for row in rows] == sorted(row["run_id"] for row in rows)


def test_a_refused_statement_exits_2_and_leaves_the_warehouse_as_it_was(real_root, capsys):
    warehouse = Layout(real_root).warehouse
    before = warehouse.read_bytes()
    code = main(["query", "--root", str(real_root), "delete from exports.sft_samples"])
    assert code == 2
    assert "refused: DELETE writes to the warehouse" in capsys.readouterr().err
    assert warehouse.read_bytes() == before


def test_the_connection_itself_cannot_read_files_or_write(real_root):
    """The second lock: even a statement the parser let through cannot escape."""
    with read_only_connection(Layout(real_root)) as con:
        for sql in (
            f"select * from read_csv('{real_root / 'data' / '_kb' / 'formats.csv'}')",
            "create table exports.planted as select 1",
            "set enable_external_access = true",
        ):
            with pytest.raises(duckdb.Error):
                con.execute(sql)
