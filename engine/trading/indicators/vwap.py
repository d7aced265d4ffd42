"""Rolling volume-weighted average price over the last ``period`` bars: each bar's typical
price ``(high + low + close) / 3`` weighted by its volume. Rolling rather than anchored to a
session: crypto trades around the clock, so there is no session open to reset at. None when
the window traded nothing (0/0). It reads whole bars, not one source."""

from __future__ import annotations

from typing import Any

from engine.trading.indicators import base
from engine.trading.indicators.base import Bar, Window, indicator_schema, sequential_sum

KIND = "vwap"
SUMMARY = "Rolling volume-weighted average of the typical price (high + low + close) / 3 over `period` bars."
OUTPUTS = {"": ("price", "The volume-weighted mean typical price over the period.")}
READS_SOURCE = False


Params = base.PeriodParams


def schema() -> dict[str, Any]:
    return indicator_schema(
        KIND,
        SUMMARY,
        params={"period": base.period_schema("Bars in the window.", 1)},
        reads_source=READS_SOURCE,
    )


compile_params = base.compile_period_params

check = base.no_checks  # nothing beyond the schema's ranges
warmup = base.full_window  # a full window


def describe(params: Params) -> str:
    return f"volume-weighted typical price over {params.period} bars"


class State:
    __slots__ = ("traded", "volume")

    def __init__(self, params: Params, source: str):
        self.traded = Window(params.period)  # typical price × volume per bar
        self.volume = Window(params.period)

    def update(self, bar: Bar) -> None:
        typical = (bar.high + bar.low + bar.close) / 3
        self.traded.push(typical * bar.volume)
        self.volume.push(bar.volume)

    def values(self) -> tuple[float | None]:
        if not self.volume.full:
            return (None,)
        volume = sequential_sum(self.volume.items)
        if volume == 0:
            return (None,)
        return (sequential_sum(self.traded.items) / volume,)


def new_state(params: Params, source: str) -> State:
    return State(params, source)
