"""Multi-timeframe alignment (seed "Multi-Timeframe (MTF) Alignment" exit triggers):
alignment below ``min_alignment``, a drop since entry beyond ``min_delta``, or momentum
reversed against the position. Unknown alignment (still warming up) does not fire."""

from __future__ import annotations

from engine.trading.exits.base import fire

KIND = "mtf_alignment"
REASONS = ("MTF_ALIGNMENT_LOST", "MTF_ALIGNMENT_DEGRADED", "MOMENTUM_REVERSED")


def evaluate(tier, ctx):
    p, env = tier.params, ctx.env
    alignment, delta = env.get("alignment"), env.get("alignment_delta")
    if alignment is not None and alignment < p["min_alignment"]:
        return fire(tier, "MTF_ALIGNMENT_LOST", alignment=alignment, min_alignment=p["min_alignment"])
    if delta is not None and delta < p["min_delta"]:
        return fire(tier, "MTF_ALIGNMENT_DEGRADED", alignment_delta=delta, min_delta=p["min_delta"])
    if p["exit_on_momentum_reversal"] and env.get("momentum_reversed"):
        return fire(tier, "MOMENTUM_REVERSED")
    return None
