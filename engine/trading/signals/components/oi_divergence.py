"""OI divergence (seed #10, 4 %): price and open interest moving apart is a trap.

Over ``window``, both must move by more than ``min_move_pct`` in opposite directions.
Price up while OI falls is a rally on closing shorts, not new buyers: SHORT. Price down
while OI rises means new shorts pile in and can be squeezed: LONG. Confidence: the
smaller of the two moves ÷ (threshold × multiple).
"""

from __future__ import annotations

from engine.trading.features import OiPriceDivergence
from engine.trading.signals.answer import LONG, SHORT, Answer, directed, neutral, scaled

KIND = "oi_divergence"
INPUTS = ("open_interest", "price")
EXPORTS = ()  # vocabulary names exports() may give


def new_state(component):
    return OiPriceDivergence(
        window_seconds=component.params["window"], min_move_pct=component.thresholds["min_move_pct"]
    )


def update(state, snapshot, symbol, leader) -> None:
    oi, price = symbol.get("open_interest_usd"), symbol.get("price")
    if oi is not None and price is not None:
        state.update(symbol.times["open_interest"], price, oi)


def exports(state) -> dict:
    return {}


def evaluate(component, state) -> Answer:
    v = state.value
    if v is None:
        return neutral("warming_up")
    threshold = component.thresholds["min_move_pct"]
    seen = {"price_change_pct": v.price_change_pct, "oi_change_pct": v.oi_change_pct, "threshold_pct": threshold}
    if v.divergence == "none":
        return neutral("no_divergence", **seen)
    direction = SHORT if v.divergence == "price_up_oi_down" else LONG
    confidence = scaled(v.strength, threshold, component.params["full_confidence_multiple"])
    return directed(direction, confidence, v.divergence, **seen)
