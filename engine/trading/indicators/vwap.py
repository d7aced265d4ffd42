"""Rolling volume-weighted average price over the last ``period`` bars: each bar's typical
price ``(high + low + close) / 3`` weighted by its volume. Rolling rather than anchored to a
session: crypto trades around the clock, so there is no session open to reset at. None when
the window traded nothing (0/0). It reads whole bars, not one source."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.language.schemagen.dsl import num
from engine.trading.indicators.base import Bar, Window, indicator_schema, sequential_sum

KIND = "vwap"
SUMMARY = "Rolling volume-weighted average of the typical price (high + low + close) / 3 over `period` bars."
OUTPUTS = {"": ("price", "The volume-weighted mean typical price over the period.")}
READS_SOURCE = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Params:
    period: int


def schema() -> dict[str, Any]:
    return indicator_schema(
        KIND,
        SUMMARY,
        params={"period": num("Bars in the window.", "bars", minimum=1, maximum=10_000, integer=True)},
        reads_source=READS_SOURCE,
    )


def compile_params(raw: Mapping[str, Any]) -> Params:
    return Params(period=raw["period"])


def check(params: Params, doc: Any, path: tuple[Any, ...], ctx: Any) -> None:
    """Nothing beyond the schema's ranges."""


def warmup(params: Params) -> int:
    """Bars before the first value: a full window."""
    return params.period


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
