"""Whale exchange flows (seed #2, 20 %): inflow to exchanges is bearish, outflow bullish.

Sums the signed net flow (inflow positive) over ``window``; at or above ``min_flow_usd``
in size it answers SHORT for inflow and LONG for outflow. Confidence: |flow| ÷
(threshold × multiple).
"""

from __future__ import annotations

from engine.trading.features import ExchangeNetFlow
from engine.trading.signals.answer import LONG, SHORT, Answer, directed, neutral, scaled, side

KIND = "whale_flow"
INPUTS = ("exchange_netflow",)
EXPORTS = ("whale_net_flow_usd",)  # vocabulary names exports() may give


def new_state(component):
    params = component.params
    return ExchangeNetFlow(window_seconds=params["window"])


def update(state, snapshot, symbol, leader) -> None:
    flow = symbol.get("exchange_netflow_usd")
    if flow is not None:
        state.update(symbol.times["exchange_netflow"], flow)


def exports(state) -> dict:
    return {} if state.value is None else {"whale_net_flow_usd": state.value}


def evaluate(component, state) -> Answer:
    flow = state.value
    if flow is None:
        return neutral("warming_up")
    threshold = component.thresholds["min_flow_usd"]
    if abs(flow) < threshold or flow == 0:
        return neutral("below_threshold", net_flow_usd=flow, threshold_usd=threshold)
    direction = side(flow, SHORT, LONG)
    confidence = scaled(abs(flow), threshold, component.params["full_confidence_multiple"])
    reason = "exchange_inflow" if direction == SHORT else "exchange_outflow"
    return directed(direction, confidence, reason, net_flow_usd=flow, threshold_usd=threshold)
