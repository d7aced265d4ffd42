"""Z-score of one bar series: how many standard deviations the newest value lies from the
mean of the last ``period`` values (itself included). None on a flat window, where the
deviation is 0 and the distance has no scale."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.language.schemagen.dsl import num
from engine.trading.indicators import base
from engine.trading.indicators.base import Bar, Window, indicator_schema, mean_and_deviation, source_value

KIND = "zscore"
SUMMARY = "Z-score: the source's distance from its mean over `period` bars, in standard deviations."
OUTPUTS = {"": ("sigma", "(newest − mean) / standard deviation over the period.")}
READS_SOURCE = True


@dataclass(frozen=True, slots=True, kw_only=True)
class Params:
    period: int
    ddof: int


def schema() -> dict[str, Any]:
    return indicator_schema(
        KIND,
        SUMMARY,
        params={
            "period": base.period_schema("Bars in the window, the newest included.", 2),
            "ddof": num(
                "Deviation's divisor is period − ddof: 0 population, 1 sample (pandas' default).",
                "count",
                minimum=0,
                maximum=1,
                integer=True,
                default=0,
            ),
        },
        reads_source=READS_SOURCE,
    )


def compile_params(raw: Mapping[str, Any]) -> Params:
    return Params(period=raw["period"], ddof=raw["ddof"])


check = base.no_checks  # nothing beyond the schema's ranges
warmup = base.full_window  # a full window


def describe(params: Params) -> str:
    return f"distance from the mean over {params.period} bars, in standard deviations (ddof {params.ddof})"


class State:
    __slots__ = ("ddof", "source", "window")

    def __init__(self, params: Params, source: str):
        self.source, self.ddof = source, params.ddof
        self.window = Window(params.period)

    def update(self, bar: Bar) -> None:
        self.window.push(source_value(bar, self.source))

    def values(self) -> tuple[float | None]:
        if not self.window.full:
            return (None,)
        mean, deviation = mean_and_deviation(self.window.items, self.ddof)
        if deviation == 0:
            return (None,)
        return ((self.window.items[-1] - mean) / deviation,)


def new_state(params: Params, source: str) -> State:
    return State(params, source)
