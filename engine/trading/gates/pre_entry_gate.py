"""Pre-entry gate (seed "Pre-Entry Gate (Unified Stack)"): the execution venue must be of
an allowed type (futures only), and no profit gate may hold. A profit gate whose
expression cannot be evaluated blocks (fail closed)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.common.errors import RuleRuntimeError
from engine.language.schemagen.dsl import Schema, arr, expression, identifier, obj, ref, text
from engine.trading.gates.base import Gate, GateContext, GateResult, blocked, gate_schema, passed

if TYPE_CHECKING:  # the rule language imports the gate kinds, not the other way round
    from engine.language.kinds.base import BuildContext, Doc

KIND = "pre_entry_gate"
SUMMARY = "Venue enforcement and profit gates."
REASONS = ("VENUE_TYPE_NOT_ALLOWED", "PROFIT_GATE_UNEVALUABLE", "<profit gate reason>")


@dataclass(frozen=True, slots=True, kw_only=True)
class ProfitGate:
    id: str
    when: str  # the condition's text; compiled into Gate.expressions under expression_name(id)
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Params:
    allowed_venue_types: tuple[str, ...]
    profit_gates: tuple[ProfitGate, ...]


def schema() -> Schema:
    return gate_schema(
        KIND,
        SUMMARY,
        {
            "allowed_venue_types": arr(
                "Venue types entries may use.", text("Type.", enum=["futures", "spot"]), min_items=1, unique=True
            ),
            "profit_gates": arr(
                "Conditions that block the entry when they hold.",
                obj(
                    "A profit gate.",
                    {
                        "id": identifier("Name of this profit gate."),
                        "when": expression("Blocks when true."),
                        "reason": ref("reason_code", "Reason code when it blocks.", "code"),
                    },
                ),
                unit="list",
            )
            | {"default": []},
        },
    )


def compile_params(raw: Mapping[str, Any]) -> Params:
    return Params(
        allowed_venue_types=tuple(raw["allowed_venue_types"]),
        profit_gates=tuple(ProfitGate(id=g["id"], when=g["when"], reason=g["reason"]) for g in raw["profit_gates"]),
    )


def check(params: Params, doc: Doc, path: tuple[Any, ...], ctx: BuildContext) -> None:
    """Nothing beyond the schema."""


def expression_name(profit_gate_id: str) -> str:
    return f"profit_gates.{profit_gate_id}"


def expressions(params: Params) -> dict[str, tuple[Any, ...]]:
    return {expression_name(g.id): ("profit_gates", j, "when") for j, g in enumerate(params.profit_gates)}


def evaluate(gate: Gate[Params], ctx: GateContext) -> GateResult:
    if ctx.venue.venue_type not in gate.params.allowed_venue_types:
        return blocked(gate, "VENUE_TYPE_NOT_ALLOWED", venue=ctx.venue.id, venue_type=ctx.venue.venue_type)
    for profit_gate in gate.params.profit_gates:
        condition = gate.expressions[expression_name(profit_gate.id)]
        try:
            holds = condition(ctx.env)
        except RuleRuntimeError as error:
            return blocked(gate, "PROFIT_GATE_UNEVALUABLE", profit_gate=profit_gate.id, error=str(error)[:120])
        if holds:
            return blocked(gate, profit_gate.reason, profit_gate=profit_gate.id)
    return passed(gate, venue=ctx.venue.id)


def explain(result: GateResult) -> str:
    i = result.inputs
    if result.reason == "VENUE_TYPE_NOT_ALLOWED":
        return f"venue {i['venue']} is of type {i['venue_type']}, which entries may not use"
    if result.reason == "PROFIT_GATE_UNEVALUABLE":
        return f"profit gate {i['profit_gate']} cannot be evaluated ({i['error']}): fails closed"
    if result.blocked:
        return f"profit gate {i['profit_gate']} holds"
    return f"venue {i['venue']} is allowed and no profit gate holds"
