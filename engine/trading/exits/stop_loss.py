"""Stop loss (seed "Stop Losses"): closes at −loss_pct, every cycle, no grace window."""

from __future__ import annotations

from engine.trading.exits.base import fire

KIND = "stop_loss"
REASONS = ("STOP_LOSS",)


def evaluate(tier, ctx):
    limit = tier.params["loss_pct"]
    if ctx.pnl_pct <= -limit:
        return fire(tier, "STOP_LOSS", pnl_pct=ctx.pnl_pct, loss_pct=limit)
    return None
