"""OI divergence (seed #10, 4 %): price and open interest moving apart is a trap.

Over ``window``, both must move by more than ``min_move_pct`` in opposite directions.
Price up while OI falls is a rally on closing shorts, not new buyers: SHORT. Price down
while OI rises means new shorts pile in and can be squeezed: LONG. Confidence: the
smaller of the two moves ÷ (threshold × multiple).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.trading.features import OiPriceDivergence
from engine.trading.signals.answer import LONG, SHORT, Answer, directed, fmt, neutral, scaled
from engine.trading.signals.components import base
from engine.trading.signals.components.base import component_schema, confidence_multiple, pct, window

if TYPE_CHECKING:
    from engine.language.kinds.signals import Component

KIND = "oi_divergence"
SUMMARY = "Price and open interest moving in opposite directions (a trap)."
REASONS = ("warming_up", "no_divergence", "price_up_oi_down", "price_down_oi_up")
INPUTS = ("open_interest", "price")
EXPORTS = ()  # vocabulary names exports() may give
SIGNALS_CASCADE = False
NEEDS_LEADER = False
STATE_READS = (
    "params",
    "thresholds",
)  # new_state() reads these of the component (a reload keeps the state while they hold)


Params = base.WindowedParams  # window (seconds), full_confidence_multiple


@dataclass(frozen=True, slots=True, kw_only=True)
class Thresholds:
    min_move_pct: float


def schema() -> dict[str, Any]:
    return component_schema(
        KIND,
        SUMMARY,
        params={"window": window("price and OI change"), "full_confidence_multiple": confidence_multiple()},
        thresholds={"min_move_pct": pct("Minimum move of both price and OI.")},
        inputs=INPUTS,
    )


compile_params = base.compile_windowed_params


def compile_thresholds(raw: Mapping[str, Any]) -> Thresholds:
    return Thresholds(min_move_pct=raw["min_move_pct"])


check = base.no_checks  # nothing beyond the schema's ranges


def new_state(component: Component) -> OiPriceDivergence:
    params: Params = component.params
    return OiPriceDivergence(window_seconds=params.window, min_move_pct=component.thresholds.min_move_pct)


update = base.update_open_interest_and_price  # open interest and price, at OI's publication time


def exports(state: OiPriceDivergence) -> dict[str, float]:
    return {}


def evaluate(component: Component, state: OiPriceDivergence) -> Answer:
    params: Params = component.params
    v = state.value
    if v is None:
        return neutral("warming_up")
    threshold = component.thresholds.min_move_pct
    seen = {"price_change_pct": v.price_change_pct, "oi_change_pct": v.oi_change_pct, "threshold_pct": threshold}
    if v.divergence == "none":
        return neutral("no_divergence", **seen)
    direction = SHORT if v.divergence == "price_up_oi_down" else LONG
    confidence = scaled(v.strength, threshold, params.full_confidence_multiple)
    return directed(direction, confidence, v.divergence, **seen)


def explain(answer: Answer) -> str:
    i = answer.inputs
    moves = f"price {fmt(i.get('price_change_pct'))} %, open interest {fmt(i.get('oi_change_pct'))} % over the window"
    reason = answer.reasons[0]
    if reason == "no_divergence":
        return f"{moves}: no divergence beyond {fmt(i.get('threshold_pct'))} %"
    if reason == "price_up_oi_down":
        return f"{moves}: a rally on closing shorts, {answer.direction}"
    return f"{moves}: new shorts piling in, squeeze risk, {answer.direction}"
