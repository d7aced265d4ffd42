"""Open-interest velocity (seed #9, 5 %): new money flows the way price moves.

OI change over ``window``: when OI rose by at least ``min_change_pct``, new positions
are opening, and the price change over the same window says which side they took:
price up → LONG, price down → SHORT. Falling OI (positions closing) is NEUTRAL.
Confidence: OI change ÷ (threshold × multiple).
"""

from __future__ import annotations

from engine.trading.features import OiPriceDivergence
from engine.trading.signals.answer import LONG, SHORT, Answer, directed, neutral, scaled, side

KIND = "oi_velocity"
INPUTS = ("open_interest", "price")
EXPORTS = ("oi_change_pct",)  # vocabulary names exports() may give


def new_state(component):
    params = component.params
    return OiPriceDivergence(window_seconds=params["window"], min_move_pct=0.0)


def update(state, snapshot, symbol, leader) -> None:
    oi, price = symbol.get("open_interest_usd"), symbol.get("price")
    if oi is not None and price is not None:
        state.update(symbol.times["open_interest"], price, oi)


def exports(state) -> dict:
    v = state.value
    return {} if v is None else {"oi_change_pct": v.oi_change_pct}


def evaluate(component, state) -> Answer:
    v = state.value
    if v is None:
        return neutral("warming_up")
    threshold = component.thresholds["min_change_pct"]
    seen = {"oi_change_pct": v.oi_change_pct, "price_change_pct": v.price_change_pct, "threshold_pct": threshold}
    if v.oi_change_pct <= -threshold:
        return neutral("oi_falling", **seen)
    if v.oi_change_pct < threshold:
        return neutral("below_threshold", **seen)
    direction = side(v.price_change_pct, LONG, SHORT)
    if direction == "NEUTRAL":
        return neutral("price_flat", **seen)
    confidence = scaled(v.oi_change_pct, threshold, component.params["full_confidence_multiple"])
    return directed(direction, confidence, "new_longs" if direction == LONG else "new_shorts", **seen)
