"""What a gate sees and what it answers. Every gate kind module has the same shape:
``KIND``, ``REASONS`` (the codes it can give), ``evaluate(gate, ctx) -> GateResult`` and its
column form ``columns(gate, cols, live) -> Verdict`` (engine/replay/columns/gates.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

PASS = "PASS"


@dataclass(frozen=True, slots=True)
class GateContext:
    """Everything the chain may read for one entry decision; built once, read by all gates."""

    symbol: str
    direction: str  # LONG | SHORT
    record: Any  # signals.record.SignalRecord
    env: Mapping[str, Any]  # vocabulary values (market, signal outcome, performance)
    portfolio: Any  # portfolio.Portfolio
    venue: Any  # kinds.venues.Exchange (the execution venue)
    correlations: Mapping[str, float]  # other symbol → return correlation with this one (known ones)
    trading_state: str  # ACTIVE | HALTED | REDUCING
    trading_state_reason: str
    expected_edge_pct: float | None  # gates.yaml expected_edge; None when it could not be computed


@dataclass(frozen=True, slots=True)
class GateResult:
    id: str
    kind: str
    multiplier: float
    blocked: bool
    reason: str  # PASS, or an UPPER_SNAKE code
    inputs: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "kind": self.kind,
            "multiplier": self.multiplier,
            "blocked": self.blocked,
            "reason": self.reason,
            "inputs": dict(self.inputs),
        }


def passed(gate, multiplier: float = 1.0, reason: str = PASS, **inputs) -> GateResult:
    return GateResult(gate.id, gate.kind, multiplier, False, reason, MappingProxyType(inputs))


def blocked(gate, reason: str, **inputs) -> GateResult:
    return GateResult(gate.id, gate.kind, 0.0, True, reason, MappingProxyType(inputs))


def level_for(levels, score: float):
    """The first level (highest first) whose min_score the score reaches; the last otherwise."""
    for level in levels:
        if score >= level["min_score"]:
            return level
    return levels[-1]
