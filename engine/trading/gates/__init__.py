"""The gate chain: the explicit registry of gate kinds and the function that runs them.

A new gate kind is one module (copy ``_template.py``; engine/trading/gates/base.py describes the
shape) and one line in the list below. Everything else finds it through :data:`GATES` at call
time (``gates.GATES`` or :func:`kind_module`), so a test can swap the registry."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from engine.language.registry import registry
from engine.trading.gates import (
    conviction_gate,
    correlation_throttle,
    fee_gate,
    intelligence_gate,
    pre_entry_gate,
    trading_state,
)
from engine.trading.gates.base import DISABLED, Gate, GateContext, GateResult, describe_inputs, passed

#: What every gate kind module defines (engine/trading/gates/base.py).
REQUIRED = ("SUMMARY", "REASONS", "Params", "schema", "compile_params", "check", "expressions", "evaluate", "explain")

GATES = registry(
    "gates",
    (conviction_gate, fee_gate, correlation_throttle, intelligence_gate, pre_entry_gate, trading_state),
    REQUIRED,
)


def kind_module(kind: str) -> ModuleType:
    """The module of gate ``kind``, looked up in the registry as it is now."""
    return GATES[kind]


@dataclass(frozen=True, slots=True)
class ChainResult:
    trail: tuple[GateResult, ...]
    multiplier: float  # product of every multiplier (0 if any gate blocked)

    @property
    def first_blocker(self) -> GateResult | None:
        return next((r for r in self.trail if r.blocked), None)


def run_chain(spec: Any, ctx: GateContext, *, until_blocked: bool = False) -> ChainResult:
    """Every gate runs, even after a block, so the trail is complete for counterfactual
    learning — unless ``until_blocked`` (a dry-run keeps only the first blocker)."""
    trail = []
    multiplier = 1.0
    for gate in spec.chain:
        result = passed(gate, reason=DISABLED) if not gate.enabled else kind_module(gate.kind).evaluate(gate, ctx)
        trail.append(result)
        multiplier *= result.multiplier
        if until_blocked and result.blocked:
            break
    return ChainResult(tuple(trail), multiplier)


def correlation_window(chain: Iterable[Gate[Any]]) -> tuple[float, float] | None:
    """(window, return interval) in seconds of the return correlations the first gate that
    reads them needs (a kind declares ``correlation_window(params)``); None when none does."""
    for gate in chain:
        window = getattr(kind_module(gate.kind), "correlation_window", None)
        if window is not None:
            found: tuple[float, float] = window(gate.params)
            return found
    return None


def explain(result: GateResult) -> str:
    """What ``rulebot explain`` prints about a gate's answer: its kind's words, then the inputs
    the gate looked at."""
    if result.reason == DISABLED:
        return "disabled: passes with multiplier 1"
    words: str = kind_module(result.kind).explain(result)
    values = describe_inputs(result)
    return words + (f"  [{values}]" if values else "")


__all__ = [
    "GATES",
    "ChainResult",
    "Gate",
    "GateContext",
    "GateResult",
    "correlation_window",
    "explain",
    "kind_module",
    "run_chain",
]
