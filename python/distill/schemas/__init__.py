"""The JSON Schemas of every record the product writes, and a validator that names fields.

The schemas are data (one draft 2020-12 file per record type, beside this module) and the
one source of truth for what a record holds: the warehouse tables are checked against them
by the test suite, so a column added to a model without a schema change fails the tests.
A schema changes deliberately: a new field, a removed one or a new type is a new
`schema_version`, never a silent edit.

Messages name the failing field by its JSON path ("phases.score.per_category: ..."), so an
operator can find it without reading a traceback.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry, Resource

SCHEMA_DIR = Path(__file__).resolve().parent

RECORD_TYPES: dict[str, tuple[str, str]] = {
    "evidence": ("evidence.json", ""),
    "scored_run": ("scored_run.json", ""),
    "skip": ("skip.json", ""),
    "distillation_skip": ("skip.json", "/$defs/distillation_skip"),
    "scoring_skip": ("skip.json", "/$defs/scoring_skip"),
    "sft_sample": ("sft_sample.json", ""),
    "preference_pair": ("preference_pair.json", ""),
    "playbook": ("playbook.json", ""),
    "run_summary": ("run_summary.json", ""),
    "replay_run": ("replay_run.json", ""),
    "audit_baseline": ("audit_baseline.json", ""),
}
"""Each record type: its schema file and, for a kind of a shared type, where it sits."""

RECORD_TYPE_OF_TABLE: dict[str, str] = {
    "evidence.evidence": "evidence",
    "evidence.distillation_skips": "distillation_skip",
    "scoring.scored_runs": "scored_run",
    "scoring.scoring_skips": "scoring_skip",
    "exports.sft_samples": "sft_sample",
    "exports.preference_pairs": "preference_pair",
    "exports.playbooks": "playbook",
}
"""The record type each written warehouse table holds, one row a record."""

_MAX_VALUE_CHARS = 160


def _known(record_type: str) -> tuple[str, str]:
    if record_type not in RECORD_TYPES:
        known = ", ".join(sorted(RECORD_TYPES))
        raise KeyError(f"no schema for record type {record_type!r}; known: {known}")
    return RECORD_TYPES[record_type]


@cache
def _file(filename: str) -> dict:
    return json.loads((SCHEMA_DIR / filename).read_text(encoding="utf-8"))


def load(record_type: str) -> dict:
    """The schema of a record type, as a dict (a copy: changing it changes nothing here)."""
    filename, pointer = _known(record_type)
    schema = _file(filename)
    for part in filter(None, pointer.split("/")):
        schema = schema[part]
    return json.loads(json.dumps(schema))


@cache
def _validator(record_type: str) -> Draft202012Validator:
    filename, pointer = _known(record_type)
    root = _file(filename)
    registry = Registry().with_resource(root["$id"], Resource.from_contents(root))
    return Draft202012Validator({"$ref": root["$id"] + "#" + pointer}, registry=registry)


def json_path(parts: Iterable[str | int]) -> str:
    """["phases", "score", "per_category"] -> "phases.score.per_category"; [0] -> "[0]"."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _short(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= _MAX_VALUE_CHARS else text[:_MAX_VALUE_CHARS] + "..."


def _messages(error: ValidationError) -> list[str]:
    """One line per failing field, named by its path."""
    path = list(error.absolute_path)
    if error.validator == "required":
        missing = [name for name in error.validator_value if name not in error.instance]
        return [f"{json_path([*path, name])}: is required" for name in missing]
    if error.validator == "additionalProperties" and error.validator_value is False:
        known = set(error.schema.get("properties", {}))
        extra = sorted(name for name in error.instance if name not in known)
        return [f"{json_path([*path, name])}: is not a field of this record" for name in extra]
    if error.validator in ("anyOf", "oneOf") and error.context:
        return _closest_branch(error.context)
    where = json_path(path) or "(record)"
    if error.validator in ("type", "const", "enum", "pattern"):
        expected = {
            "type": lambda v: f"is not of type {v}",
            "const": lambda v: f"is not {_short(v)}",
            "enum": lambda v: f"is not one of {json.dumps(v)}",
            "pattern": lambda v: f"does not match {v}",
        }[error.validator](error.validator_value)
        return [f"{where}: {_short(error.instance)} {expected}"]
    return [f"{where}: {error.message[:_MAX_VALUE_CHARS * 2]}"]


def _closest_branch(errors: list[ValidationError]) -> list[str]:
    """For a record of one of several kinds: the failures of the kind it nearly is."""
    branches: dict[int, list[ValidationError]] = {}
    for error in errors:
        branches.setdefault(error.relative_schema_path[0], []).append(error)
    closest = min(branches.values(), key=lambda found: (len(found), best_match(found).message))
    return [message for error in closest for message in _messages(error)]


def validate(record_type: str, record: object) -> list[str]:
    """The fields of `record` that break its schema, one message each, ordered by field;
    [] when it is valid."""
    found: set[str] = set()
    for error in _validator(record_type).iter_errors(record):
        found.update(_messages(error))
    return sorted(found)


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON value")


def validate_jsonl(record_type: str, path: Path | str) -> list[str]:
    """Every line of a JSONL file checked against the schema; messages start "line N: ".

    A line ends at \\n, as the materializer counts them. NaN and Infinity are refused:
    Python's json reads them, but they are not JSON and no consumer should meet them.
    """
    messages: list[str] = []
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                record = json.loads(raw, parse_constant=_refuse_constant)
            except ValueError as error:
                messages.append(f"line {number}: not a JSON record ({error})")
                continue
            messages.extend(f"line {number}: {m}" for m in validate(record_type, record))
    return messages
