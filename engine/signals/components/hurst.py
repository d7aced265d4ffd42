"""Hurst exponent (seed #4, 8 %): follow persistent trends, fade mean-reverting moves.

H comes from one-minute log prices over ``window`` (estimator: docs/features.md). The
recent trend is the sign of the close now minus the close ``trend_lookback`` minutes ago.
H above ``trending_above``: answer the trend; below ``mean_reverting_below``: answer
against it; between: NEUTRAL. Confidence: |H − 0.5| ÷ 0.5, the distance from a random walk.
"""

from __future__ import annotations

from collections import deque

from engine.features import HurstExponent
from engine.signals.answer import LONG, SHORT, Answer, directed, neutral, side

KIND = "hurst"
INPUTS = ("candles_1m",)
EXPORTS = ("hurst",)   # vocabulary names exports() may give


class State:
    __slots__ = ("hurst", "closes")

    def __init__(self, params):
        self.hurst = HurstExponent(window=params["window"], recompute_every=params["recompute_every"])
        self.closes: deque[float] = deque(maxlen=params["trend_lookback"] + 1)


def new_state(component):
    params = component.params
    return State(params)


def update(state, snapshot, symbol, leader) -> None:
    for candle in symbol.candles:
        state.hurst.update(candle.ts + 60.0, candle.close)
        state.closes.append(candle.close)


def exports(state) -> dict:
    return {} if state.hurst.value is None else {"hurst": state.hurst.value}


def evaluate(component, state) -> Answer:
    h = state.hurst.value
    if h is None or len(state.closes) < state.closes.maxlen:
        return neutral("warming_up")
    t = component.thresholds
    trend = side(state.closes[-1] - state.closes[0], LONG, SHORT)
    seen = {"hurst": h, "trend_change": state.closes[-1] - state.closes[0],
            "trending_above": t["trending_above"], "mean_reverting_below": t["mean_reverting_below"]}
    if trend == "NEUTRAL":
        return neutral("no_trend", **seen)
    confidence = abs(h - 0.5) / 0.5
    if h > t["trending_above"]:
        return directed(trend, confidence, "trending_follow", **seen)
    if h < t["mean_reverting_below"]:
        return directed(LONG if trend == SHORT else SHORT, confidence, "mean_reverting_fade", **seen)
    return neutral("random_walk", **seen)
