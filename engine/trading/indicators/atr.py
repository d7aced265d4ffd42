"""Wilder's average true range: how far price moves in a bar, gaps from the previous close
included, smoothed as Wilder did (rsi.Wilder: the mean of the first ``period`` true ranges,
then weight ``1 / period``). It reads whole bars (high, low, close), not one source."""

from __future__ import annotations

from typing import Any

from engine.trading.indicators import base
from engine.trading.indicators.base import Bar, indicator_schema
from engine.trading.indicators.rsi import Wilder

KIND = "atr"
SUMMARY = "Wilder's average true range over `period` bars (reads high, low and close)."
OUTPUTS = {"": ("price", "The smoothed true range, in price units.")}
READS_SOURCE = False


Params = base.PeriodParams


def schema() -> dict[str, Any]:
    return indicator_schema(
        KIND,
        SUMMARY,
        params={
            "period": base.period_schema(
                "True ranges averaged: the seed's length and the smoothing's 1 / period weight.", 1
            )
        },
        reads_source=READS_SOURCE,
    )


compile_params = base.compile_period_params
check = base.no_checks  # nothing beyond the schema's ranges


def warmup(params: Params) -> int:
    """Bars before the first value: ``period`` true ranges (the first bar has one: high − low)."""
    return params.period


def describe(params: Params) -> str:
    return f"Wilder's ATR over {params.period} bars"


def true_range(bar: Bar, previous_close: float | None) -> float:
    """high − low, widened by a gap from the previous close (compared in this order)."""
    if previous_close is None:
        return bar.high - bar.low
    return max(bar.high - bar.low, abs(bar.high - previous_close), abs(bar.low - previous_close))


class State:
    __slots__ = ("_close", "smooth")

    def __init__(self, params: Params, source: str):
        self.smooth = Wilder(params.period)
        self._close: float | None = None

    def update(self, bar: Bar) -> None:
        self.smooth.push(true_range(bar, self._close))
        self._close = bar.close

    def values(self) -> tuple[float | None]:
        return (self.smooth.value,)


def new_state(params: Params, source: str) -> State:
    return State(params, source)
