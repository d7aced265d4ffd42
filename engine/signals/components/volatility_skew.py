"""Volatility skew (seed #8, 5 %): fade loss aversion and complacency.

Skew is the implied put-minus-call skew when the snapshot carries one, else the declared
proxy from one-minute returns: downside ÷ upside semi-deviation − 1 over ``window``
(docs/features.md). Skew at or above ``min_skew`` (fear) is faded: LONG; at or below
−``min_skew`` (complacency): SHORT. Confidence: |skew| ÷ (threshold × multiple).
"""

from __future__ import annotations

import math

from engine.features import VolatilitySkewProxy
from engine.signals.answer import LONG, SHORT, Answer, directed, neutral, scaled, side

KIND = "volatility_skew"
INPUTS = ("candles_1m",)
EXPORTS = ("vol_skew",)   # vocabulary names exports() may give


class State:
    __slots__ = ("skew", "last_close")

    def __init__(self, component):
        # an implied reading stands in for the proxy while it is younger than the rule's
        # max_input_age for volatility_skew (1 h when the rule sets none)
        max_age = component.max_input_age.get("volatility_skew", 3600.0)
        self.skew = VolatilitySkewProxy(window=component.params["window"], implied_max_age_seconds=max_age)
        self.last_close: float | None = None


def new_state(component):
    return State(component)


def update(state, snapshot, symbol, leader) -> None:
    for candle in symbol.candles:      # returns first: they are stamped before the snapshot
        if state.last_close is not None:
            state.skew.update(candle.ts + 60.0, ret=math.log(candle.close / state.last_close))
        state.last_close = candle.close
    implied = symbol.get("implied_skew")
    if implied is not None:
        state.skew.update(symbol.times["volatility_skew"], implied_skew=implied)


def exports(state) -> dict:
    return {} if state.skew.value is None else {"vol_skew": state.skew.value.skew}


def evaluate(component, state) -> Answer:
    v = state.skew.value
    if v is None:
        return neutral("warming_up")
    threshold = component.thresholds["min_skew"]
    seen = {"skew": v.skew, "source": v.source, "threshold": threshold}
    if abs(v.skew) < threshold or v.skew == 0:
        return neutral("below_threshold", **seen)
    direction = side(v.skew, LONG, SHORT)
    confidence = scaled(abs(v.skew), threshold, component.params["full_confidence_multiple"])
    return directed(direction, confidence, "fear_faded" if direction == LONG else "complacency_faded", **seen)
