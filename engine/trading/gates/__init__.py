"""The gate chain: the explicit registry of gate kinds and the function that runs them."""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from engine.trading.gates import (
    conviction_gate,
    correlation_throttle,
    fee_gate,
    intelligence_gate,
    pre_entry_gate,
    trading_state,
)
from engine.trading.gates.base import GateContext, GateResult, passed

GATES = MappingProxyType(
    {
        m.KIND: m
        for m in (conviction_gate, fee_gate, correlation_throttle, intelligence_gate, pre_entry_gate, trading_state)
    }
)


@dataclass(frozen=True, slots=True)
class ChainResult:
    trail: tuple[GateResult, ...]
    multiplier: float  # product of every multiplier (0 if any gate blocked)

    @property
    def first_blocker(self) -> GateResult | None:
        return next((r for r in self.trail if r.blocked), None)


def run_chain(spec, ctx: GateContext, *, until_blocked: bool = False) -> ChainResult:
    """Every gate runs, even after a block, so the trail is complete for counterfactual
    learning — unless ``until_blocked`` (a dry-run keeps only the first blocker)."""
    trail = []
    multiplier = 1.0
    for gate in spec.chain:
        result = passed(gate, reason="DISABLED") if not gate.enabled else GATES[gate.kind].evaluate(gate, ctx)
        trail.append(result)
        multiplier *= result.multiplier
        if until_blocked and result.blocked:
            break
    return ChainResult(tuple(trail), multiplier)


__all__ = ["GATES", "ChainResult", "GateContext", "GateResult", "run_chain"]
