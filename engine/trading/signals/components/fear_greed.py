"""Fear & Greed contrarian (seed #7, 6 %): buy extreme fear, sell extreme greed.

Strictly below ``fear_below``: LONG; strictly above ``greed_above``: SHORT (the seed's
"<15" and ">85"). Confidence: how far past the threshold, as a share of the room left
(fear: (fear_below − v) ÷ fear_below; greed: (v − greed_above) ÷ (100 − greed_above)).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.language.schemagen.dsl import learnable, num
from engine.trading.features import FearGreed
from engine.trading.signals.answer import LONG, SHORT, Answer, directed, fmt, neutral
from engine.trading.signals.components.base import check_ordered, component_schema

if TYPE_CHECKING:
    from engine.language.kinds.base import BuildContext, Doc
    from engine.language.kinds.signals import Component
    from engine.market.snapshot import Snapshot, SymbolSnapshot

KIND = "fear_greed"
SUMMARY = "Fear & Greed contrarian: extreme fear gives LONG, extreme greed SHORT."
REASONS = ("warming_up", "extreme_fear", "extreme_greed", "no_extreme")
INPUTS = ("fear_greed",)
EXPORTS = ("fear_greed",)  # vocabulary names exports() may give
SIGNALS_CASCADE = False
NEEDS_LEADER = False
STATE_READS = ("params",)  # new_state() reads these of the component (a reload keeps the state while they hold)


@dataclass(frozen=True, slots=True, kw_only=True)
class Params:
    """No parameters: the index is read as published."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Thresholds:
    fear_below: float
    greed_above: float


def schema() -> dict[str, Any]:
    return component_schema(
        KIND,
        SUMMARY,
        params={},
        thresholds={
            "fear_below": learnable(num("Index below this is extreme fear.", "0-100", minimum=0, maximum=100)),
            "greed_above": learnable(num("Index above this is extreme greed.", "0-100", minimum=0, maximum=100)),
        },
        inputs=INPUTS,
    )


def compile_params(raw: Mapping[str, Any]) -> Params:
    return Params()


def compile_thresholds(raw: Mapping[str, Any]) -> Thresholds:
    return Thresholds(fear_below=raw["fear_below"], greed_above=raw["greed_above"])


def check(params: Params, doc: Doc, path: tuple[Any, ...], ctx: BuildContext) -> None:
    """Extreme fear must start below extreme greed in every profile."""
    check_ordered(doc, path, ctx, "fear_below", "greed_above")


def new_state(component: Component) -> FearGreed:
    return FearGreed()


def update(state: FearGreed, snapshot: Snapshot, symbol: SymbolSnapshot, leader: SymbolSnapshot | None) -> None:
    if snapshot.fear_greed is not None:
        state.update(snapshot.fear_greed_ts, snapshot.fear_greed)


def exports(state: FearGreed) -> dict[str, float]:
    return {} if state.value is None else {"fear_greed": state.value.value}


def evaluate(component: Component, state: FearGreed) -> Answer:
    if state.value is None:
        return neutral("warming_up")
    value = state.value.value
    t: Thresholds = component.thresholds
    fear, greed = t.fear_below, t.greed_above
    seen = {"index": value, "fear_below": fear, "greed_above": greed}
    if value < fear:
        return directed(LONG, (fear - value) / fear if fear else 1.0, "extreme_fear", **seen)
    if value > greed:
        return directed(SHORT, (value - greed) / (100 - greed) if greed < 100 else 1.0, "extreme_greed", **seen)
    return neutral("no_extreme", **seen)


def explain(answer: Answer) -> str:
    i = answer.inputs
    index = f"Fear & Greed at {fmt(i.get('index'))}"
    reason = answer.reasons[0]
    if reason == "extreme_fear":
        return f"{index}, below {fmt(i.get('fear_below'))}: extreme fear, buy it, {answer.direction}"
    if reason == "extreme_greed":
        return f"{index}, above {fmt(i.get('greed_above'))}: extreme greed, sell it, {answer.direction}"
    return f"{index}, between {fmt(i.get('fear_below'))} and {fmt(i.get('greed_above'))}: no extreme"
