"""Exponential moving average of one bar series.

``seed: first`` is pandas' ``ewm(span=period, adjust=False).mean()`` to the last bit (what a
freqtrade strategy computes with ``ta.EMA``'s pandas twin or ``df.ewm``): the first bar's
value seeds it and it has a value from the first bar on. ``seed: sma`` is the classic TA
definition (TA-Lib's): the mean of the first ``period`` values seeds it, so it is ready after
``period`` bars. tests/indicators prove the pandas equality and the column form's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.language.schemagen.dsl import text
from engine.trading.indicators import base
from engine.trading.indicators.base import Bar, indicator_schema, sequential_sum, source_value

KIND = "ema"
SUMMARY = "Exponential moving average of the source over `period` bars."
OUTPUTS = {"": ("source", "The EMA of the source series.")}
READS_SOURCE = True


@dataclass(frozen=True, slots=True, kw_only=True)
class Params:
    period: int
    seed: str  # "first" (pandas ewm, adjust=False) | "sma" (TA-Lib)


def schema() -> dict[str, Any]:
    return indicator_schema(
        KIND,
        SUMMARY,
        params={
            "period": base.period_schema("Span in bars: alpha = 2 / (period + 1).", 1),
            "seed": text(
                "`first`: seeded with the first bar, as pandas `ewm(span, adjust=False)` (freqtrade); "
                "`sma`: seeded with the mean of the first `period` bars, as TA-Lib.",
                enum=["first", "sma"],
                default="first",
            ),
        },
        reads_source=True,
    )


def compile_params(raw: Mapping[str, Any]) -> Params:
    return Params(period=raw["period"], seed=raw["seed"])


check = base.no_checks  # nothing beyond the schema's ranges


def warmup(params: Params) -> int:
    """Bars before the first value."""
    return 1 if params.seed == "first" else params.period


def describe(params: Params) -> str:
    seeded = "the first bar" if params.seed == "first" else f"the mean of the first {params.period} bars"
    return f"EMA over {params.period} bars, seeded with {seeded}"


def weights(period: int) -> tuple[float, float, float]:
    """(alpha, old weight, new weight) as pandas computes them for ``span=period``:
    alpha = 1 / (1 + com) with com = (span − 1) / 2 — not 2 / (span + 1), which can differ
    in the last bit."""
    alpha = 1.0 / (1.0 + (period - 1) / 2.0)
    return alpha, 1.0 - alpha, alpha


class State:
    """The incremental EMA (one value: the EMA, None before the seed)."""

    __slots__ = ("_seed", "_value", "alpha", "new", "old", "period", "seed", "source")

    def __init__(self, params: Params, source: str):
        self.period, self.seed, self.source = params.period, params.seed, source
        self.alpha, self.old, self.new = weights(params.period)
        self._value: float | None = None
        self._seed: list[float] = []

    def update(self, bar: Bar) -> None:
        self.push(source_value(bar, self.source))

    def push(self, x: float) -> None:
        """One value of the series (MACD feeds its own line through this)."""
        value = self._value
        if value is None:
            if self.seed == "first":
                self._value = x
                return
            self._seed.append(x)
            if len(self._seed) == self.period:
                self._value = sequential_sum(self._seed) / self.period
                self._seed = []
        elif self.seed == "first":
            if value != x:  # pandas skips the update on an equal value (exact on constant series)
                self._value = (self.old * value + self.new * x) / (self.old + self.new)
        else:
            self._value = value + self.alpha * (x - value)

    def values(self) -> tuple[float | None]:
        return (self._value,)


def new_state(params: Params, source: str) -> State:
    return State(params, source)


def path(values: list[float], params: Params) -> list[float]:
    """The EMA after each of ``values`` (NaN before the seed): :class:`State`'s arithmetic as a
    tight loop over plain floats, for the column form and for MACD's lines."""
    nan = float("nan")
    n = len(values)
    if params.seed == "sma":
        if n < params.period:
            return [nan] * n
        alpha = weights(params.period)[0]
        value = sequential_sum(values[: params.period]) / params.period
        out = [nan] * (params.period - 1) + [value]
        for x in values[params.period :]:
            value = value + alpha * (x - value)
            out.append(value)
        return out
    if not n:
        return []
    _, old, new = weights(params.period)
    total = old + new
    value = values[0]
    out = [value]
    for x in values[1:]:
        if value != x:
            value = (old * value + new * x) / total
        out.append(value)
    return out
