"""Lead-lag (seed #5, 8 %): BTC's recent move predicts the altcoin's.

Lagged correlation of one-minute log returns between the leader (the rule set's symbol
with ``role: leader``) and this symbol over ``window``, for lags 1..``max_lag``. When the
best correlation reaches ``min_correlation`` and the leader moved at least
``min_leader_move_pct`` over that lag, answer the direction the leader moved (against it
for a negative correlation). Confidence: |correlation|. The leader itself is NEUTRAL.
"""

from __future__ import annotations

import math

from engine.features import LeadLag
from engine.signals.answer import LONG, SHORT, Answer, directed, neutral, side

KIND = "lead_lag"
INPUTS = ("candles_1m", "leader_candles_1m")
EXPORTS = ("lead_lag_corr", "leader_move_pct")   # vocabulary names exports() may give


def new_state(component):
    params = component.params
    return LeadLag(window=params["window"], max_lag=params["max_lag"])


def update(state, snapshot, symbol, leader) -> None:
    if leader is None or leader.symbol == symbol.symbol:
        return
    for candle in symbol.candles:
        for lead in leader.candles:
            if lead.ts == candle.ts:
                state.update(candle.ts + 60.0, lead.close, candle.close)
                break


def exports(state) -> dict:
    v = state.value
    if v is None:
        return {}
    return {"lead_lag_corr": v.correlation, "leader_move_pct": (math.exp(v.leader_move) - 1) * 100}


def evaluate(component, state) -> Answer:
    v = state.value
    if v is None:
        return neutral("warming_up")
    t = component.thresholds
    move_pct = (math.exp(v.leader_move) - 1) * 100
    seen = {"correlation": v.correlation, "best_lag": v.best_lag, "leader_move_pct": move_pct,
            "min_correlation": t["min_correlation"], "min_leader_move_pct": t["min_leader_move_pct"]}
    if abs(v.correlation) < t["min_correlation"]:
        return neutral("weak_correlation", **seen)
    if abs(move_pct) < t["min_leader_move_pct"] or move_pct == 0:
        return neutral("leader_quiet", **seen)
    direction = side(move_pct * v.correlation, LONG, SHORT)
    return directed(direction, abs(v.correlation), "leader_moved", **seen)
