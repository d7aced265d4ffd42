"""Open-interest velocity (seed #9, 5 %): new money flows the way price moves.

OI change over ``window``: when OI rose by at least ``min_change_pct``, new positions
are opening, and the price change over the same window says which side they took:
price up → LONG, price down → SHORT. Falling OI (positions closing) is NEUTRAL.
Confidence: OI change ÷ (threshold × multiple).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.trading.features import OiPriceDivergence
from engine.trading.signals.answer import LONG, SHORT, Answer, directed, fmt, neutral, scaled, side
from engine.trading.signals.components import base
from engine.trading.signals.components.base import component_schema, confidence_multiple, pct, window

if TYPE_CHECKING:
    from engine.language.kinds.signals import Component

KIND = "oi_velocity"
SUMMARY = "Open-interest change over time: new money in the direction of price."
REASONS = ("warming_up", "oi_falling", "below_threshold", "price_flat", "new_longs", "new_shorts")
INPUTS = ("open_interest", "price")
EXPORTS = ("oi_change_pct",)  # vocabulary names exports() may give
SIGNALS_CASCADE = False
NEEDS_LEADER = False
STATE_READS = ("params",)  # new_state() reads these of the component (a reload keeps the state while they hold)


Params = base.WindowedParams  # window (seconds), full_confidence_multiple


@dataclass(frozen=True, slots=True, kw_only=True)
class Thresholds:
    min_change_pct: float


def schema() -> dict[str, Any]:
    return component_schema(
        KIND,
        SUMMARY,
        params={"window": window("open interest change"), "full_confidence_multiple": confidence_multiple()},
        thresholds={"min_change_pct": pct("Minimum OI change over the window.")},
        inputs=INPUTS,
    )


compile_params = base.compile_windowed_params


def compile_thresholds(raw: Mapping[str, Any]) -> Thresholds:
    return Thresholds(min_change_pct=raw["min_change_pct"])


check = base.no_checks  # nothing beyond the schema's ranges


def new_state(component: Component) -> OiPriceDivergence:
    params: Params = component.params
    return OiPriceDivergence(window_seconds=params.window, min_move_pct=0.0)


update = base.update_open_interest_and_price  # open interest and price, at OI's publication time


def exports(state: OiPriceDivergence) -> dict[str, float]:
    v = state.value
    return {} if v is None else {"oi_change_pct": v.oi_change_pct}


def evaluate(component: Component, state: OiPriceDivergence) -> Answer:
    params: Params = component.params
    v = state.value
    if v is None:
        return neutral("warming_up")
    threshold = component.thresholds.min_change_pct
    seen = {"oi_change_pct": v.oi_change_pct, "price_change_pct": v.price_change_pct, "threshold_pct": threshold}
    if v.oi_change_pct <= -threshold:
        return neutral("oi_falling", **seen)
    if v.oi_change_pct < threshold:
        return neutral("below_threshold", **seen)
    direction = side(v.price_change_pct, LONG, SHORT)
    if direction == "NEUTRAL":
        return neutral("price_flat", **seen)
    confidence = scaled(v.oi_change_pct, threshold, params.full_confidence_multiple)
    return directed(direction, confidence, "new_longs" if direction == LONG else "new_shorts", **seen)


def explain(answer: Answer) -> str:
    i = answer.inputs
    moves = f"open interest {fmt(i.get('oi_change_pct'))} %, price {fmt(i.get('price_change_pct'))} % over the window"
    reason = answer.reasons[0]
    if reason == "oi_falling":
        return f"{moves}: positions are closing"
    if reason == "below_threshold":
        return f"{moves}: OI grew less than {fmt(i.get('threshold_pct'))} %"
    if reason == "price_flat":
        return f"{moves}: new positions, but price has not picked a side"
    return f"{moves}: new money follows price, {answer.direction}"
