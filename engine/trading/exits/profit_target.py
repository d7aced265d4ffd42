"""Profit targets (seed "Profit Targets"): any target whose age has come and whose P&L is
strictly exceeded closes the position (freqtrade ROI: strict ``>``)."""

from __future__ import annotations

from engine.trading.exits.base import fire

KIND = "profit_target"
REASONS = ("TAKE_PROFIT",)


def evaluate(tier, ctx):
    for target in tier.params["targets"]:
        if ctx.hold_s >= target["after"] and ctx.pnl_pct > target["pnl_pct"]:
            return fire(tier, "TAKE_PROFIT", pnl_pct=ctx.pnl_pct, target_pct=target["pnl_pct"], after_s=target["after"])
    return None
