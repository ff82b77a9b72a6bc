"""Drift: this root's metrics against an accepted baseline, flagged past a relative move.

The metrics are read off the published files, so they describe what a consumer of the
exports gets: rows per phase, evidence per source format, category shares, skip rates by
reason, and the length distribution (median and 90th percentile, in characters) of the
texts that go into training. A metric moves by |now - baseline| / |baseline|; one that
appears from zero or drops to nothing counts as an unbounded move. Drift is a warning for
a person to look at, never a failure: an intended change is accepted with
`distill baseline --notes "why"`.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from dataclasses import dataclass

from distill.audit_context import AuditContext
from distill.errors import ConfigError

DEFAULT_THRESHOLD = 0.20
THRESHOLD_ENV = "DISTILL_DRIFT_THRESHOLD"
OK, WARN = "ok", "warn"


def resolve_threshold(given: float | None) -> float:
    """--drift-threshold, else $DISTILL_DRIFT_THRESHOLD, else 0.20 (a 20% relative move)."""
    raw = given if given is not None else os.environ.get(THRESHOLD_ENV)
    if raw is None or raw == "":
        return DEFAULT_THRESHOLD
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"drift threshold {raw!r} is not a number (e.g. 0.2 for 20%)") from None
    if not math.isfinite(value) or value <= 0:
        raise ConfigError(f"drift threshold {raw!r} must be a positive number (0.2 for 20%)")
    return value


def _quantile(values: list[int], q: float) -> int:
    """The nearest-rank quantile: a value that occurs, stable whatever the order."""
    if not values:
        return 0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def _lengths(name: str, texts: list[str]) -> dict[str, float]:
    lengths = [len(t) for t in texts]
    return {f"length.{name}.p50": _quantile(lengths, 0.5),
            f"length.{name}.p90": _quantile(lengths, 0.9)}


def collect_metrics(ctx: AuditContext) -> dict[str, float]:
    """The metrics of the root as published, keyed by a stable dotted name."""
    evidence = ctx.rows("evidence.evidence").records
    skips = ctx.rows("evidence.distillation_skips").records
    scored = ctx.rows("scoring.scored_runs").records
    score_skips = ctx.rows("scoring.scoring_skips").records
    sft = ctx.rows("exports.sft_samples").records
    pairs = ctx.rows("exports.preference_pairs").records
    playbooks = ctx.rows("exports.playbooks").records
    lines = sum(ctx.source_lines.values())

    metrics: dict[str, float] = {
        "rows.input_lines": lines,
        "rows.evidence": len(evidence),
        "rows.distillation_skips": len(skips),
        "rows.scored_runs": len(scored),
        "rows.scoring_skips": len(score_skips),
        "exports.sft_samples": len(sft),
        "exports.preference_pairs": len(pairs),
        "exports.playbooks": len(playbooks),
    }
    for fmt, count in Counter(str(r.get("source_format")) for r in evidence).items():
        metrics[f"evidence.per_format.{fmt}"] = count
    for category, count in Counter(str(r.get("quality_score")) for r in scored).items():
        metrics[f"share.{category}"] = round(count / len(scored), 6)
    for reason, count in Counter(str(r.get("skip_reason")) for r in skips).items():
        metrics[f"skip_rate.materialize.{reason}"] = round(count / lines, 6) if lines else 0.0
    for reason, count in Counter(str(r.get("skip_reason")) for r in score_skips).items():
        rate = round(count / len(evidence), 6) if evidence else 0.0
        metrics[f"skip_rate.score.{reason}"] = rate
    metrics.update(_lengths("sft_instruction", [str(r.get("instruction") or "") for r in sft]))
    metrics.update(_lengths("sft_response", [str(r.get("response") or "") for r in sft]))
    metrics.update(_lengths("preference_chosen", [str(r.get("chosen") or "") for r in pairs]))
    metrics.update(_lengths("playbook_body", [str(r.get("body") or "") for r in playbooks]))
    return dict(sorted(metrics.items()))


@dataclass
class DriftRow:
    metric: str
    baseline: float | None
    current: float | None
    move: float | None
    """Relative move, |now - baseline| / |baseline|; inf when one side is zero or absent."""
    status: str


def relative_move(baseline: float | None, current: float | None) -> float:
    before, now = float(baseline or 0), float(current or 0)
    if before == now:
        return 0.0
    if before == 0:
        return math.inf
    return abs(now - before) / abs(before)


def compare(current: dict[str, float], baseline: dict[str, float] | None,
            threshold: float) -> list[DriftRow]:
    """One row per metric in either set, sorted by name; `warn` past the threshold."""
    if baseline is None:
        return [DriftRow(k, None, v, None, OK) for k, v in sorted(current.items())]
    rows = []
    for metric in sorted(set(current) | set(baseline)):
        before, now = baseline.get(metric), current.get(metric)
        move = relative_move(before, now)
        rows.append(DriftRow(metric, before, now, move, WARN if move > threshold else OK))
    return rows
