"""Bollinger bands of one bar series: the mean of the last ``period`` values and that mean
plus and minus ``stddev`` standard deviations. ``ddof: 0`` is the population deviation
(Bollinger's own, TA-Lib's); ``ddof: 1`` the sample one (pandas' ``rolling().std()``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.language.schemagen.dsl import num
from engine.trading.indicators import base
from engine.trading.indicators.base import Bar, Window, indicator_schema, mean_and_deviation, source_value

KIND = "bollinger"
SUMMARY = "Bollinger bands: the mean of the source over `period` bars ± `stddev` standard deviations."
OUTPUTS = {
    "upper": ("source", "The mean plus `stddev` standard deviations."),
    "middle": ("source", "The mean of the source over the period."),
    "lower": ("source", "The mean minus `stddev` standard deviations."),
}
READS_SOURCE = True


@dataclass(frozen=True, slots=True, kw_only=True)
class Params:
    period: int
    stddev: float
    ddof: int


def schema() -> dict[str, Any]:
    return indicator_schema(
        KIND,
        SUMMARY,
        params={
            "period": base.period_schema("Bars in the window.", 2),
            "stddev": num(
                "Width of each band in standard deviations.", "sigma", exclusive_minimum=0, maximum=10, default=2
            ),
            "ddof": num(
                "Deviation's divisor is period − ddof: 0 population (Bollinger, TA-Lib), 1 sample (pandas).",
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
    return Params(period=raw["period"], stddev=float(raw["stddev"]), ddof=raw["ddof"])


check = base.no_checks  # nothing beyond the schema's ranges
warmup = base.full_window  # a full window


def describe(params: Params) -> str:
    return f"mean over {params.period} bars ± {params.stddev:g} standard deviations (ddof {params.ddof})"


class State:
    __slots__ = ("ddof", "source", "stddev", "window")

    def __init__(self, params: Params, source: str):
        self.source, self.stddev, self.ddof = source, params.stddev, params.ddof
        self.window = Window(params.period)

    def update(self, bar: Bar) -> None:
        self.window.push(source_value(bar, self.source))

    def values(self) -> tuple[float | None, float | None, float | None]:
        if not self.window.full:
            return (None, None, None)
        mean, deviation = mean_and_deviation(self.window.items, self.ddof)
        return (mean + self.stddev * deviation, mean, mean - self.stddev * deviation)


def new_state(params: Params, source: str) -> State:
    return State(params, source)
