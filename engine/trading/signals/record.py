"""The signal record: everything one evaluation saw and decided, as data."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from engine.trading.signals.answer import NEUTRAL, SIGN
from engine.trading.signals.components.base import threshold_values
from engine.trading.signals.vote import Vote


@dataclass(frozen=True, slots=True)
class ComponentResult:
    """One component's answer next to its rule (weight, thresholds)."""

    component: Any  # signals.Component (the compiled rule)
    answer: Any  # answer.Answer

    id = property(lambda self: self.component.id)
    kind = property(lambda self: self.component.kind)
    weight = property(lambda self: self.component.weight)
    thresholds = property(lambda self: self.component.thresholds)  # the kind's frozen Thresholds
    signals_cascade = property(lambda self: self.component.signals_cascade)
    direction = property(lambda self: self.answer.direction)
    confidence = property(lambda self: self.answer.confidence)
    reasons = property(lambda self: self.answer.reasons)
    inputs = property(lambda self: self.answer.inputs)

    @property
    def contribution(self) -> float:
        """weight × confidence, signed by direction (+ LONG, − SHORT)."""
        return SIGN[self.direction] * self.weight * self.confidence


class VoteFields:
    """The vote's fields read off a record's ``vote`` (SignalRecord's, and the dry-run column
    form's ColumnRecord's)."""

    __slots__ = ()
    vote: Vote

    direction = property(lambda self: self.vote.direction)
    long_votes = property(lambda self: self.vote.long_votes)
    short_votes = property(lambda self: self.vote.short_votes)
    aligned_count = property(lambda self: self.vote.aligned_count)
    confidence = property(lambda self: self.vote.confidence)
    conviction = property(lambda self: self.vote.conviction)
    size_multiplier = property(lambda self: self.vote.size_multiplier)


@dataclass(frozen=True, slots=True)
class SignalRecord(VoteFields):
    """One evaluation: every component's answer and their vote (whose fields it exposes)."""

    version: str
    profile: str
    ts: float
    symbol: str
    components: tuple[ComponentResult, ...]
    vote: Vote

    @property
    def cascade_active(self) -> bool:
        """Some cascade-signalling component is not NEUTRAL (the gates' ``cascade_active``)."""
        return any(c.signals_cascade and c.direction != NEUTRAL for c in self.components)

    def as_dict(self) -> dict:
        return {
            "version": self.version,
            "profile": self.profile,
            "ts": self.ts,
            "symbol": self.symbol,
            "direction": self.direction,
            "conviction": self.conviction,
            "confidence": _clean(self.confidence),
            "aligned_count": self.aligned_count,
            "long_votes": self.long_votes,
            "short_votes": self.short_votes,
            "size_multiplier": self.size_multiplier,
            "components": [_component_dict(c) for c in self.components],
        }


def _component_dict(c: ComponentResult) -> dict:
    component, answer = c.component, c.answer
    weight, confidence = component.weight, answer.confidence
    return {
        "id": component.id,
        "kind": component.kind,
        "direction": answer.direction,
        "confidence": _clean(confidence),
        "weight": weight,
        "contribution": _clean(SIGN[answer.direction] * weight * confidence),
        "reasons": list(answer.reasons),
        "inputs": {k: _clean(v) if isinstance(v, float) else v for k, v in answer.inputs.items()},
        "thresholds": _thresholds(component.thresholds),
    }


# a compiled plan's thresholds, cleaned once: they are the same in every record (the logs
# write one per component per cycle). Keyed by identity, the object kept so its id is not
# reused; equal thresholds of other objects may differ in type (1 and 1.0) and are not shared.
_THRESHOLDS: dict[int, tuple[Any, dict[str, Any]]] = {}
_THRESHOLDS_MAX = 4096


def _thresholds(thresholds: Any) -> dict[str, Any]:
    cached = _THRESHOLDS.get(id(thresholds))
    if cached is None or cached[0] is not thresholds:
        if len(_THRESHOLDS) >= _THRESHOLDS_MAX:  # many reloads: start again rather than grow
            _THRESHOLDS.clear()
        cached = (thresholds, {k: _clean(v) for k, v in threshold_values(thresholds).items()})
        _THRESHOLDS[id(thresholds)] = cached
    return dict(cached[1])


def _clean(value: Any) -> Any:
    """JSON-safe numbers: rounded to 10 significant digits, non-finite as None."""
    if isinstance(value, float):
        return float(f"{value:.10g}") if math.isfinite(value) else None
    return value
