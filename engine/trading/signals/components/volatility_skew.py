"""Volatility skew (seed #8, 5 %): fade loss aversion and complacency.

Skew is the implied put-minus-call skew when the snapshot carries one, else the declared
proxy from one-minute returns: downside ÷ upside semi-deviation − 1 over ``window``
(docs/features.md). Skew at or above ``min_skew`` (fear) is faded: LONG; at or below
−``min_skew`` (complacency): SHORT. Confidence: |skew| ÷ (threshold × multiple).
Column form: engine/replay/columns/components/volatility_skew.py.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.language.schemagen.dsl import learnable, num
from engine.trading.features import SkewValue, VolatilitySkewProxy
from engine.trading.signals.answer import LONG, SHORT, Answer, directed, fmt, neutral, scaled, side
from engine.trading.signals.components import base
from engine.trading.signals.components.base import component_schema, confidence_multiple, count_window

if TYPE_CHECKING:
    from engine.language.kinds.signals import Component
    from engine.market.snapshot import Snapshot, SymbolSnapshot

KIND = "volatility_skew"
SUMMARY = "Loss aversion versus complacency from volatility skew (or its declared proxy)."
REASONS = ("warming_up", "below_threshold", "fear_faded", "complacency_faded")
INPUTS = ("candles_1m",)
EXPORTS = ("vol_skew",)  # vocabulary names exports() may give
SIGNALS_CASCADE = False
NEEDS_LEADER = False
STATE_READS = (
    "params",
    "max_input_age",
)  # new_state() reads these of the component (a reload keeps the state while they hold)
IMPLIED_MAX_AGE_S = 3600.0  # how long an implied reading stands in for the proxy when the rule sets no limit


Params = base.CountWindowedParams  # window (one-minute returns), full_confidence_multiple


@dataclass(frozen=True, slots=True, kw_only=True)
class Thresholds:
    min_skew: float


def schema() -> dict[str, Any]:
    return component_schema(
        KIND,
        SUMMARY,
        params={"window": count_window("one-minute returns", 10), "full_confidence_multiple": confidence_multiple()},
        thresholds={"min_skew": learnable(num("Minimum absolute skew.", "ratio", minimum=0, maximum=10))},
        inputs=(*INPUTS, "volatility_skew"),  # the implied reading's age may be limited too
    )


compile_params = base.compile_count_windowed_params


def compile_thresholds(raw: Mapping[str, Any]) -> Thresholds:
    return Thresholds(min_skew=raw["min_skew"])


check = base.no_checks  # nothing beyond the schema's ranges


class State:
    __slots__ = ("last_close", "skew")

    def __init__(self, component: Component) -> None:
        # an implied reading stands in for the proxy while it is younger than the rule's
        # max_input_age for volatility_skew (1 h when the rule sets none)
        params: Params = component.params
        max_age = component.max_input_age.get("volatility_skew", IMPLIED_MAX_AGE_S)
        self.skew = VolatilitySkewProxy(window=params.window, implied_max_age_seconds=max_age)
        self.last_close: float | None = None


def new_state(component: Component) -> State:
    return State(component)


def update(state: State, snapshot: Snapshot, symbol: SymbolSnapshot, leader: SymbolSnapshot | None) -> None:
    for candle in symbol.candles:  # returns first: they are stamped before the snapshot
        if state.last_close is not None:
            state.skew.update(candle.ts + 60.0, ret=math.log(candle.close / state.last_close))
        state.last_close = candle.close
    implied = symbol.get("implied_skew")
    if implied is not None:
        state.skew.update(symbol.times["volatility_skew"], implied_skew=implied)


def exports(state: State) -> dict[str, float]:
    return exports_of(state.skew.value)


def exports_of(v: SkewValue | None) -> dict[str, float]:
    return {} if v is None else {"vol_skew": v.skew}


def evaluate(component: Component, state: State) -> Answer:
    return answer(component, state.skew.value)


def answer(component: Component, v: SkewValue | None) -> Answer:
    """The Answer for a skew reading (shared by :func:`evaluate` and the column form)."""
    if v is None:
        return neutral("warming_up")
    params: Params = component.params
    threshold = component.thresholds.min_skew
    seen = {"skew": v.skew, "source": v.source, "threshold": threshold}
    if abs(v.skew) < threshold or v.skew == 0:
        return neutral("below_threshold", **seen)
    direction = side(v.skew, LONG, SHORT)
    confidence = scaled(abs(v.skew), threshold, params.full_confidence_multiple)
    return directed(direction, confidence, "fear_faded" if direction == LONG else "complacency_faded", **seen)


def explain(answer: Answer) -> str:
    i = answer.inputs
    skew = f"{i.get('source')} skew {fmt(i.get('skew'))}"
    reason = answer.reasons[0]
    if reason == "below_threshold":
        return f"{skew}, inside ±{fmt(i.get('threshold'))}"
    mood = "downside fear" if reason == "fear_faded" else "complacency"
    return f"{skew}: {mood}, fade it, {answer.direction}"
