"""The JSON Schemas are the truth about every record: the warehouse tables must match them
column for column and type for type, and every written file must validate against them.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import duckdb
import pytest
from jsonschema import Draft202012Validator

from distill import schemas
from distill.layout import PROJECT_DIR, Layout
from distill.publish import OUTPUTS
from distill.warehouse import connect

INTEGER_TYPES = {
    "tinyint", "smallint", "integer", "bigint", "hugeint",
    "utinyint", "usmallint", "uinteger", "ubigint", "uhugeint",
}
NUMBER_TYPES = {"float", "double", "decimal"}
JSON_TYPE_OF = {"varchar": "string", "boolean": "boolean"}


def _resolve(node: dict, root: dict) -> dict:
    while "$ref" in node:
        assert node["$ref"].startswith("#/"), f"only local references: {node['$ref']}"
        node = _pointer(root, node["$ref"])
    return node


def _pointer(root: dict, ref: str) -> dict:
    found = root
    for part in ref[2:].split("/"):
        found = found[part]
    return found


def _json_types(node: dict) -> set[str]:
    """The JSON types a schema node admits, null left out."""
    if "const" in node:
        values = [node["const"]]
    elif "enum" in node:
        values = node["enum"]
    else:
        declared = node.get("type", [])
        return {declared} - {"null"} if isinstance(declared, str) else set(declared) - {"null"}
    names = {bool: "boolean", int: "integer", float: "number", str: "string"}
    return {names[type(v)] for v in values if v is not None}


def type_mismatches(duck_type, node: dict, root: dict, path: str) -> list[str]:
    """Where a DuckDB column type and the schema disagree, recursing into structs and lists.

    A JSON column may hold any JSON value, so only its content is checked (by validating
    the written files).
    """
    node = _resolve(node, root)
    if str(duck_type) == "JSON":
        return []
    wanted = _json_types(node)
    if duck_type.id == "struct":
        if wanted != {"object"}:
            return [f"{path}: a STRUCT column, but the schema says {sorted(wanted)}"]
        return field_mismatches(dict(duck_type.children), node, root, path)
    if duck_type.id == "list":
        if wanted != {"array"}:
            return [f"{path}: a LIST column, but the schema says {sorted(wanted)}"]
        return type_mismatches(duck_type.child, node.get("items", {}), root, f"{path}[]")
    if duck_type.id in INTEGER_TYPES:
        expected = {"integer"}
    elif duck_type.id in NUMBER_TYPES:
        expected = {"number"}
    elif duck_type.id in JSON_TYPE_OF:
        expected = {JSON_TYPE_OF[duck_type.id]}
    else:
        return [f"{path}: no JSON type is known for DuckDB type {duck_type}"]
    if wanted != expected:
        return [(f"{path}: DuckDB {duck_type} is JSON {sorted(expected)}, the schema says "
                f"{sorted(wanted)}")]
    return []


def field_mismatches(columns: dict, node: dict, root: dict, path: str = "") -> list[str]:
    """Names first (every column a property, every property a column), then types."""
    properties = node.get("properties", {})
    prefix = f"{path}." if path else ""
    problems = [f"{prefix}{name}: a column the schema does not name"
                for name in columns if name not in properties]
    problems += [f"{prefix}{name}: in the schema, not a column"
                 for name in properties if name not in columns]
    if node.get("additionalProperties") is not False:
        problems.append(f"{path or '(record)'}: the schema must refuse unknown fields")
    if set(node.get("required", [])) != set(properties):
        problems.append(f"{path or '(record)'}: every column is written, so every property "
                        "must be required")
    for name, duck_type in columns.items():
        if name in properties:
            problems += type_mismatches(duck_type, properties[name], root, prefix + name)
    return problems


def table_mismatches(con: duckdb.DuckDBPyConnection, relation: str) -> list[str]:
    record_type = schemas.RECORD_TYPE_OF_TABLE[relation]
    relation_types = con.sql(f"select * from {relation} limit 0")
    columns = dict(zip(relation_types.columns, relation_types.types, strict=True))
    filename, _ = schemas.RECORD_TYPES[record_type]
    root = json.loads((schemas.SCHEMA_DIR / filename).read_text())
    return field_mismatches(columns, schemas.load(record_type), root)


@pytest.fixture(scope="module")
def warehouse(real_root: Path):
    # read-write like the pipeline's own connection, which the process may still hold
    # (DuckDB refuses a second configuration); nothing here writes
    con = connect(Layout(real_root), read_only=False)
    yield con
    con.close()


# ---------------------------------------------------------------- the schemas themselves


@pytest.mark.parametrize("record_type", sorted(schemas.RECORD_TYPES))
def test_each_schema_is_valid_draft_2020_12_and_pins_schema_version_1(record_type):
    schema = schemas.load(record_type)
    Draft202012Validator.check_schema(schema)
    kinds = [schema] if "properties" in schema else [
        _pointer(schema, branch["$ref"]) for branch in schema["anyOf"]
    ]
    for kind in kinds:
        assert kind["properties"]["schema_version"] == {"const": 1}
        assert "schema_version" in kind["required"]


def test_every_published_table_has_a_record_type():
    assert {output.relation for output in OUTPUTS} == set(schemas.RECORD_TYPE_OF_TABLE)


def test_unknown_record_type_is_refused_by_name():
    with pytest.raises(KeyError, match="no schema for record type 'evidense'"):
        schemas.validate("evidense", {})


# ---------------------------------------------------------------- tables against schemas


@pytest.mark.parametrize("relation", sorted(schemas.RECORD_TYPE_OF_TABLE))
def test_table_columns_and_types_match_the_schema(warehouse, relation):
    assert table_mismatches(warehouse, relation) == []


def scratch_copy(warehouse, relation: str, retype: dict[str, str]) -> duckdb.DuckDBPyConnection:
    """An empty table of the same name and column types in a scratch database, some retyped."""
    shape = warehouse.sql(f"select * from {relation} limit 0")
    types = {name: str(t) for name, t in zip(shape.columns, shape.types, strict=True)}
    types.update(retype)
    scratch = duckdb.connect()
    scratch.execute(f"create schema {relation.split('.')[0]}")
    columns = ", ".join(f'"{name}" {t}' for name, t in types.items())
    scratch.execute(f"create table {relation} ({columns})")
    return scratch


def test_a_column_added_or_retyped_without_the_schema_is_caught(warehouse):
    """The check above is not vacuous: one more column, or one retyped, fails it."""
    scratch = scratch_copy(
        warehouse, "exports.sft_samples", {"task_kind": "INTEGER", "source_split": "VARCHAR"}
    )
    assert table_mismatches(scratch, "exports.sft_samples") == [
        "source_split: a column the schema does not name",
        "task_kind: DuckDB INTEGER is JSON ['integer'], the schema says ['string']",
    ]


def test_a_struct_field_added_without_the_schema_is_caught(warehouse):
    counts = "STRUCT(positive BIGINT, negative BIGINT, \"partial\" BIGINT, judge_errors BIGINT, "
    scratch = scratch_copy(
        warehouse, "scoring.scored_runs",
        {"signal_counts": counts + "handoffs BIGINT, vetoes BIGINT)"},
    )
    assert table_mismatches(scratch, "scoring.scored_runs") == [
        "signal_counts.vetoes: a column the schema does not name",
    ]


# ---------------------------------------------------------------- files against schemas


@pytest.mark.parametrize("output", OUTPUTS, ids=[o.relation for o in OUTPUTS])
def test_every_written_file_of_the_real_sample_validates(real_root, real_summary, output):
    path = real_root / output.relpath
    record_type = schemas.RECORD_TYPE_OF_TABLE[output.relation]
    assert schemas.validate_jsonl(record_type, path) == []
    rows = {o["path"]: o["rows"] for o in real_summary["outputs"]}[output.relpath]
    assert len(path.read_bytes().splitlines()) == rows


def test_the_real_sample_writes_every_record_type_it_can(real_summary):
    """Only the distillation skips are empty on the real sample (the receipt tests cover
    them on a knowledge base with damaged lines); every other file has rows to check."""
    empty = {o["path"] for o in real_summary["outputs"] if o["rows"] == 0}
    assert empty <= {"data/_kb/distillation_skips.jsonl"}


# ---------------------------------------------------------------- enums against their source


def _macro_list(name: str) -> list[str]:
    text = (PROJECT_DIR / "macros" / "firewall.sql").read_text()
    found = re.search(r"macro " + name + r"\(\)[^{]*\{\{\s*return\((\[[^\]]*\])\)", text)
    assert found, f"macro {name} not found in macros/firewall.sql"
    return json.loads(found.group(1).replace("'", '"'))


def _skip_reasons(phase: str) -> list[str]:
    with open(PROJECT_DIR / "seeds" / "skip_reasons.csv", newline="") as handle:
        return [row["skip_reason"] for row in csv.DictReader(handle) if row["phase"] == phase]


def test_category_enums_match_the_firewall_macros():
    categories = _macro_list("quality_categories")
    allowed_in_sft = [c for c in categories if c not in _macro_list("never_in_sft")]
    assert schemas.load("scored_run")["properties"]["quality_score"]["enum"] == categories
    assert schemas.load("sft_sample")["properties"]["quality_score"]["enum"] == allowed_in_sft
    summary = schemas.load("run_summary")
    assert summary["$defs"]["category_counts"]["propertyNames"]["enum"] == categories


@pytest.mark.parametrize(
    ("record_type", "phase"), [("distillation_skip", "materialize"), ("scoring_skip", "score")]
)
def test_skip_reason_enums_match_the_seed(record_type, phase):
    enum = schemas.load(record_type)["properties"]["skip_reason"]["enum"]
    assert sorted(enum) == sorted(_skip_reasons(phase))


# ---------------------------------------------------------------- the validator's messages


def test_messages_name_the_failing_field_by_its_path(real_root):
    first = json.loads((real_root / "data/evidence/evidence.jsonl").read_bytes().splitlines()[0])
    first["provenance"][0]["line"] = 0
    first["signals"] = [{"kind": "vibe"}]
    del first["run_id"]
    first["surprise"] = True
    assert schemas.validate("evidence", first) == [
        "provenance[0].line: 0 is less than the minimum of 1",
        "run_id: is required",
        "signals[0].detail: is required",
        "signals[0].file: is required",
        "signals[0].judge: is required",
        (
            'signals[0].kind: "vibe" is not one of '
            '["check", "reward", "score", "verdict", "judge_error", "handoff"]'
        ),
        "signals[0].line: is required",
        "signals[0].name: is required",
        "signals[0].passed: is required",
        "signals[0].scale_max: is required",
        "signals[0].value: is required",
        "signals[0].verdict: is required",
        "surprise: is not a field of this record",
    ]


def test_a_skip_is_checked_against_the_kind_it_nearly_is():
    distillation = {
        "schema_version": 1, "source_file": "a.jsonl", "source_line": 3,
        "source_format": None, "skip_reason": "no_output", "detail": None,
    }
    assert schemas.validate("skip", distillation) == [
        'skip_reason: "no_output" is not one of ' + json.dumps(_skip_reasons("materialize"))
    ]
    assert schemas.validate("skip", {**distillation, "skip_reason": "blank_line"}) == []


def test_jsonl_messages_carry_line_numbers(tmp_path):
    good = {"schema_version": 1, "recorded_at": "2026-01-01T00:00:00Z", "metrics": {},
            "accepted": True}
    path = tmp_path / "audit_baselines.jsonl"
    path.write_bytes(b"\n".join([
        json.dumps(good).encode(),
        json.dumps({**good, "accepted": "yes"}).encode(),
        b'{"schema_version": 1,',
        json.dumps({**good, "metrics": {"skip_rate": float("nan")}}).encode(),
    ]) + b"\n")
    messages = schemas.validate_jsonl("audit_baseline", path)
    assert [m.split(":")[0] for m in messages] == ["line 2", "line 3", "line 4"]
    assert messages[0] == 'line 2: accepted: "yes" is not of type boolean'
    assert "NaN is not a JSON value" in messages[2]
