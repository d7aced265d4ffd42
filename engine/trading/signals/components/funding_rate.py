"""Funding-rate extremes (seed #3, 16 %): crowded trades unwind, so fade them.

Deviation = latest funding rate − its rolling mean over ``window`` readings. At or above
``min_deviation`` longs are crowded: SHORT; at or below −``min_deviation``: LONG.
Confidence: |deviation| ÷ (threshold × multiple).
"""

from __future__ import annotations

from engine.trading.features import FundingDeviation
from engine.trading.signals.answer import LONG, SHORT, Answer, directed, neutral, scaled, side

KIND = "funding_rate"
INPUTS = ("funding_rate",)
EXPORTS = ("funding_rate", "funding_deviation", "funding_z")  # vocabulary names exports() may give


def new_state(component):
    params = component.params
    return FundingDeviation(window=params["window"])


def update(state, snapshot, symbol, leader) -> None:
    rate = symbol.get("funding_rate")
    if rate is not None:
        state.update(symbol.times["funding_rate"], rate)


def exports(state) -> dict:
    v = state.value
    if v is None:
        return {}
    out = {"funding_rate": v.rate, "funding_deviation": v.deviation}
    if v.zscore is not None:
        out["funding_z"] = v.zscore
    return out


def evaluate(component, state) -> Answer:
    v = state.value
    if v is None:
        return neutral("warming_up")
    threshold = component.thresholds["min_deviation"]
    seen = {"rate": v.rate, "mean": v.mean, "deviation": v.deviation, "threshold": threshold}
    if abs(v.deviation) < threshold or v.deviation == 0:
        return neutral("below_threshold", **seen)
    direction = side(v.deviation, SHORT, LONG)
    confidence = scaled(abs(v.deviation), threshold, component.params["full_confidence_multiple"])
    reason = "crowded_longs" if direction == SHORT else "crowded_shorts"
    return directed(direction, confidence, reason, **seen)
