"""Order-flow momentum (seed #6, 6 %): the rate of change of book imbalance, not its level.

Each snapshot's book gives OFI = (Σ bid size − Σ ask size) ÷ (Σ both) over the top
``book_levels``; the slope of OFI per minute over ``window`` (at least ``min_readings``
readings) is the momentum. At or above ``min_momentum_per_min`` in size: LONG when buyers
gain, SHORT when sellers gain. Confidence: |slope| ÷ (threshold × multiple).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.language.schemagen.dsl import learnable, num
from engine.trading.features import OfiMomentum, book_imbalance
from engine.trading.signals.answer import LONG, SHORT, Answer, directed, fmt, neutral, scaled, side
from engine.trading.signals.components import base
from engine.trading.signals.components.base import component_schema, confidence_multiple, window

if TYPE_CHECKING:
    from engine.language.kinds.signals import Component
    from engine.market.snapshot import Snapshot, SymbolSnapshot

KIND = "order_flow_momentum"
SUMMARY = "Rate of change of order-book imbalance (OFI) over time."
REASONS = ("warming_up", "below_threshold", "buyers_gaining", "sellers_gaining")
INPUTS = ("order_book",)
EXPORTS = ("ofi", "ofi_momentum")  # vocabulary names exports() may give
SIGNALS_CASCADE = False
NEEDS_LEADER = False
STATE_READS = ("params",)  # new_state() reads these of the component (a reload keeps the state while they hold)


@dataclass(frozen=True, slots=True, kw_only=True)
class Params:
    window: float  # seconds
    book_levels: int
    min_readings: int
    full_confidence_multiple: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Thresholds:
    min_momentum_per_min: float


def schema() -> dict[str, Any]:
    return component_schema(
        KIND,
        SUMMARY,
        params={
            "window": window("OFI readings"),
            "book_levels": num("Order-book levels per side.", "count", minimum=1, maximum=100, integer=True),
            "min_readings": num("Readings needed in the window.", "count", minimum=2, maximum=1000, integer=True),
            "full_confidence_multiple": confidence_multiple(),
        },
        thresholds={
            "min_momentum_per_min": learnable(num("Minimum OFI slope.", "OFI per minute", minimum=0, maximum=2))
        },
        inputs=INPUTS,
    )


def compile_params(raw: Mapping[str, Any]) -> Params:
    return Params(
        window=raw["window"],
        book_levels=raw["book_levels"],
        min_readings=raw["min_readings"],
        full_confidence_multiple=raw["full_confidence_multiple"],
    )


def compile_thresholds(raw: Mapping[str, Any]) -> Thresholds:
    return Thresholds(min_momentum_per_min=raw["min_momentum_per_min"])


check = base.no_checks  # nothing beyond the schema's ranges


class State:
    __slots__ = ("levels", "momentum")

    def __init__(self, params: Params) -> None:
        self.levels = params.book_levels
        self.momentum = OfiMomentum(window_seconds=params.window, min_readings=params.min_readings)


def new_state(component: Component) -> State:
    return State(component.params)


def update(state: State, snapshot: Snapshot, symbol: SymbolSnapshot, leader: SymbolSnapshot | None) -> None:
    if symbol.book is not None:
        ofi = book_imbalance(symbol.book.bids, symbol.book.asks, state.levels)
        if ofi is not None:
            state.momentum.update(symbol.times["order_book"], ofi)


def exports(state: State) -> dict[str, float]:
    v = state.momentum.value
    return {} if v is None else {"ofi": v.ofi, "ofi_momentum": v.momentum_per_min}


def evaluate(component: Component, state: State) -> Answer:
    params: Params = component.params
    v = state.momentum.value
    if v is None:
        return neutral("warming_up")
    threshold = component.thresholds.min_momentum_per_min
    seen = {"ofi": v.ofi, "momentum_per_min": v.momentum_per_min, "readings": v.readings, "threshold": threshold}
    if abs(v.momentum_per_min) < threshold or v.momentum_per_min == 0:
        return neutral("below_threshold", **seen)
    direction = side(v.momentum_per_min, LONG, SHORT)
    confidence = scaled(abs(v.momentum_per_min), threshold, params.full_confidence_multiple)
    return directed(direction, confidence, "buyers_gaining" if direction == LONG else "sellers_gaining", **seen)


def explain(answer: Answer) -> str:
    i = answer.inputs
    slope = f"book imbalance {fmt(i.get('ofi'))} moving {fmt(i.get('momentum_per_min'))} per minute"
    reason = answer.reasons[0]
    if reason == "below_threshold":
        return f"{slope}, slower than {fmt(i.get('threshold'))}"
    who = "buyers" if reason == "buyers_gaining" else "sellers"
    return f"{slope}: {who} gaining, {answer.direction}"
