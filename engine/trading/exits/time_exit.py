"""Time exits (seed "Time-Based Exits"): after each rule's age, P&L below its floor closes."""

from __future__ import annotations

from engine.trading.exits.base import fire

KIND = "time_exit"
REASONS = ("TIME_LIMIT",)


def evaluate(tier, ctx):
    for rule in tier.params["rules"]:
        if ctx.hold_s >= rule["after"] and ctx.pnl_pct < rule["below_pnl_pct"]:
            return fire(
                tier, "TIME_LIMIT", pnl_pct=ctx.pnl_pct, below_pnl_pct=rule["below_pnl_pct"], after_s=rule["after"]
            )
    return None
