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

from engine.replay.columns.gates import passes
from engine.trading.gates.base import level_for, passed

KIND = "conviction_gate"
REASONS = ("CONVICTION_<LEVEL>",)


def regime(params, env) -> str:
    read = params["regime"]
    move, hurst = env.get("price_change_pct"), env.get("hurst")
    if move is not None and abs(move) > read["volatile_move_pct_above"]:
        return "volatile"
    if hurst is not None and hurst > read["trending_hurst_above"]:
        return "trending"
    if hurst is not None and hurst < read["ranging_hurst_below"]:
        return "ranging"
    return "unknown"


def score(gate, ctx) -> tuple[float, dict]:
    p = gate.params
    base = sum(c.weight * c.confidence for c in ctx.record.components if c.direction == ctx.direction)
    stats = ctx.portfolio.trade_stats(ctx.symbol, ctx.direction)
    history = p["historical_performance"]
    adjust = (stats.win_rate - 0.5) * 2 * history["max_adjustment"] if stats.trades >= history["min_trades"] else 0.0
    edge = ctx.expected_edge_pct
    edge_boost = (
        p["edge_boost"]["boost"] if edge is not None and edge > p["edge_boost"]["min_expected_edge_pct"] else 0.0
    )
    cascade = any(c.kind == "liquidation_cascade" and c.direction == ctx.direction for c in ctx.record.components)
    cascade_boost = p["cascade_boost"]["boost"] if cascade else 0.0
    market = regime(p, ctx.env)
    bias = p["regime_bias"][market]
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


def evaluate(gate, ctx):
    total, parts = score(gate, ctx)
    level = level_for(gate.params["levels"], total)
    return passed(gate, level["size_multiplier"], f"CONVICTION_{level['name']}", **parts)


def columns(gate, cols, live):
    """Never blocks: every row passes (engine.replay.columns.decisions)."""
    return passes(len(cols))
