"""The learning audit: ``logs/learning_audit.jsonl``, one JSON object per line, appended and
never rewritten.

Two kinds of lines, told apart by ``event``:

- ``"write"``: one learner's write-back attempt, applied or refused — the learner, the
  version it based on, each value old → new, the code and reason of a refusal, the file it
  wrote and the version that resulted (:func:`write_record`);
- ``"cycle"``: one learning cycle — its data window, what each learner read (counted), what
  it proposed or why nothing, and what became of each write (:func:`cycle_record`);
- ``"promotion"``: a promotion gate's rejection that no cycle line or version store records —
  a sweep's best variant (`rulebot sweep --write-best`): the learner, the base version, the
  values and the gate's numbers (:func:`promotion_record`).

The records are plain data built here (pure); :class:`LearningAudit` hands them to a sink
with ``write(record)`` — the composition root gives it an fsync'd JSON-lines log
(adapters/store/jsonl.py), so each line is one whole ``write`` and survives a crash.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from engine.common.times import iso_utc

if TYPE_CHECKING:
    from engine.learners.base import LearnerResult
    from engine.versions.writeback import WriteOutcome, WriteRequest

AUDIT_LOG = "learning_audit.jsonl"
WRITE, CYCLE, PROMOTION = "write", "cycle", "promotion"


class Sink(Protocol):
    def write(self, record: Any) -> None: ...


def _number(value: Any) -> Any:
    """A value as JSON can hold it: a non-finite float as text (the log forbids NaN), inside
    mappings and lists too."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _number(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_number(v) for v in value]
    return value


def write_record(ts: float, outcome: WriteOutcome, request: WriteRequest | None = None) -> dict[str, Any]:
    """The audit line of one write attempt."""
    record: dict[str, Any] = {
        "event": WRITE,
        "ts": iso_utc(ts),
        "learner": outcome.learner,
        "status": outcome.status,
        "code": outcome.code,
        "reason": outcome.reason,
        "base_version": outcome.base_version,
        "version": outcome.version,
        "file": f"learned/{outcome.file}" if outcome.file else None,
        "changes": [{"path": c.path, "old": _number(c.old), "new": _number(c.new)} for c in outcome.changes],
    }
    if request is not None:
        record["window"] = {"from": _time(request.window_from), "to": _time(request.window_to)}
        record["counts"] = dict(request.counts)
        record["reasons"] = dict(request.reasons)
    return record


def _time(ts: float) -> str | None:
    try:
        return iso_utc(ts)
    except (OverflowError, OSError, ValueError):
        return None


def cycle_record(
    ts: float,
    window_from: float,
    window_to: float,
    results: Sequence[LearnerResult],
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The audit line of one learning cycle: every learner's inputs, proposals or reason
    for none, and ``extra`` (engine/learners/cycle.py ``Cycle.audit``: the orchestrator's
    decision and what became of each learner's write; their ``write`` lines carry the details)."""
    return {
        "event": CYCLE,
        "ts": iso_utc(ts),
        "window": {"from": _time(window_from), "to": _time(window_to)},
        "learners": [
            {
                "learner": r.learner,
                "kind": r.kind,
                "inputs": dict(r.inputs),
                "skipped": r.skipped,
                "proposals": [
                    {
                        "path": p.path,
                        "old": _number(p.old),
                        "new": _number(p.new),
                        "reason": p.reason,
                        "evidence": p.evidence,
                        "group": p.group,
                    }
                    for p in r.proposals
                ],
            }
            for r in results
        ],
        **dict(extra or {}),
    }


def promotion_record(
    ts: float, learner: str, base_version: str, values: Mapping[str, Any], gate: Mapping[str, Any]
) -> dict[str, Any]:
    """The audit line of a candidate the promotion gate rejected, with the gate's numbers."""
    return {
        "event": PROMOTION,
        "ts": iso_utc(ts),
        "learner": learner,
        "status": "rejected",
        "base_version": base_version,
        "values": _number(values),
        "promotion": _number(gate),
    }


class LearningAudit:
    """Appends audit lines to ``sink`` (anything with ``write(record)``)."""

    def __init__(self, sink: Sink) -> None:
        self._sink = sink

    def write(self, ts: float, outcome: WriteOutcome, request: WriteRequest | None = None) -> dict[str, Any]:
        record = write_record(ts, outcome, request)
        self._sink.write(record)
        return record

    def rejected(
        self, ts: float, learner: str, base_version: str, values: Mapping[str, Any], gate: Mapping[str, Any]
    ) -> dict[str, Any]:
        record = promotion_record(ts, learner, base_version, values, gate)
        self._sink.write(record)
        return record
