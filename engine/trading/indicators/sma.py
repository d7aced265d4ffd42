"""Simple moving average of one bar series: the plain mean of the last ``period`` values,
summed left to right (``base.sequential_sum``) so the column form's rolling sum is the same
number to the last bit."""

from __future__ import annotations

from collections import deque
from typing import Any

from engine.trading.indicators import base
from engine.trading.indicators.base import indicator_schema, sequential_sum

KIND = "sma"
SUMMARY = "Simple moving average: the mean of the source over the last `period` bars."
OUTPUTS = {"": ("source", "The mean of the source over the period.")}
READS_SOURCE = True


Params = base.PeriodParams


def schema() -> dict[str, Any]:
    return indicator_schema(
        KIND,
        SUMMARY,
        params={"period": base.period_schema("Bars averaged.", 1)},
        reads_source=READS_SOURCE,
    )


compile_params = base.compile_period_params

check = base.no_checks  # nothing beyond the schema's ranges
warmup = base.full_window  # a full window


def describe(params: Params) -> str:
    return f"mean over {params.period} bars"


class State(base.SourceWindow):
    """The incremental SMA: the window summed afresh each time (a running total would round
    differently from the column form's window sums)."""

    __slots__ = ()

    def value(self, items: deque[float]) -> float | None:
        return sequential_sum(items) / len(items)


def new_state(params: Params, source: str) -> State:
    return State(params.period, source)
