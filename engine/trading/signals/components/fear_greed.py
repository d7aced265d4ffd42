"""Fear & Greed contrarian (seed #7, 6 %): buy extreme fear, sell extreme greed.

Strictly below ``fear_below``: LONG; strictly above ``greed_above``: SHORT (the seed's
"<15" and ">85"). Confidence: how far past the threshold, as a share of the room left
(fear: (fear_below − v) ÷ fear_below; greed: (v − greed_above) ÷ (100 − greed_above)).
"""

from __future__ import annotations

from engine.trading.features import FearGreed
from engine.trading.signals.answer import LONG, SHORT, Answer, directed, neutral

KIND = "fear_greed"
INPUTS = ("fear_greed",)
EXPORTS = ("fear_greed",)  # vocabulary names exports() may give


def new_state(component):
    return FearGreed()


def update(state, snapshot, symbol, leader) -> None:
    if snapshot.fear_greed is not None:
        state.update(snapshot.fear_greed_ts, snapshot.fear_greed)


def exports(state) -> dict:
    return {} if state.value is None else {"fear_greed": state.value.value}


def evaluate(component, state) -> Answer:
    if state.value is None:
        return neutral("warming_up")
    value = state.value.value
    fear, greed = component.thresholds["fear_below"], component.thresholds["greed_above"]
    seen = {"index": value, "fear_below": fear, "greed_above": greed}
    if value < fear:
        return directed(LONG, (fear - value) / fear if fear else 1.0, "extreme_fear", **seen)
    if value > greed:
        return directed(SHORT, (value - greed) / (100 - greed) if greed < 100 else 1.0, "extreme_greed", **seen)
    return neutral("no_extreme", **seen)
