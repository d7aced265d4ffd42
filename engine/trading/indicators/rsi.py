"""Wilder's relative strength index of one bar series, as Wilder defined it (and TA-Lib
computes it): the first ``period`` changes' mean gain and loss seed it, then each new
change is blended in with weight ``1 / period`` (:class:`Wilder`, shared with ATR).

The value is None when nothing moved (mean gain and loss both 0): 0/0 has no honest value.
"""

from __future__ import annotations

from typing import Any

from engine.trading.indicators import base
from engine.trading.indicators.base import Bar, indicator_schema, sequential_sum, source_value

KIND = "rsi"
SUMMARY = "Wilder's relative strength index of the source over `period` bars (0-100)."
OUTPUTS = {"": ("0-100", "Share of the smoothed gains in the smoothed moves, in percent.")}
READS_SOURCE = True


Params = base.PeriodParams


def schema() -> dict[str, Any]:
    return indicator_schema(
        KIND,
        SUMMARY,
        params={
            "period": base.period_schema(
                "Changes averaged: the seed's length and the smoothing's 1 / period weight.", 1
            )
        },
        reads_source=READS_SOURCE,
    )


compile_params = base.compile_period_params
check = base.no_checks  # nothing beyond the schema's ranges


def warmup(params: Params) -> int:
    """Bars before the first value: ``period`` changes need one bar more."""
    return params.period + 1


def describe(params: Params) -> str:
    return f"Wilder's RSI over {params.period} bars"


class Wilder:
    """Wilder's smoothing of a series: the mean of its first ``period`` values, then
    ``(avg · (period − 1) + x) / period`` — the column form runs the same loop."""

    __slots__ = ("_seed", "period", "value")

    def __init__(self, period: int):
        self.period = period
        self.value: float | None = None
        self._seed: list[float] = []

    def push(self, x: float) -> None:
        if self.value is not None:
            self.value = (self.value * (self.period - 1) + x) / self.period
            return
        self._seed.append(x)
        if len(self._seed) == self.period:
            self.value = sequential_sum(self._seed) / self.period
            self._seed = []


def strength(gain: float, loss: float) -> float | None:
    """RSI from the smoothed gain and loss (None when both are 0)."""
    moved = gain + loss
    return None if moved == 0 else 100 * gain / moved


class State:
    __slots__ = ("_previous", "gains", "losses", "source")

    def __init__(self, params: Params, source: str):
        self.source = source
        self.gains, self.losses = Wilder(params.period), Wilder(params.period)
        self._previous: float | None = None

    def update(self, bar: Bar) -> None:
        x = source_value(bar, self.source)
        if self._previous is not None:
            d = x - self._previous
            self.gains.push(d if d > 0 else 0.0)
            self.losses.push(-d if d < 0 else 0.0)
        self._previous = x

    def values(self) -> tuple[float | None]:
        gain, loss = self.gains.value, self.losses.value
        if gain is None or loss is None:
            return (None,)
        return (strength(gain, loss),)


def new_state(params: Params, source: str) -> State:
    return State(params, source)
