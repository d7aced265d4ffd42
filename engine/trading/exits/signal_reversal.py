"""Signal reversal (seed "Signal Reversal"): the EMA crossover turned against the position
after it opened (a position opened against the EMA trend is not reversed by it)."""

from __future__ import annotations

from engine.trading.exits.base import fire

KIND = "signal_reversal"
REASONS = ("SIGNAL_REVERSAL",)


def evaluate(tier, ctx):
    trend = ctx.env.get("ema_trend")
    against = -ctx.position.sign
    if trend == against and ctx.position.trend_at_entry != against:
        return fire(tier, "SIGNAL_REVERSAL", ema_trend=trend, trend_at_entry=ctx.position.trend_at_entry)
    return None
