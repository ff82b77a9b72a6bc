"""One replay: retrieve playbooks for a task, ask a model (or the baseline), validate the
answer, and build the record the replay log keeps.

Validation is structural -- it says whether an answer is usable, not whether it is right:

    empty_retrieval    no playbook shares a term with the task; no model is asked
    model_call_failed  the model was asked and the call failed (timeout, dropped
                       connection, HTTP error, malformed reply)
    empty_answer       the answer is blank
    too_short          fewer than MIN_ANSWER_WORDS words
    not_step_shaped    the top playbook has steps and the answer has fewer than
                       min(MIN_STEP_LINES, its step count) numbered or bulleted lines
    hedge_or_filler    the answer holds a phrase of seeds/hedge_phrases.csv
    not_grounded       the answer uses fewer than MIN_GROUNDING_TERMS of the terms (4+
                       characters) that the retrieved playbooks add to the task

A held-out replay (--from-runs) also compares the answer with the accepted run it stands
for: for a run that called tools, the overlap of the tool sequences (each reduced to its
tools in order of first use), 2 * LCS / (len(a) + len(b)); otherwise the Jaccard overlap of
key terms (terms of 4+ characters or holding a digit) of the answer and the run's output.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb

from distill import llm
from distill.errors import ConfigError
from distill.llm import ModelCallFailed, ModelConfig
from distill.replay_log import SCHEMA_VERSION
from distill.retrieval import Hit, IndexInfo, retrieve

MIN_ANSWER_WORDS = 5
MIN_STEP_LINES = 2
MIN_GROUNDING_TERMS = 3
GROUNDING_TERM_CHARS = 4
PLAYBOOK_CHARS_IN_PROMPT = 3000

STEP_LINE = re.compile(
    r"^\s*(?:(?:step\s+)?\d{1,3}[.):]|[-*\u2022])\s+\S", re.IGNORECASE | re.MULTILINE
)

SYSTEM_PROMPT = (
    "You solve a task with the help of playbooks: short write-ups of how similar tasks "
    "were solved before, most relevant first. Answer the task itself, using the playbooks' "
    "steps, tools and facts. When the first playbook lists steps, answer with numbered "
    "steps (1., 2., ...). Be direct: no hedging, no pleasantries."
)

Terms = Callable[[str], list[str]]


@dataclass(frozen=True)
class Validation:
    """validation_result: passed, the reason ids, and a sentence per reason."""

    reasons: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.reasons

    def as_record(self) -> dict:
        return {"passed": self.passed, "reasons": self.reasons, "details": self.details}


@dataclass(frozen=True)
class HeldOut:
    """An accepted run whose task is replayed with its own playbooks left out."""

    task_id: str
    run_id: str
    task_kind: str
    instruction: str
    output_text: str
    tools: list[str]


# ---------- the prompt


def build_messages(task: str, hits: list[Hit]) -> list[dict]:
    parts = [f"Task:\n{task.strip()}"]
    if hits:
        parts.append("Playbooks (most relevant first):")
        for rank, hit in enumerate(hits, start=1):
            parts.append(f"### Playbook {rank}: {hit.title}\n{hit.body[:PLAYBOOK_CHARS_IN_PROMPT]}")
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": "\n\n".join(parts)},
    ]


def prompt_hash(messages: list[dict]) -> str:
    canonical = json.dumps(messages, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# ---------- validation


def load_phrases(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The hedge and filler phrases of the seed, as the warehouse loaded them."""
    try:
        rows = con.execute("select phrase from reference.hedge_phrases order by phrase").fetchall()
    except duckdb.CatalogException:
        raise ConfigError(
            "the warehouse has no reference.hedge_phrases: run `distill run-all` to load it"
        ) from None
    return [normalise(row[0]) for row in rows if row[0] and row[0].strip()]


def normalise(text: str) -> str:
    """Lowercase, straight apostrophes, single spaces: what phrases are matched against."""
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    return re.sub(r"\s+", " ", text).strip()


def phrases_in(answer: str, phrases: list[str]) -> list[str]:
    text = normalise(answer)
    return [p for p in phrases if re.search(rf"(?<!\w){re.escape(p)}(?!\w)", text)]


def validate(task: str, answer: str | None, hits: list[Hit], phrases: list[str], terms: Terms,
             model_error: str | None = None) -> Validation:
    """Every reason that applies, in the order of the module's list."""
    if not hits:
        return Validation(["empty_retrieval"], ["no playbook shares a term with the task"])
    if model_error is not None:
        return Validation(["model_call_failed"], [model_error])
    if answer is None or not answer.strip():
        return Validation(["empty_answer"], ["the answer is blank"])

    reasons: list[str] = []
    details: list[str] = []
    words = len(answer.split())
    if words < MIN_ANSWER_WORDS:
        reasons.append("too_short")
        details.append(f"{words} word(s); at least {MIN_ANSWER_WORDS} expected")

    steps = hits[0].steps
    if steps:
        wanted = min(MIN_STEP_LINES, len(steps))
        found = len(STEP_LINE.findall(answer))
        if found < wanted:
            reasons.append("not_step_shaped")
            details.append(f"{found} step line(s); the top playbook has {len(steps)} steps")

    matched = phrases_in(answer, phrases)
    if matched:
        reasons.append("hedge_or_filler")
        details.append("says " + ", ".join(f"'{p}'" for p in matched))

    task_terms = set(terms(task))
    offered = {
        t for hit in hits for t in terms(hit.body)
        if len(t) >= GROUNDING_TERM_CHARS and t not in task_terms
    }
    used = offered & set(terms(answer))
    wanted = min(MIN_GROUNDING_TERMS, len(offered))
    if len(used) < wanted:
        reasons.append("not_grounded")
        details.append(f"uses {len(used)} of the retrieved playbooks' terms; {wanted} expected")
    return Validation(reasons, details)


# ---------- similarity with a held-out run


def first_uses(names: list[str]) -> list[str]:
    return list(dict.fromkeys(names))


def tools_mentioned(answer: str, known: set[str]) -> list[str]:
    """The known tool names the answer mentions, in order of first mention."""
    found = []
    for name in known:
        match = re.search(rf"(?<!\w){re.escape(name)}(?!\w)", answer)
        if match:
            found.append((match.start(), name))
    return [name for _, name in sorted(found)]


def lcs_length(a: list[str], b: list[str]) -> int:
    row = [0] * (len(b) + 1)
    for x in a:
        previous = 0
        for j, y in enumerate(b, start=1):
            current = row[j]
            row[j] = previous + 1 if x == y else max(row[j], row[j - 1])
            previous = current
    return row[-1]


def tool_sequence_similarity(answer_tools: list[str], run_tools: list[str]) -> float:
    a, b = first_uses(answer_tools), first_uses(run_tools)
    if not a and not b:
        return 1.0
    return 2 * lcs_length(a, b) / (len(a) + len(b))


def key_terms(text: str, terms: Terms) -> set[str]:
    return {t for t in terms(text) if len(t) >= GROUNDING_TERM_CHARS or any(c.isdigit() for c in t)}


def key_term_similarity(answer: str, reference: str, terms: Terms) -> float | None:
    a, b = key_terms(answer, terms), key_terms(reference, terms)
    if not b:
        return None
    return len(a & b) / len(a | b)


def similarity(answer: str | None, held_out: HeldOut, hits: list[Hit],
               terms: Terms) -> tuple[str, float | None]:
    """(method, value) for an answer against the held-out run; value None when there is
    nothing to compare (the run's output has no key term)."""
    text = answer or ""
    if held_out.tools:
        known = set(held_out.tools) | {t for hit in hits for t in hit.tools}
        return "tool_call_sequence", tool_sequence_similarity(
            tools_mentioned(text, known), held_out.tools
        )
    return "key_terms", key_term_similarity(text, held_out.output_text, terms)


# ---------- held-out tasks

HELD_OUT_SQL = """
with

accepted as (

    select
        scored.task_id,
        scored.run_id,
        evidence.task_kind,
        evidence.instruction,
        evidence.output_text,
        evidence.tool_calls,
        row_number() over (partition by scored.task_id order by scored.run_id) as pick
    from scoring.scored_runs as scored
    inner join evidence.evidence as evidence
        on scored.evidence_id = evidence.evidence_id
    where scored.quality_score = 'accepted'
        and evidence.source_format <> 'replay_run'
        and trim(coalesce(evidence.instruction, '')) <> ''
        and scored.task_id in (select task_id from exports.playbooks)

)

select task_id, run_id, task_kind, instruction, output_text, tool_calls
from accepted
where pick = 1
order by sha256(task_id), task_id
limit $n
"""


def held_out_tasks(con: duckdb.DuckDBPyConnection, n: int) -> list[HeldOut]:
    """n tasks with an accepted run and a playbook, spread by a hash of the task id (a
    stable order that mixes kinds); the run replayed is the task's first accepted run."""
    rows = con.execute(HELD_OUT_SQL, {"n": n}).fetchall()
    tasks = []
    for task_id, run_id, kind, instruction, output, tool_calls in rows:
        calls = json.loads(tool_calls) if tool_calls else []
        tools = [c.get("name") for c in calls if isinstance(c, dict) and c.get("name")]
        tasks.append(HeldOut(task_id, run_id, kind or "general", instruction, output or "", tools))
    return tasks


# ---------- one replay


def free_task_id(task: str) -> str:
    return "replay:" + hashlib.sha256(normalise(task).encode("utf-8")).hexdigest()[:16]


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def replay(con: duckdb.DuckDBPyConnection, info: IndexInfo, config: ModelConfig,
           phrases: list[str], task: str, k: int, terms: Terms,
           held_out: HeldOut | None = None) -> dict:
    """Run one replay and return its record; llm.ModelUnreachable propagates (nothing
    answered, nothing to record)."""
    started = time.monotonic()
    hits = retrieve(con, task, k, info, held_out.task_id if held_out else None)
    retrieved = time.monotonic()

    messages = build_messages(task, hits)
    answer: str | None = None
    error: str | None = None
    attempts = 0
    if hits and config.is_baseline:
        answer = llm.baseline_answer(hits)
    elif hits:
        try:
            reply = llm.chat(config, messages)
            answer, attempts = reply.text, reply.attempts
        except ModelCallFailed as failure:
            error = str(failure)
    answered = time.monotonic()

    validation = validate(task, answer, hits, phrases, terms, error)
    compared = None
    if held_out is not None:
        method, value = similarity(answer, held_out, hits, terms)
        compared = {"task_id": held_out.task_id, "run_id": held_out.run_id,
                    "similarity_method": method, "similarity": value}
    finished = time.monotonic()

    return {
        "schema_version": SCHEMA_VERSION,
        "replay_id": "rp_" + uuid.uuid4().hex[:24],
        "recorded_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "task": task,
        "task_id": held_out.task_id if held_out else free_task_id(task),
        "task_kind": held_out.task_kind if held_out else (hits[0].task_kind if hits else None),
        "k": k,
        "retrieval": {"method": "bm25", "variant": info.variant, "k1": info.k1, "b": info.b,
                      "documents": info.document_count,
                      "excluded_task_id": held_out.task_id if held_out else None},
        "retrieved": [{"rank": rank, "playbook_id": hit.playbook_id, "score": hit.score}
                      for rank, hit in enumerate(hits, start=1)],
        "model": config.as_record(),
        "prompt_hash": prompt_hash(messages),
        "answer": answer,
        "model_error": error,
        "model_attempts": attempts,
        "validation_result": validation.as_record(),
        "held_out": compared,
        "timings": {"retrieval_ms": _ms(retrieved - started), "model_ms": _ms(answered - retrieved),
                    "validation_ms": _ms(finished - answered), "total_ms": _ms(finished - started)},
    }
