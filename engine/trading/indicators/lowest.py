"""Lowest value of one bar series over the last ``period`` bars (a Donchian lower band, a
support level). Minima are exact, so both forms agree whatever order they compare in."""

from __future__ import annotations

from collections import deque
from typing import Any

from engine.trading.indicators import base
from engine.trading.indicators.base import indicator_schema

KIND = "lowest"
SUMMARY = "Lowest value of the source over the last `period` bars."
OUTPUTS = {"": ("source", "The minimum of the source over the period.")}
READS_SOURCE = True


Params = base.PeriodParams


def schema() -> dict[str, Any]:
    return indicator_schema(
        KIND,
        SUMMARY,
        params={"period": base.period_schema("Bars looked back over, this one included.", 1)},
        reads_source=READS_SOURCE,
    )


compile_params = base.compile_period_params

check = base.no_checks  # nothing beyond the schema's ranges
warmup = base.full_window  # a full window


def describe(params: Params) -> str:
    return f"lowest over {params.period} bars"


class State(base.SourceWindow):
    __slots__ = ()

    def value(self, items: deque[float]) -> float | None:
        return min(items)


def new_state(params: Params, source: str) -> State:
    return State(params.period, source)
