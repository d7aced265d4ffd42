"""Lead-lag (seed #5, 8 %): BTC's recent move predicts the altcoin's.

Lagged correlation of one-minute log returns between the leader (the rule set's symbol
with ``role: leader``) and this symbol over ``window``, for lags 1..``max_lag``. When the
best correlation reaches ``min_correlation`` and the leader moved at least
``min_leader_move_pct`` over that lag, answer the direction the leader moved (against it
for a negative correlation). Confidence: |correlation|. The leader itself is NEUTRAL.
Column form: engine/replay/columns/components/lead_lag.py.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.language.schemagen.dsl import num
from engine.trading.features import LeadLag, LeadLagValue
from engine.trading.signals.answer import LONG, SHORT, Answer, directed, fmt, neutral, side
from engine.trading.signals.components import base
from engine.trading.signals.components.base import component_schema, count_window, fraction, pct

if TYPE_CHECKING:
    from engine.language.kinds.signals import Component
    from engine.market.snapshot import Snapshot, SymbolSnapshot

KIND = "lead_lag"
SUMMARY = "BTC leads altcoins: the leader's recent move predicts the follower's."
REASONS = ("warming_up", "weak_correlation", "leader_quiet", "leader_moved")
INPUTS = ("candles_1m", "leader_candles_1m")
EXPORTS = ("lead_lag_corr", "leader_move_pct")  # vocabulary names exports() may give
SIGNALS_CASCADE = False
NEEDS_LEADER = True  # without a symbol with role: leader it is always NEUTRAL (crosscheck RB388)
STATE_READS = ("params",)  # new_state() reads these of the component (a reload keeps the state while they hold)


@dataclass(frozen=True, slots=True, kw_only=True)
class Params:
    window: int  # one-minute returns
    max_lag: int  # minutes


@dataclass(frozen=True, slots=True, kw_only=True)
class Thresholds:
    min_correlation: float
    min_leader_move_pct: float


def schema() -> dict[str, Any]:
    return component_schema(
        KIND,
        SUMMARY,
        params={
            "window": count_window("one-minute returns", 10),
            "max_lag": num("Largest lead tried, in minutes.", "count", minimum=1, maximum=60, integer=True),
        },
        thresholds={
            "min_correlation": fraction("Minimum lagged correlation."),
            "min_leader_move_pct": pct("Minimum move of the leader over the lag."),
        },
        inputs=INPUTS,
    )


def compile_params(raw: Mapping[str, Any]) -> Params:
    return Params(window=raw["window"], max_lag=raw["max_lag"])


def compile_thresholds(raw: Mapping[str, Any]) -> Thresholds:
    return Thresholds(min_correlation=raw["min_correlation"], min_leader_move_pct=raw["min_leader_move_pct"])


check = base.no_checks  # nothing beyond the schema's ranges; the leader is checked across files: NEEDS_LEADER


def new_state(component: Component) -> LeadLag:
    params: Params = component.params
    return LeadLag(window=params.window, max_lag=params.max_lag)


def update(state: LeadLag, snapshot: Snapshot, symbol: SymbolSnapshot, leader: SymbolSnapshot | None) -> None:
    if leader is None or leader.symbol == symbol.symbol:
        return
    for candle in symbol.candles:
        for lead in leader.candles:
            if lead.ts == candle.ts:
                state.update(candle.ts + 60.0, lead.close, candle.close)
                break


def exports(state: LeadLag) -> dict[str, float]:
    return exports_of(state.value)


def exports_of(v: LeadLagValue | None) -> dict[str, float]:
    if v is None:
        return {}
    return {"lead_lag_corr": v.correlation, "leader_move_pct": (math.exp(v.leader_move) - 1) * 100}


def evaluate(component: Component, state: LeadLag) -> Answer:
    return answer(component, state.value)


def answer(component: Component, v: LeadLagValue | None) -> Answer:
    """The Answer for a lead-lag reading (shared by :func:`evaluate` and the column form)."""
    if v is None:
        return neutral("warming_up")
    t: Thresholds = component.thresholds
    move_pct = (math.exp(v.leader_move) - 1) * 100
    seen = {
        "correlation": v.correlation,
        "best_lag": v.best_lag,
        "leader_move_pct": move_pct,
        "min_correlation": t.min_correlation,
        "min_leader_move_pct": t.min_leader_move_pct,
    }
    if abs(v.correlation) < t.min_correlation:
        return neutral("weak_correlation", **seen)
    if abs(move_pct) < t.min_leader_move_pct or move_pct == 0:
        return neutral("leader_quiet", **seen)
    direction = side(move_pct * v.correlation, LONG, SHORT)
    return directed(direction, abs(v.correlation), "leader_moved", **seen)


def explain(answer: Answer) -> str:
    i = answer.inputs
    lag = f"correlation {fmt(i.get('correlation'))} with the leader {fmt(i.get('best_lag'))} min ahead"
    reason = answer.reasons[0]
    if reason == "weak_correlation":
        return f"{lag}, weaker than {fmt(i.get('min_correlation'))}"
    moved = f"the leader moved {fmt(i.get('leader_move_pct'))} %"
    if reason == "leader_quiet":
        return f"{lag}, but {moved}, less than {fmt(i.get('min_leader_move_pct'))} %"
    return f"{lag} and {moved}: {answer.direction}"
