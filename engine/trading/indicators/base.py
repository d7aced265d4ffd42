"""What every declared indicator kind shares: bars, sources, the schema envelope and the
arithmetic both forms agree on.

A rule file's ``indicators.yaml`` declares indicators by kind and parameters; each becomes
one or more names of the market vocabulary (engine/language/kinds/indicators.py). An
indicator reads **bars** of its ``timeframe``, built from the snapshots' one-minute candles
with the bar convention of :class:`engine.trading.features.BarCloser`: a bar of T seconds
covers candle *close* times ``(k·T, (k+1)·T]``; a candle closing exactly on a boundary
completes its bar at once, otherwise a bar completes when the first candle of a later bar
arrives. A bar with no candle (a gap) does not exist: indicators count bars, not clock time.

Both forms — :class:`BarBuilder` plus a kind's ``new_state`` here (live, paper, the scalar
replay) and the kind's column form in engine/replay/columns/indicator_forms.py (the dry-run
fast path) — use the same floating-point operations in the same order, so they are
bit-identical (tests/indicators). That is why sums are sequential (:func:`sequential_sum`,
never ``math.fsum`` or numpy's pairwise sum) and squares are ``d * d``.

Pure Python: importing this module does not import numpy.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable
from typing import Any, NamedTuple, Protocol

from engine.language.schemagen.dsl import element, obj, text
from engine.trading.features import parse_timeframe

CANDLE_S = 60.0  # snapshots carry one-minute candles: a candle's close is known at its open + 60 s

#: The series a one-input indicator may read (``source:``), each a function of one bar.
SOURCES = ("close", "open", "high", "low", "volume", "hl2", "hlc3", "ohlc4")


class Bar(NamedTuple):
    """One completed bar of an indicator's timeframe."""

    end: float  # epoch seconds: the bar's close is known then
    open: float
    high: float
    low: float
    close: float
    volume: float


def source_value(bar: Bar, source: str) -> float:
    """The ``source`` series' value for one bar (the column form computes the same per row)."""
    if source == "hl2":
        return (bar.high + bar.low) / 2
    if source == "hlc3":
        return (bar.high + bar.low + bar.close) / 3
    if source == "ohlc4":
        return (bar.open + bar.high + bar.low + bar.close) / 4
    return float(getattr(bar, source))


def sequential_sum(values: Iterable[float]) -> float:
    """Left-to-right float sum from 0.0: the one summation order both forms use."""
    total = 0.0
    for value in values:
        total += value
    return total


def mean_and_deviation(window: Iterable[float], ddof: int) -> tuple[float, float]:
    """(mean, standard deviation) of a full window: two sequential passes, ``d * d`` squares."""
    values = list(window)
    n = len(values)
    mean = sequential_sum(values) / n
    variance = sequential_sum((x - mean) * (x - mean) for x in values) / (n - ddof)
    return mean, math.sqrt(variance)


class State(Protocol):
    """A kind's incremental form: fed completed bars oldest first; ``values()`` gives one
    value per output (None while warming up or where the value is undefined)."""

    def update(self, bar: Bar) -> None: ...

    def values(self) -> tuple[float | None, ...]: ...


class Window:
    """The last ``size`` values of a series (a bounded deque with a "full" test)."""

    __slots__ = ("items", "size")

    def __init__(self, size: int):
        self.size = size
        self.items: deque[float] = deque(maxlen=size)

    def push(self, value: float) -> None:
        self.items.append(value)

    @property
    def full(self) -> bool:
        return len(self.items) == self.size


class BarBuilder:
    """One-minute candles in, completed bars of one timeframe out (see the module docstring).

    A candle is refused whole when a field is not finite or its close time is not later than
    the last accepted one (a repeated or late candle), as every feature refuses a reading."""

    __slots__ = ("_bar", "_end", "_last", "seconds")

    def __init__(self, timeframe: Any):
        self.seconds, _ = parse_timeframe(timeframe)
        self._bar: list[float] | None = None  # [open, high, low, close, volume] of the open bar
        self._end = -math.inf  # the open bar's end time
        self._last = -math.inf  # the last accepted close time

    def update(self, ts: float, o: float, h: float, low: float, c: float, v: float) -> list[Bar]:
        """Feed the candle that opened at ``ts``; returns the bars it completed, oldest first."""
        t = ts + CANDLE_S
        if not (t > self._last and all(math.isfinite(x) for x in (t, o, h, low, c, v))):
            return []
        self._last = t
        done: list[Bar] = []
        bar = self._bar
        if bar is not None and t <= self._end:  # still inside the open bar
            bar[1] = max(bar[1], h)
            bar[2] = min(bar[2], low)
            bar[3] = c
            bar[4] += v
        else:
            if bar is not None:
                done.append(Bar(self._end, *bar))
            end = -((-t) // self.seconds) * self.seconds  # ceil(t / T) · T, exact for floats
            self._bar, self._end = [o, h, low, c, 0.0 + v], end
        if t == self._end:  # closes on the boundary: the bar is complete now
            done.append(Bar(self._end, *self._bar))  # type: ignore[misc]
            self._bar, self._end = None, -math.inf
        return done


def indicator_schema(kind: str, summary: str, *, params: dict[str, Any], reads_source: bool) -> dict[str, Any]:
    """The schema element of one indicator kind: ``id`` (its vocabulary name), ``kind``,
    ``timeframe``, ``source`` (for one-input kinds) and its own ``params``."""
    props: dict[str, Any] = {
        "timeframe": text(
            "Bar length the indicator reads, resampled from the one-minute candles "
            "(a whole number of minutes: 1m, 5m, 15m, 1h, 4h, 1d, ...).",
            pattern=r"^[1-9][0-9]{0,4}[mhd]$",
            default="1m",
        ),
    }
    if reads_source:
        props["source"] = text("The bar series it reads.", enum=list(SOURCES), default="close")
    props["params"] = obj("The indicator's parameters.", params)
    return element(kind, summary, props)


def output_names(name: str, outputs: Iterable[str]) -> tuple[str, ...]:
    """The vocabulary names of an indicator ``name`` with these outputs: ``name`` itself for
    the unnamed output, ``name_<output>`` for the others."""
    return tuple(f"{name}_{out}" if out else name for out in outputs)
