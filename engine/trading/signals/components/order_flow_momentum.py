"""Order-flow momentum (seed #6, 6 %): the rate of change of book imbalance, not its level.

Each snapshot's book gives OFI = (Σ bid size − Σ ask size) ÷ (Σ both) over the top
``book_levels``; the slope of OFI per minute over ``window`` (at least ``min_readings``
readings) is the momentum. At or above ``min_momentum_per_min`` in size: LONG when buyers
gain, SHORT when sellers gain. Confidence: |slope| ÷ (threshold × multiple).
"""

from __future__ import annotations

from engine.trading.features import OfiMomentum, book_imbalance
from engine.trading.signals.answer import LONG, SHORT, Answer, directed, neutral, scaled, side

KIND = "order_flow_momentum"
INPUTS = ("order_book",)
EXPORTS = ("ofi", "ofi_momentum")  # vocabulary names exports() may give


class State:
    __slots__ = ("levels", "momentum")

    def __init__(self, params):
        self.levels = params["book_levels"]
        self.momentum = OfiMomentum(window_seconds=params["window"], min_readings=params["min_readings"])


def new_state(component):
    params = component.params
    return State(params)


def update(state, snapshot, symbol, leader) -> None:
    if symbol.book is not None:
        ofi = book_imbalance(symbol.book.bids, symbol.book.asks, state.levels)
        if ofi is not None:
            state.momentum.update(symbol.times["order_book"], ofi)


def exports(state) -> dict:
    v = state.momentum.value
    return {} if v is None else {"ofi": v.ofi, "ofi_momentum": v.momentum_per_min}


def evaluate(component, state) -> Answer:
    v = state.momentum.value
    if v is None:
        return neutral("warming_up")
    threshold = component.thresholds["min_momentum_per_min"]
    seen = {"ofi": v.ofi, "momentum_per_min": v.momentum_per_min, "readings": v.readings, "threshold": threshold}
    if abs(v.momentum_per_min) < threshold or v.momentum_per_min == 0:
        return neutral("below_threshold", **seen)
    direction = side(v.momentum_per_min, LONG, SHORT)
    confidence = scaled(abs(v.momentum_per_min), threshold, component.params["full_confidence_multiple"])
    return directed(direction, confidence, "buyers_gaining" if direction == LONG else "sellers_gaining", **seen)
