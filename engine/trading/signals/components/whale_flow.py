"""Whale exchange flows (seed #2, 20 %): inflow to exchanges is bearish, outflow bullish.

Sums the signed net flow (inflow positive) over ``window``; at or above ``min_flow_usd``
in size it answers SHORT for inflow and LONG for outflow. Confidence: |flow| ÷
(threshold × multiple).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.trading.features import ExchangeNetFlow
from engine.trading.signals.answer import LONG, SHORT, Answer, directed, fmt, neutral, scaled, side
from engine.trading.signals.components import base
from engine.trading.signals.components.base import component_schema, confidence_multiple, usd, window

if TYPE_CHECKING:
    from engine.language.kinds.signals import Component
    from engine.market.snapshot import Snapshot, SymbolSnapshot

KIND = "whale_flow"
SUMMARY = "Exchange net flows: inflow is bearish, outflow is bullish."
REASONS = ("warming_up", "below_threshold", "exchange_inflow", "exchange_outflow")
INPUTS = ("exchange_netflow",)
EXPORTS = ("whale_net_flow_usd",)  # vocabulary names exports() may give
SIGNALS_CASCADE = False
NEEDS_LEADER = False
STATE_READS = ("params",)  # new_state() reads these of the component (a reload keeps the state while they hold)


Params = base.WindowedParams  # window (seconds), full_confidence_multiple


@dataclass(frozen=True, slots=True, kw_only=True)
class Thresholds:
    min_flow_usd: float


def schema() -> dict[str, Any]:
    return component_schema(
        KIND,
        SUMMARY,
        params={"window": window("net flow"), "full_confidence_multiple": confidence_multiple()},
        thresholds={"min_flow_usd": usd("Minimum absolute net flow in the window.")},
        inputs=INPUTS,
    )


compile_params = base.compile_windowed_params


def compile_thresholds(raw: Mapping[str, Any]) -> Thresholds:
    return Thresholds(min_flow_usd=raw["min_flow_usd"])


check = base.no_checks  # nothing beyond the schema's ranges


def new_state(component: Component) -> ExchangeNetFlow:
    params: Params = component.params
    return ExchangeNetFlow(window_seconds=params.window)


def update(state: ExchangeNetFlow, snapshot: Snapshot, symbol: SymbolSnapshot, leader: SymbolSnapshot | None) -> None:
    flow = symbol.get("exchange_netflow_usd")
    if flow is not None:
        state.update(symbol.times["exchange_netflow"], flow)


def exports(state: ExchangeNetFlow) -> dict[str, float]:
    return {} if state.value is None else {"whale_net_flow_usd": state.value}


def evaluate(component: Component, state: ExchangeNetFlow) -> Answer:
    params: Params = component.params
    flow = state.value
    if flow is None:
        return neutral("warming_up")
    threshold = component.thresholds.min_flow_usd
    if abs(flow) < threshold or flow == 0:
        return neutral("below_threshold", net_flow_usd=flow, threshold_usd=threshold)
    direction = side(flow, SHORT, LONG)
    confidence = scaled(abs(flow), threshold, params.full_confidence_multiple)
    reason = "exchange_inflow" if direction == SHORT else "exchange_outflow"
    return directed(direction, confidence, reason, net_flow_usd=flow, threshold_usd=threshold)


def explain(answer: Answer) -> str:
    i = answer.inputs
    flow = f"net exchange flow {fmt(i.get('net_flow_usd'))} USD over the window"
    reason = answer.reasons[0]
    if reason == "below_threshold":
        return f"{flow}, smaller than the {fmt(i.get('threshold_usd'))} USD threshold"
    way = "into exchanges (selling ahead)" if reason == "exchange_inflow" else "out of exchanges (holding)"
    return f"{flow}, {way}: {answer.direction}"
