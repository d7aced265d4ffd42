"""Fee gate (seed "Fee Gate"): the expected edge after the venue's round-trip fees must be
at least ``min_edge_after_fees_pct`` (equality passes, within 1e-9 % of float noise), else
block. Fails closed when the edge is unknown."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.language.schemagen.dsl import Schema, learnable, num, text
from engine.trading.gates.base import Gate, GateContext, GateResult, blocked, gate_schema, number, passed

if TYPE_CHECKING:  # the rule language imports the gate kinds, not the other way round
    from engine.language.kinds.base import BuildContext, Doc

KIND = "fee_gate"
SUMMARY = "Blocks when the expected edge does not beat the venue's fees."
REASONS = ("FEE_EDGE_UNKNOWN", "FEE_EDGE_TOO_SMALL")
TOLERANCE_PCT = 1e-9


@dataclass(frozen=True, slots=True, kw_only=True)
class Params:
    min_edge_after_fees_pct: float
    fee_type: str  # maker | taker


def schema() -> Schema:
    return gate_schema(
        KIND,
        SUMMARY,
        {
            "min_edge_after_fees_pct": learnable(
                num("Edge that must remain after round-trip fees.", "%", minimum=0, maximum=10)
            ),
            "fee_type": text("Which fee the round trip pays.", enum=["maker", "taker"]),
        },
    )


def compile_params(raw: Mapping[str, Any]) -> Params:
    return Params(min_edge_after_fees_pct=raw["min_edge_after_fees_pct"], fee_type=raw["fee_type"])


def check(params: Params, doc: Doc, path: tuple[Any, ...], ctx: BuildContext) -> None:
    """Nothing beyond the schema."""


def expressions(params: Params) -> dict[str, tuple[Any, ...]]:
    return {}


def fee_pct(params: Params, venue: Any) -> float:
    """The venue's fee for one side of the trade, in percent."""
    fee: float = venue.taker_fee_pct if params.fee_type == "taker" else venue.maker_fee_pct
    return fee


def evaluate(gate: Gate[Params], ctx: GateContext) -> GateResult:
    p = gate.params
    round_trip = 2 * fee_pct(p, ctx.venue)
    if ctx.expected_edge_pct is None:
        return blocked(gate, "FEE_EDGE_UNKNOWN", round_trip_fee_pct=round_trip)
    after = ctx.expected_edge_pct - round_trip
    seen: dict[str, Any] = {
        "expected_edge_pct": ctx.expected_edge_pct,
        "round_trip_fee_pct": round_trip,
        "edge_after_fees_pct": after,
        "min_edge_after_fees_pct": p.min_edge_after_fees_pct,
    }
    if after < p.min_edge_after_fees_pct - TOLERANCE_PCT:
        return blocked(gate, "FEE_EDGE_TOO_SMALL", **seen)
    return passed(gate, **seen)


def explain(result: GateResult) -> str:
    i = result.inputs
    if result.reason == "FEE_EDGE_UNKNOWN":
        return f"the expected edge is unknown: fails closed (round-trip fees {number(i['round_trip_fee_pct'])} %)"
    relation = "is below" if result.blocked else "reaches"
    return (
        f"expected edge {number(i['expected_edge_pct'])} % − round-trip fees {number(i['round_trip_fee_pct'])} % "
        f"= {number(i['edge_after_fees_pct'])} %, which {relation} the minimum {number(i['min_edge_after_fees_pct'])} %"
    )
