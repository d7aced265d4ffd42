"""Profit targets (seed "Profit Targets"): any target whose age has come and whose P&L is
strictly exceeded closes the position (freqtrade ROI: strict ``>``)."""

from __future__ import annotations

import numpy as np

from engine.exits.base import fire

KIND = "profit_target"
REASONS = ("TAKE_PROFIT",)


def evaluate(tier, ctx):
    for target in tier.params["targets"]:
        if ctx.hold_s >= target["after"] and ctx.pnl_pct > target["pnl_pct"]:
            return fire(tier, "TAKE_PROFIT", pnl_pct=ctx.pnl_pct, target_pct=target["pnl_pct"],
                        after_s=target["after"])
    return None


def fires(tier, xc):
    """Rows where ``evaluate`` fires (engine.exits.columns)."""
    out = np.zeros(len(xc.pnl_pct), dtype=bool)
    for target in tier.params["targets"]:
        out |= (xc.hold_s >= target["after"]) & (xc.pnl_pct > target["pnl_pct"])
    return out
