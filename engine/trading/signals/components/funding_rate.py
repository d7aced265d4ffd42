"""Funding-rate extremes (seed #3, 16 %): crowded trades unwind, so fade them.

Deviation = latest funding rate − its rolling mean over ``window`` readings. At or above
``min_deviation`` longs are crowded: SHORT; at or below −``min_deviation``: LONG.
Confidence: |deviation| ÷ (threshold × multiple).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.language.schemagen.dsl import learnable, num
from engine.trading.features import FundingDeviation
from engine.trading.signals.answer import LONG, SHORT, Answer, directed, fmt, neutral, scaled, side
from engine.trading.signals.components import base
from engine.trading.signals.components.base import component_schema, confidence_multiple, count_window

if TYPE_CHECKING:
    from engine.language.kinds.signals import Component
    from engine.market.snapshot import Snapshot, SymbolSnapshot

KIND = "funding_rate"
SUMMARY = "Funding-rate extremes, faded: crowded longs give SHORT."
REASONS = ("warming_up", "below_threshold", "crowded_longs", "crowded_shorts")
INPUTS = ("funding_rate",)
EXPORTS = ("funding_rate", "funding_deviation", "funding_z")  # vocabulary names exports() may give
SIGNALS_CASCADE = False
NEEDS_LEADER = False
STATE_READS = ("params",)  # new_state() reads these of the component (a reload keeps the state while they hold)


Params = base.CountWindowedParams  # window (readings), full_confidence_multiple


@dataclass(frozen=True, slots=True, kw_only=True)
class Thresholds:
    min_deviation: float


def schema() -> dict[str, Any]:
    return component_schema(
        KIND,
        SUMMARY,
        params={"window": count_window("funding readings"), "full_confidence_multiple": confidence_multiple()},
        thresholds={
            "min_deviation": learnable(
                num(
                    "Minimum deviation of the funding rate from its rolling mean.",
                    "rate per interval",
                    minimum=0,
                    maximum=0.1,
                )
            )
        },
        inputs=INPUTS,
    )


compile_params = base.compile_count_windowed_params


def compile_thresholds(raw: Mapping[str, Any]) -> Thresholds:
    return Thresholds(min_deviation=raw["min_deviation"])


check = base.no_checks  # nothing beyond the schema's ranges


def new_state(component: Component) -> FundingDeviation:
    params: Params = component.params
    return FundingDeviation(window=params.window)


def update(state: FundingDeviation, snapshot: Snapshot, symbol: SymbolSnapshot, leader: SymbolSnapshot | None) -> None:
    rate = symbol.get("funding_rate")
    if rate is not None:
        state.update(symbol.times["funding_rate"], rate)


def exports(state: FundingDeviation) -> dict[str, float]:
    v = state.value
    if v is None:
        return {}
    out = {"funding_rate": v.rate, "funding_deviation": v.deviation}
    if v.zscore is not None:
        out["funding_z"] = v.zscore
    return out


def evaluate(component: Component, state: FundingDeviation) -> Answer:
    params: Params = component.params
    v = state.value
    if v is None:
        return neutral("warming_up")
    threshold = component.thresholds.min_deviation
    seen = {"rate": v.rate, "mean": v.mean, "deviation": v.deviation, "threshold": threshold}
    if abs(v.deviation) < threshold or v.deviation == 0:
        return neutral("below_threshold", **seen)
    direction = side(v.deviation, SHORT, LONG)
    confidence = scaled(abs(v.deviation), threshold, params.full_confidence_multiple)
    reason = "crowded_longs" if direction == SHORT else "crowded_shorts"
    return directed(direction, confidence, reason, **seen)


def explain(answer: Answer) -> str:
    i = answer.inputs
    rate = f"funding {fmt(i.get('rate'))} is {fmt(i.get('deviation'))} from its mean {fmt(i.get('mean'))}"
    reason = answer.reasons[0]
    if reason == "below_threshold":
        return f"{rate}, inside ±{fmt(i.get('threshold'))}: no crowd to fade"
    crowd = "longs" if reason == "crowded_longs" else "shorts"
    return f"{rate}: {crowd} are crowded, fade them, {answer.direction}"
