"""Trading state (anchors A.6): ACTIVE passes; HALTED and REDUCING refuse new entries
(an entry always adds exposure). The state itself comes from engine.trading.entry.trading_state."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.language.schemagen.dsl import Schema
from engine.trading.gates.base import Gate, GateContext, GateResult, blocked, gate_schema, passed

if TYPE_CHECKING:  # the rule language imports the gate kinds, not the other way round
    from engine.language.kinds.base import BuildContext, Doc

KIND = "trading_state"
SUMMARY = "ACTIVE / HALTED / REDUCING; the last gate of every chain."
REASONS = ("TRADING_HALTED", "TRADING_REDUCING")
MUST_BE_LAST = True  # the state refuses whatever the gates before it allowed (RB312)


@dataclass(frozen=True, slots=True, kw_only=True)
class Params:
    """No parameters: the state is the portfolio's."""


def schema() -> Schema:
    return gate_schema(KIND, SUMMARY, {})


def compile_params(raw: Mapping[str, Any]) -> Params:
    return Params()


def check(params: Params, doc: Doc, path: tuple[Any, ...], ctx: BuildContext) -> None:
    """Nothing beyond the schema (its place at the end of the chain is MUST_BE_LAST's)."""


def expressions(params: Params) -> dict[str, tuple[Any, ...]]:
    return {}


def evaluate(gate: Gate[Params], ctx: GateContext) -> GateResult:
    if ctx.trading_state == "ACTIVE":
        return passed(gate, state="ACTIVE")
    return blocked(gate, f"TRADING_{ctx.trading_state}", state=ctx.trading_state, why=ctx.trading_state_reason)


def explain(result: GateResult) -> str:
    state, why = result.inputs["state"], result.inputs.get("why", "")
    if not result.blocked:
        return f"trading is {state}"
    return f"trading is {state}: no new entries" + (f" ({why})" if why else "")
