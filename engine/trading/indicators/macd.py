"""Moving average convergence/divergence of one bar series: the fast EMA minus the slow EMA
(the MACD line), an EMA of that line (the signal) and their difference (the histogram).

Built from :mod:`ema` (its ``seed`` has the same two meanings), so ``seed: first`` is
pandas' ``ewm(span, adjust=False)`` on every line, as freqtrade strategies compute it. The
signal EMA starts at the first bar with a MACD line, so with ``seed: sma`` it is seeded by
the mean of the first ``signal`` line values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.language.schemagen.dsl import num, text
from engine.trading.indicators import ema
from engine.trading.indicators.base import Bar, indicator_schema, source_value

KIND = "macd"
SUMMARY = "MACD: the fast EMA minus the slow EMA of the source, its signal EMA and their difference."
OUTPUTS = {
    "": ("source", "The MACD line: fast EMA − slow EMA."),
    "signal": ("source", "The EMA of the MACD line over `signal` bars."),
    "hist": ("source", "The histogram: MACD line − signal."),
}
READS_SOURCE = True


@dataclass(frozen=True, slots=True, kw_only=True)
class Params:
    fast: int
    slow: int
    signal: int
    seed: str  # as ema.Params.seed: "first" | "sma"

    def line(self, period: int) -> ema.Params:
        """The parameters of one of its EMAs."""
        return ema.Params(period=period, seed=self.seed)


def _period(description: str, default: int) -> dict[str, Any]:
    return num(description, "bars", minimum=1, maximum=10_000, integer=True, default=default)


def schema() -> dict[str, Any]:
    return indicator_schema(
        KIND,
        SUMMARY,
        params={
            "fast": _period("Span of the fast EMA (below `slow`).", 12),
            "slow": _period("Span of the slow EMA.", 26),
            "signal": _period("Span of the signal line's EMA of the MACD line.", 9),
            "seed": text(
                "How each EMA starts, as ema's `seed`: `first` as pandas `ewm(span, adjust=False)` "
                "(freqtrade); `sma` with the mean of its first values, as TA-Lib.",
                enum=["first", "sma"],
                default="first",
            ),
        },
        reads_source=READS_SOURCE,
    )


def compile_params(raw: Mapping[str, Any]) -> Params:
    return Params(fast=raw["fast"], slow=raw["slow"], signal=raw["signal"], seed=raw["seed"])


def check(params: Params, doc: Any, path: tuple[Any, ...], ctx: Any) -> None:
    """RB333 when the fast EMA is not faster than the slow one: the line would be 0 or mirrored."""
    if params.fast >= params.slow:
        ctx.report(
            doc,
            (*path, "params", "fast"),
            "RB333",
            f"macd's fast EMA ({params.fast} bars) must be shorter than its slow EMA ({params.slow} bars)",
            suggestion="swap them, or choose fast below slow (the usual pair is 12 and 26)",
        )


def warmup(params: Params) -> int:
    """Bars before every output has a value (the signal's is the last to come)."""
    if params.seed == "first":
        return 1
    return max(params.fast, params.slow) + params.signal - 1


def describe(params: Params) -> str:
    seeded = "the first bar" if params.seed == "first" else "the mean of their first values"
    return f"EMA over {params.fast} bars − EMA over {params.slow} bars, signal EMA over {params.signal}, seeded with {seeded}"


class State:
    __slots__ = ("_line", "fast", "signal", "slow", "source")

    def __init__(self, params: Params, source: str):
        self.source = source
        self.fast, self.slow = ema.State(params.line(params.fast), source), ema.State(params.line(params.slow), source)
        self.signal = ema.State(params.line(params.signal), source)
        self._line: float | None = None

    def update(self, bar: Bar) -> None:
        x = source_value(bar, self.source)
        self.fast.push(x)
        self.slow.push(x)
        (fast,), (slow,) = self.fast.values(), self.slow.values()
        if fast is not None and slow is not None:
            self._line = fast - slow
            self.signal.push(self._line)

    def values(self) -> tuple[float | None, float | None, float | None]:
        line, (signal,) = self._line, self.signal.values()
        if line is None or signal is None:
            return (line, None, None)
        return (line, signal, line - signal)


def new_state(params: Params, source: str) -> State:
    return State(params, source)
