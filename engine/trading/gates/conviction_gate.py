"""Conviction gate (seed "Conviction Gate Details"): weighted scoring that sizes 0.4x-2.5x
and never blocks.

score = Σ weight × confidence of the components agreeing with the direction
      + historical adjustment ((win rate − 0.5) × 2 × max_adjustment, after min_trades)
      + edge boost (expected edge > min_expected_edge_pct) + cascade boost (cascade active)
then × the regime bias, clipped to [0, 1]; the level whose min_score it reaches gives the
multiplier. The regime: volatile when |1 h change| > volatile_move_pct_above, else
trending / ranging by Hurst, else unknown (also when the inputs are missing).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.language.schemagen.dsl import Schema, arr, num, obj
from engine.trading.gates.base import (
    Gate,
    GateContext,
    GateResult,
    Level,
    check_levels,
    compile_levels,
    gate_schema,
    level_for,
    level_schema,
    number,
    passed,
)

if TYPE_CHECKING:  # the rule language imports the gate kinds, not the other way round
    from engine.language.kinds.base import BuildContext, Doc

KIND = "conviction_gate"
SUMMARY = "Weighted scoring that sizes, never blocks (0.4x-2.5x)."
REASONS = ("CONVICTION_<LEVEL>",)
REGIMES = ("trending", "ranging", "volatile", "unknown")


@dataclass(frozen=True, slots=True, kw_only=True)
class History:
    min_trades: int
    max_adjustment: float


@dataclass(frozen=True, slots=True, kw_only=True)
class EdgeBoost:
    min_expected_edge_pct: float
    boost: float


@dataclass(frozen=True, slots=True, kw_only=True)
class CascadeBoost:
    boost: float


@dataclass(frozen=True, slots=True, kw_only=True)
class RegimeBias:
    trending: float
    ranging: float
    volatile: float
    unknown: float


@dataclass(frozen=True, slots=True, kw_only=True)
class RegimeRead:
    volatile_move_pct_above: float
    trending_hurst_above: float
    ranging_hurst_below: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Params:
    levels: tuple[Level, ...]
    historical_performance: History
    edge_boost: EdgeBoost
    cascade_boost: CascadeBoost
    regime_bias: RegimeBias
    regime: RegimeRead


def schema() -> Schema:
    return gate_schema(
        KIND,
        SUMMARY,
        {
            "levels": arr("Levels by score, strongest first.", level_schema("A conviction level."), min_items=1),
            "historical_performance": obj(
                "Adjustment from the symbol's past trades.",
                {
                    "min_trades": num("Trades needed before adjusting.", "count", minimum=0, integer=True),
                    "max_adjustment": num("Largest score change.", "score", minimum=0, maximum=1),
                },
            ),
            "edge_boost": obj(
                "Boost when expected edge is large.",
                {
                    "min_expected_edge_pct": num("Edge above which the boost applies.", "%", minimum=0),
                    "boost": num("Score added.", "score", minimum=0, maximum=1),
                },
            ),
            "cascade_boost": obj(
                "Boost while a liquidation cascade is active.",
                {"boost": num("Score added.", "score", minimum=0, maximum=1)},
            ),
            "regime_bias": obj(
                "Score multiplier per market regime.",
                {r: num(f"Multiplier in a {r} regime.", "x", minimum=0, maximum=5) for r in REGIMES},
            ),
            "regime": obj(
                "How the market regime is read (checked in this order: volatile, trending, ranging; else unknown).",
                {
                    "volatile_move_pct_above": num("|1 h price change| above this is volatile.", "%", minimum=0),
                    "trending_hurst_above": num("Hurst above this is trending.", "0-1", minimum=0, maximum=1),
                    "ranging_hurst_below": num("Hurst below this is ranging.", "0-1", minimum=0, maximum=1),
                },
            ),
        },
    )


def compile_params(raw: Mapping[str, Any]) -> Params:
    return Params(
        levels=compile_levels(raw["levels"]),
        historical_performance=History(**raw["historical_performance"]),
        edge_boost=EdgeBoost(**raw["edge_boost"]),
        cascade_boost=CascadeBoost(**raw["cascade_boost"]),
        regime_bias=RegimeBias(**raw["regime_bias"]),
        regime=RegimeRead(**raw["regime"]),
    )


def check(params: Params, doc: Doc, path: tuple[Any, ...], ctx: BuildContext) -> None:
    check_levels(params.levels, 0.0, doc, path + ("levels",), ctx)


def expressions(params: Params) -> dict[str, tuple[Any, ...]]:
    return {}


def regime(read: RegimeRead, env: Mapping[str, Any]) -> str:
    move, hurst = env.get("price_change_pct"), env.get("hurst")
    if move is not None and abs(move) > read.volatile_move_pct_above:
        return "volatile"
    if hurst is not None and hurst > read.trending_hurst_above:
        return "trending"
    if hurst is not None and hurst < read.ranging_hurst_below:
        return "ranging"
    return "unknown"


def cascade_agrees(ctx: GateContext) -> bool:
    """Whether a liquidation-cascade component of the signal record votes for the direction."""
    return any(c.signals_cascade and c.direction == ctx.direction for c in ctx.record.components)


def score(params: Params, ctx: GateContext) -> tuple[float, dict[str, Any]]:
    base = sum(c.weight * c.confidence for c in ctx.record.components if c.direction == ctx.direction)
    stats = ctx.portfolio.trade_stats(ctx.symbol, ctx.direction)
    history = params.historical_performance
    adjust = (stats.win_rate - 0.5) * 2 * history.max_adjustment if stats.trades >= history.min_trades else 0.0
    edge = ctx.expected_edge_pct
    edge_boost = params.edge_boost.boost if edge is not None and edge > params.edge_boost.min_expected_edge_pct else 0.0
    cascade_boost = params.cascade_boost.boost if cascade_agrees(ctx) else 0.0
    market = regime(params.regime, ctx.env)
    bias: float = getattr(params.regime_bias, market)
    total = min(1.0, max(0.0, (base + adjust + edge_boost + cascade_boost) * bias))
    return total, {
        "base": base,
        "history_adjustment": adjust,
        "edge_boost": edge_boost,
        "cascade_boost": cascade_boost,
        "regime": market,
        "regime_bias": bias,
        "score": total,
    }


def evaluate(gate: Gate[Params], ctx: GateContext) -> GateResult:
    total, parts = score(gate.params, ctx)
    level = level_for(gate.params.levels, total)
    return passed(gate, level.size_multiplier, f"CONVICTION_{level.name}", **parts)


def explain(result: GateResult) -> str:
    i = result.inputs
    return (
        f"score {number(i['score'])} from components {number(i['base'])}, history {number(i['history_adjustment'])}, "
        f"edge boost {number(i['edge_boost'])}, cascade boost {number(i['cascade_boost'])}, "
        f"× {i['regime']} regime bias {number(i['regime_bias'])}"
    )
