"""Hurst exponent (seed #4, 8 %): follow persistent trends, fade mean-reverting moves.

H comes from one-minute log prices over ``window`` (estimator: docs/features.md). The
recent trend is the sign of the close now minus the close ``trend_lookback`` minutes ago.
H above ``trending_above``: answer the trend; below ``mean_reverting_below``: answer
against it; between: NEUTRAL. Confidence: |H − 0.5| ÷ 0.5, the distance from a random walk.
Column form: engine/replay/columns/components/hurst.py.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.language.schemagen.dsl import num
from engine.trading.features import HurstExponent
from engine.trading.signals.answer import LONG, SHORT, Answer, directed, fmt, neutral, side
from engine.trading.signals.components.base import check_ordered, component_schema, count_window, fraction

if TYPE_CHECKING:
    from engine.language.kinds.base import BuildContext, Doc
    from engine.language.kinds.signals import Component
    from engine.market.snapshot import Snapshot, SymbolSnapshot

KIND = "hurst"
SUMMARY = "Hurst exponent: follow the trend when persistent, fade it when mean reverting."
REASONS = ("warming_up", "no_trend", "trending_follow", "mean_reverting_fade", "random_walk")
INPUTS = ("candles_1m",)
EXPORTS = ("hurst",)  # vocabulary names exports() may give
SIGNALS_CASCADE = False
NEEDS_LEADER = False
STATE_READS = ("params",)  # new_state() reads these of the component (a reload keeps the state while they hold)


@dataclass(frozen=True, slots=True, kw_only=True)
class Params:
    window: int  # one-minute log prices
    recompute_every: int  # cycles
    trend_lookback: int  # minutes


@dataclass(frozen=True, slots=True, kw_only=True)
class Thresholds:
    trending_above: float
    mean_reverting_below: float


def schema() -> dict[str, Any]:
    return component_schema(
        KIND,
        SUMMARY,
        params={
            "window": count_window("one-minute log prices", 32),
            "recompute_every": num(
                "Recompute every N cycles; cached in between.", "count", minimum=1, maximum=1000, integer=True
            ),
            "trend_lookback": count_window("minutes that define the recent trend", 1),
        },
        thresholds={
            "trending_above": fraction("Hurst above this is trending."),
            "mean_reverting_below": fraction("Hurst below this is mean reverting."),
        },
        inputs=INPUTS,
    )


def compile_params(raw: Mapping[str, Any]) -> Params:
    return Params(window=raw["window"], recompute_every=raw["recompute_every"], trend_lookback=raw["trend_lookback"])


def compile_thresholds(raw: Mapping[str, Any]) -> Thresholds:
    return Thresholds(trending_above=raw["trending_above"], mean_reverting_below=raw["mean_reverting_below"])


def check(params: Params, doc: Doc, path: tuple[Any, ...], ctx: BuildContext) -> None:
    """The mean-reverting band must lie below the trending band in every profile."""
    check_ordered(doc, path, ctx, "mean_reverting_below", "trending_above")


class State:
    __slots__ = ("closes", "hurst")

    def __init__(self, params: Params) -> None:
        self.hurst = HurstExponent(window=params.window, recompute_every=params.recompute_every)
        self.closes: deque[float] = deque(maxlen=params.trend_lookback + 1)


def new_state(component: Component) -> State:
    return State(component.params)


def update(state: State, snapshot: Snapshot, symbol: SymbolSnapshot, leader: SymbolSnapshot | None) -> None:
    for candle in symbol.candles:
        state.hurst.update(candle.ts + 60.0, candle.close)
        state.closes.append(candle.close)


def exports(state: State) -> dict[str, float]:
    return {} if state.hurst.value is None else {"hurst": state.hurst.value}


def evaluate(component: Component, state: State) -> Answer:
    h = state.hurst.value
    if h is None or len(state.closes) < (state.closes.maxlen or 0):
        return neutral("warming_up")
    return answer(component, h, state.closes[-1] - state.closes[0])


def answer(component: Component, h: float, trend_change: float) -> Answer:
    """The Answer once warm: H and the close now minus the close ``trend_lookback`` ago
    (shared by :func:`evaluate` and the column form)."""
    t: Thresholds = component.thresholds
    trend = side(trend_change, LONG, SHORT)
    seen = {
        "hurst": h,
        "trend_change": trend_change,
        "trending_above": t.trending_above,
        "mean_reverting_below": t.mean_reverting_below,
    }
    if trend == "NEUTRAL":
        return neutral("no_trend", **seen)
    confidence = abs(h - 0.5) / 0.5
    if h > t.trending_above:
        return directed(trend, confidence, "trending_follow", **seen)
    if h < t.mean_reverting_below:
        return directed(LONG if trend == SHORT else SHORT, confidence, "mean_reverting_fade", **seen)
    return neutral("random_walk", **seen)


def explain(answer: Answer) -> str:
    i = answer.inputs
    hurst = f"H = {fmt(i.get('hurst'))}"
    reason = answer.reasons[0]
    if reason == "no_trend":
        return f"{hurst}, but the close has not moved over the lookback: no trend to follow or fade"
    if reason == "random_walk":
        band = f"{fmt(i.get('mean_reverting_below'))} … {fmt(i.get('trending_above'))}"
        return f"{hurst}, inside the random-walk band {band}"
    if reason == "trending_follow":
        return f"{hurst} > {fmt(i.get('trending_above'))}: trending, follow the move, {answer.direction}"
    return f"{hurst} < {fmt(i.get('mean_reverting_below'))}: mean reverting, fade the move, {answer.direction}"
