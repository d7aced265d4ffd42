"""Highest value of one bar series over the last ``period`` bars (a Donchian upper band, a
breakout level). Maxima are exact, so both forms agree whatever order they compare in."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.language.schemagen.dsl import num
from engine.trading.indicators.base import Bar, Window, indicator_schema, source_value

KIND = "highest"
SUMMARY = "Highest value of the source over the last `period` bars."
OUTPUTS = {"": ("source", "The maximum of the source over the period.")}
READS_SOURCE = True


@dataclass(frozen=True, slots=True, kw_only=True)
class Params:
    period: int


def schema() -> dict[str, Any]:
    return indicator_schema(
        KIND,
        SUMMARY,
        params={
            "period": num("Bars looked back over, this one included.", "bars", minimum=1, maximum=10_000, integer=True)
        },
        reads_source=READS_SOURCE,
    )


def compile_params(raw: Mapping[str, Any]) -> Params:
    return Params(period=raw["period"])


def check(params: Params, doc: Any, path: tuple[Any, ...], ctx: Any) -> None:
    """Nothing beyond the schema's ranges."""


def warmup(params: Params) -> int:
    """Bars before the first value: a full window (a partial one would understate the level)."""
    return params.period


def describe(params: Params) -> str:
    return f"highest over {params.period} bars"


class State:
    __slots__ = ("source", "window")

    def __init__(self, params: Params, source: str):
        self.source = source
        self.window = Window(params.period)

    def update(self, bar: Bar) -> None:
        self.window.push(source_value(bar, self.source))

    def values(self) -> tuple[float | None]:
        return (max(self.window.items) if self.window.full else None,)


def new_state(params: Params, source: str) -> State:
    return State(params, source)
