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
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

from engine.language.schemagen.dsl import element, num, obj, text
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


MAX_PERIOD = 10_000  # bars: a window longer than this is a unit slip


@dataclass(frozen=True, slots=True, kw_only=True)
class PeriodParams:
    """The params of a kind whose one parameter is its window length (sma, rsi, atr, vwap,
    highest, lowest): ``period_schema`` in its schema, ``compile_period_params``."""

    period: int


def period_schema(description: str, minimum: int = 1, default: int | None = None) -> dict[str, Any]:
    """A window length in bars."""
    return num(description, "bars", minimum=minimum, maximum=MAX_PERIOD, integer=True, default=default)


def compile_period_params(raw: Any) -> PeriodParams:
    return PeriodParams(period=raw["period"])


def no_checks(params: Any, doc: Any, path: tuple[Any, ...], ctx: Any) -> None:
    """The ``check`` of a kind with nothing to check beyond the schema's ranges."""


def full_window(params: Any) -> int:
    """The ``warmup`` of a kind that needs a full window of ``period`` bars."""
    return int(params.period)


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


CANDLE = "candle"  # the timeframe "each candle as the snapshots carry it", whatever its length


def timeframe_seconds(timeframe: Any) -> int | None:
    """A timeframe's bar length in seconds; None for ``candle`` (every candle is a bar)."""
    return None if timeframe == CANDLE else parse_timeframe(timeframe)[0]


class SourceWindow:
    """The incremental form of a kind computed from its last ``size`` source values: a
    subclass gives ``value(items)`` on a full window (None before one, as every kind)."""

    __slots__ = ("source", "window")

    def __init__(self, size: int, source: str):
        self.source = source
        self.window = Window(size)

    def update(self, bar: Bar) -> None:
        self.window.push(source_value(bar, self.source))

    def values(self) -> tuple[float | None]:
        return (self.value(self.window.items),) if self.window.full else (None,)

    def value(self, items: deque[float]) -> float | None:
        raise NotImplementedError


class BarBuilder:
    """One-minute candles in, completed bars of one timeframe out (see the module docstring).

    With the timeframe ``candle`` every accepted candle is a bar of its own, complete at once:
    a snapshot file of 5-minute bars (one per snapshot) gives 5-minute indicators, as a
    freqtrade strategy on its ``timeframe`` computes them. A candle is refused whole when a
    field is not finite or its close time is not later than the last accepted one (a repeated
    or late candle), as every feature refuses a reading."""

    __slots__ = ("_bar", "_end", "_last", "seconds")

    def __init__(self, timeframe: Any):
        self.seconds = timeframe_seconds(timeframe)
        self._bar: list[float] | None = None  # [open, high, low, close, volume] of the open bar
        self._end = -math.inf  # the open bar's end time
        self._last = -math.inf  # the last accepted close time

    def update(self, ts: float, o: float, h: float, low: float, c: float, v: float) -> list[Bar]:
        """Feed the candle that opened at ``ts``; returns the bars it completed, oldest first."""
        t = ts + CANDLE_S
        if not (t > self._last and all(math.isfinite(x) for x in (t, o, h, low, c, v))):
            return []
        self._last = t
        if self.seconds is None:
            return [Bar(t, o, h, low, c, 0.0 + v)]
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
            "Bars the indicator reads: `candle` — each candle as the snapshots carry it (one-minute "
            "candles, or the 5-minute bars of a 5-minute snapshot file); or a bar length resampled "
            "from one-minute candles (a whole number of minutes: 1m, 5m, 15m, 1h, 4h, 1d, ...).",
            pattern=r"^([1-9][0-9]{0,4}[mhd]|candle)$",
            default=CANDLE,
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
