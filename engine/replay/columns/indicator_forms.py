"""Column forms of the declared indicators (engine/trading/indicators), for the dry-run fast path.

:func:`bar_columns` builds, from one symbol's whole candle series, the bars a
:class:`engine.trading.indicators.base.BarBuilder` completes and the candle whose update
completed each; a kind's form (``FORMS[kind](params, bars, source)``) gives each output's
value after every bar (NaN while warming up or undefined), bit-identical to the kind's
``new_state`` fed the same bars; :func:`indicator_columns` maps them back to the candles.
Bit-identical means the same float operations in the same order: sums run left to right
over a window's columns (:func:`rolling_sum`), recurrences (EMA, Wilder's smoothing) run as
tight loops over plain floats, maxima and minima are exact in any order.

A kind without a form here makes the dry-run take the scalar path (RB720 names it).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.replay.columns.candles import CandleSeries, accepted_readings
from engine.trading.indicators import atr, bollinger, ema, highest, lowest, macd, rsi, sma, vwap, zscore
from engine.trading.indicators.base import CANDLE_S, sequential_sum, timeframe_seconds


@dataclass(frozen=True)
class BarColumns:
    """The completed bars of one timeframe, oldest first (float64 arrays of one length)."""

    end: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    emitted_at: np.ndarray  # int64: the candle index whose update completed the bar

    def __len__(self) -> int:
        return len(self.end)

    def source(self, name: str) -> np.ndarray:
        """``base.source_value`` for every bar, with the same operations."""
        if name == "hl2":
            return (self.high + self.low) / 2
        if name == "hlc3":
            return (self.high + self.low + self.close) / 3
        if name == "ohlc4":
            return (self.open + self.high + self.low + self.close) / 4
        return getattr(self, name)


def bar_columns(candles: CandleSeries, timeframe: Any) -> BarColumns:
    """What ``BarBuilder(timeframe)`` completes when fed ``candles`` in order."""
    seconds = timeframe_seconds(timeframe)
    t = np.asarray(candles.ts, dtype=np.float64) + CANDLE_S
    fields = [np.asarray(getattr(candles, f), dtype=np.float64) for f in ("open", "high", "low", "close", "volume")]
    finite = np.isfinite(t)
    for column in fields:
        finite &= np.isfinite(column)
    index = np.flatnonzero(accepted_readings(t, finite, strict=True))
    t = t[index]
    o, h, low, c, v = (column[index] for column in fields)
    n = len(t)
    if n == 0:
        empty = np.empty(0)
        return BarColumns(empty, empty, empty, empty, empty, empty, np.empty(0, np.int64))
    if seconds is None:  # "candle": every accepted candle is a bar, complete at once
        return BarColumns(t, o, h, low, c, 0.0 + v, index)
    end = -np.floor_divide(-t, seconds) * seconds  # as BarBuilder: ceil(t / T) · T
    first = np.ones(n, dtype=bool)
    first[1:] = end[1:] != end[:-1]
    starts = np.flatnonzero(first)
    lasts = np.append(starts[1:] - 1, n - 1)
    closes_on_boundary = t[lasts] == end[lasts]
    done = closes_on_boundary | (lasts + 1 < n)  # the last bar is pending unless it closed on its boundary
    emitted_at = np.where(closes_on_boundary, index[lasts], index[np.minimum(lasts + 1, n - 1)])
    volume = _segment_sums(v, starts, lasts)
    bars = BarColumns(
        end[lasts],
        o[starts],
        np.maximum.reduceat(h, starts),
        np.minimum.reduceat(low, starts),
        c[lasts],
        volume,
        emitted_at,
    )
    return BarColumns(*(np.asarray(column[done]) for column in vars(bars).values()))


def _segment_sums(values: np.ndarray, starts: np.ndarray, lasts: np.ndarray) -> np.ndarray:
    """Each segment's left-to-right sum from 0.0 (BarBuilder adds a bar's volumes in order)."""
    lengths = lasts - starts + 1
    total = np.zeros(len(starts)) + values[starts]
    for offset in range(1, int(lengths.max(initial=1))):
        more = lengths > offset
        total[more] = total[more] + values[starts[more] + offset]
    return total


def rolling_sum(x: np.ndarray, period: int) -> np.ndarray:
    """Per row, the left-to-right sum from 0.0 of the ``period`` values ending there
    (``base.sequential_sum`` of the window); NaN before the window is full."""
    out = np.full(len(x), np.nan)
    if len(x) < period:
        return out
    windows = np.lib.stride_tricks.sliding_window_view(x, period)
    total = np.zeros(len(windows))
    for j in range(period):
        total = total + windows[:, j]
    out[period - 1 :] = total
    return out


def mean_and_deviation(x: np.ndarray, period: int, ddof: int) -> tuple[np.ndarray, np.ndarray]:
    """``base.mean_and_deviation`` of every full window (NaN before the first)."""
    mean = rolling_sum(x, period) / period
    deviation = np.full(len(x), np.nan)
    if len(x) >= period:
        windows = np.lib.stride_tricks.sliding_window_view(x, period)
        m = mean[period - 1 :]
        total = np.zeros(len(windows))
        for j in range(period):
            d = windows[:, j] - m
            total = total + d * d
        deviation[period - 1 :] = np.sqrt(total / (period - ddof))
    return mean, deviation


# ------------------------------------------------------------------ the forms, one per kind


def _ema(params: ema.Params, bars: BarColumns, source: str) -> tuple[np.ndarray, ...]:
    return (np.array(ema.path(bars.source(source).tolist(), params), dtype=np.float64),)


def _sma(params: sma.Params, bars: BarColumns, source: str) -> tuple[np.ndarray, ...]:
    return (rolling_sum(bars.source(source), params.period) / params.period,)


def _wilder(values: list[float], period: int) -> list[float]:
    """``rsi.Wilder`` after each of ``values`` (NaN before the seed), as a loop over floats."""
    nan = float("nan")
    if len(values) < period:
        return [nan] * len(values)
    value = sequential_sum(values[:period]) / period
    out = [nan] * (period - 1) + [value]
    for x in values[period:]:
        value = (value * (period - 1) + x) / period
        out.append(value)
    return out


def _divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, NaN where the denominator is 0 (the scalar forms' None)."""
    out = np.full(len(numerator), np.nan)
    np.divide(numerator, denominator, out=out, where=denominator != 0)
    return out


def _rsi(params: rsi.Params, bars: BarColumns, source: str) -> tuple[np.ndarray, ...]:
    x = bars.source(source)
    if len(x) < 2:
        return (np.full(len(x), np.nan),)
    d = x[1:] - x[:-1]
    gain = np.array(_wilder(np.where(d > 0, d, 0.0).tolist(), params.period))
    loss = np.array(_wilder(np.where(d < 0, -d, 0.0).tolist(), params.period))
    return (np.append(np.nan, _divide(100 * gain, gain + loss)),)


def _atr(params: atr.Params, bars: BarColumns, source: str) -> tuple[np.ndarray, ...]:
    spread = bars.high - bars.low
    tr = spread.copy()
    if len(tr) > 1:
        previous = bars.close[:-1]
        up, down = np.abs(bars.high[1:] - previous), np.abs(bars.low[1:] - previous)
        tr[1:] = np.maximum(np.maximum(spread[1:], up), down)
    return (np.array(_wilder(tr.tolist(), params.period), dtype=np.float64),)


def _bollinger(params: bollinger.Params, bars: BarColumns, source: str) -> tuple[np.ndarray, ...]:
    mean, deviation = mean_and_deviation(bars.source(source), params.period, params.ddof)
    width = params.stddev * deviation
    return (mean + width, mean, mean - width)


def _macd(params: macd.Params, bars: BarColumns, source: str) -> tuple[np.ndarray, ...]:
    x = bars.source(source).tolist()
    fast, slow = ema.path(x, params.line(params.fast)), ema.path(x, params.line(params.slow))
    line = [f - s for f, s in zip(fast, slow)]  # NaN until both EMAs have a value
    first = next((k for k, v in enumerate(line) if not math.isnan(v)), len(line))
    signal = [float("nan")] * first + ema.path(line[first:], params.line(params.signal))
    line_, signal_ = np.array(line, dtype=np.float64), np.array(signal, dtype=np.float64)
    return (line_, signal_, line_ - signal_)


def _zscore(params: zscore.Params, bars: BarColumns, source: str) -> tuple[np.ndarray, ...]:
    x = bars.source(source)
    mean, deviation = mean_and_deviation(x, params.period, params.ddof)
    return (_divide(x - mean, deviation),)  # NaN while warming up: NaN / NaN


def _vwap(params: vwap.Params, bars: BarColumns, source: str) -> tuple[np.ndarray, ...]:
    typical = (bars.high + bars.low + bars.close) / 3
    traded, volume = rolling_sum(typical * bars.volume, params.period), rolling_sum(bars.volume, params.period)
    return (_divide(traded, volume),)


def _extreme(x: np.ndarray, period: int, reduce: Callable[..., np.ndarray]) -> np.ndarray:
    """``reduce`` (np.max / np.min) of every full window; NaN before the first."""
    out = np.full(len(x), np.nan)
    if len(x) >= period:
        out[period - 1 :] = reduce(np.lib.stride_tricks.sliding_window_view(x, period), axis=1)
    return out


def _highest(params: highest.Params, bars: BarColumns, source: str) -> tuple[np.ndarray, ...]:
    return (_extreme(bars.source(source), params.period, np.max),)


def _lowest(params: lowest.Params, bars: BarColumns, source: str) -> tuple[np.ndarray, ...]:
    return (_extreme(bars.source(source), params.period, np.min),)


Form = Callable[[Any, BarColumns, str], tuple[np.ndarray, ...]]

#: indicator kind → its column form (optional per kind).
FORMS: Mapping[str, Form] = {
    ema.KIND: _ema,
    sma.KIND: _sma,
    rsi.KIND: _rsi,
    atr.KIND: _atr,
    bollinger.KIND: _bollinger,
    macd.KIND: _macd,
    zscore.KIND: _zscore,
    vwap.KIND: _vwap,
    highest.KIND: _highest,
    lowest.KIND: _lowest,
}


def indicator_columns(form: Form, params: Any, bars: BarColumns, source: str, m: int) -> tuple[np.ndarray, ...]:
    """Each output's value after each of the ``m`` candles: the value after the last bar
    completed by then (NaN before the first)."""
    done = np.cumsum(np.bincount(bars.emitted_at, minlength=m)[:m]) - 1
    return tuple(np.append(np.asarray(out, dtype=np.float64), np.nan)[done] for out in form(params, bars, source))
