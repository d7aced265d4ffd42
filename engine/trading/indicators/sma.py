"""Simple moving average of one bar series: the plain mean of the last ``period`` values,
summed left to right (``base.sequential_sum``) so the column form's rolling sum is the same
number to the last bit."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.language.schemagen.dsl import num
from engine.trading.indicators.base import Bar, Window, indicator_schema, sequential_sum, source_value

KIND = "sma"
SUMMARY = "Simple moving average: the mean of the source over the last `period` bars."
OUTPUTS = {"": ("source", "The mean of the source over the period.")}
READS_SOURCE = True


@dataclass(frozen=True, slots=True, kw_only=True)
class Params:
    period: int


def schema() -> dict[str, Any]:
    return indicator_schema(
        KIND,
        SUMMARY,
        params={"period": num("Bars averaged.", "bars", minimum=1, maximum=10_000, integer=True)},
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
    return f"mean over {params.period} bars"


class State:
    """The incremental SMA: a window of the last ``period`` values, summed afresh each time
    (a running total would round differently from the column form's window sums)."""

    __slots__ = ("period", "source", "window")

    def __init__(self, params: Params, source: str):
        self.period, self.source = params.period, source
        self.window = Window(params.period)

    def update(self, bar: Bar) -> None:
        self.window.push(source_value(bar, self.source))

    def values(self) -> tuple[float | None]:
        if not self.window.full:
            return (None,)
        return (sequential_sum(self.window.items) / self.period,)


def new_state(params: Params, source: str) -> State:
    return State(params, source)
