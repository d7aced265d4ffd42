"""Column form of :class:`engine.trading.signals.market.MarketState`'s candle-fed features.

For a whole recorded candle series, :func:`market_columns` computes at once what
``MarketState.env()`` would hold after each candle: index ``k`` is the state after the
first ``k + 1`` candles were fed (each as ``close_ts = ts + 60``, ``close``), NaN where
``env()`` would omit the value. The values are bit-identical to the scalar path, so a
dry-run on columns reproduces the scalar run's trades exactly. How:

* acceptance: every scalar feature ignores a non-finite reading and a timestamp going
  backwards (the bar closers and EMAs also an equal one). The last accepted timestamp is
  always the running maximum of the *finite* timestamps seen before (a finite reading
  that was refused never exceeded it), so acceptance is a vectorised comparison with a
  shifted running maximum (:func:`accepted_mask`);
* the 1h price change: a window push keeps the accepted entries with
  ``ts > now - 3600``; the oldest is found by ``searchsorted`` on the accepted times;
* bars (:func:`completed_bars`): accepted closes are grouped by bar
  (``ceil(t / T)``, the same float floor division as ``BarCloser``); a bar completes
  with its group's last close, at that close when it sits on the boundary, else at the
  next accepted close;
* EMAs are sequential recurrences: :func:`ema_path` runs them as a tight loop over
  plain floats with exactly :class:`engine.trading.features.Ema`'s arithmetic;
* everything else is elementwise IEEE arithmetic (``-``, ``/``, ``*``) in the scalar
  order, which numpy rounds exactly like Python floats.

Snapshot fields that are not candles (price, spread, taker ratio, ...) stay with the
caller, as does the ``is_leader`` flag.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.replay.columns.candles import CandleSeries, accepted_readings
from engine.trading.features import BarCloser, Ema, EmaCross, MultiTimeframeAlignment
from engine.trading.signals.market import MTF_EMA_PERIOD, PRICE_CHANGE_WINDOW_S, market_windows

CANDLE_CLOSE_S = 60.0  # MarketState feeds a candle at its close time, ts + 60


@dataclass(frozen=True)
class MarketColumns:
    """``MarketState.env()`` values after each candle ``k`` (NaN where env() omits them)."""

    price_change_pct: np.ndarray  # float64[M]
    ema_spread_pct: np.ndarray  # float64[M]
    mtf_long: np.ndarray  # float64[M]
    mtf_short: np.ndarray  # float64[M]


# -- shared building blocks (also used by engine.replay.columns.correlation) ----------------------


def accepted_mask(ts: np.ndarray, values: np.ndarray, *, strict: bool) -> np.ndarray:
    """Which readings an incremental feature accepts: finite ``ts`` and value, and ``ts`` not
    before the last accepted one (``strict``: after it, as ``next_ts``; otherwise an equal
    ``ts`` is accepted too, as ``TimeWindow.push`` does)."""
    return accepted_readings(ts, np.isfinite(ts) & np.isfinite(values), strict=strict)


def completed_bars(t: np.ndarray, close: np.ndarray, index: np.ndarray, seconds: int):
    """Bars a :class:`engine.trading.features.BarCloser` of ``seconds`` completes.

    ``t``/``close``: the accepted readings (strictly increasing ``t``); ``index``: the
    candle index of each. Returns ``(emitted_at, close, end)`` per completed bar, oldest
    first: the candle index whose update returned the bar, its close and its end time.
    """
    n = len(t)
    if n == 0:
        return np.empty(0, np.int64), np.empty(0), np.empty(0)
    end = -np.floor_divide(-t, seconds)  # ceil(t / T), as BarCloser._observe
    boundary = t == end * seconds
    last = np.ones(n, dtype=bool)  # the last reading of each bar
    last[:-1] = end[1:] != end[:-1]
    g = np.flatnonzero(last)
    nxt = np.minimum(g + 1, n - 1)
    done = boundary[g] | (g + 1 < n)  # the open bar at the end is still pending
    emitted_at = np.where(boundary[g], index[g], index[nxt])
    return emitted_at[done], close[g][done], (end[g] * seconds)[done]


def ema_path(values: list[float], period: int) -> list[float]:
    """``Ema(period=period).value`` after each of ``values`` (NaN while warming up).

    The same arithmetic in the same order as :meth:`engine.trading.features.Ema.update`: the
    seed is a sequential float sum divided by ``period``, then ``v += alpha * (x - v)``.
    """
    alpha = Ema(period=period)._alpha  # validates period; one source for alpha
    n = len(values)
    if n < period:
        return [float("nan")] * n
    seed = 0.0
    for x in values[:period]:
        seed += x
    value = seed / period
    out = [float("nan")] * (period - 1)
    out.append(value)
    append = out.append
    for x in values[period:]:
        value += alpha * (x - value)
        append(value)
    return out


def bars_done_by(emitted_at: np.ndarray, m: int) -> np.ndarray:
    """For each candle index k < m, how many bars were completed by candles 0..k."""
    return np.cumsum(np.bincount(emitted_at, minlength=m)[:m])


# -- the market features ---------------------------------------------------------------------


def _price_change(close_ts: np.ndarray, close: np.ndarray) -> np.ndarray:
    acc = accepted_mask(close_ts, close, strict=False)
    ta, ca = close_ts[acc], close[acc]
    first = np.searchsorted(ta, ta - PRICE_CHANGE_WINDOW_S, side="right")
    held = first <= np.arange(len(ta))  # the window is non-empty after the push
    fv = ca[np.minimum(first, max(len(ta) - 1, 0))]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        pct = np.where(held & (fv > 0), (ca / fv - 1) * 100, np.nan)
    return np.append(pct, np.nan)[np.cumsum(acc) - 1]  # -1 (nothing accepted yet) → NaN


def _ema_spread(bars, fast: int, slow: int, m: int) -> np.ndarray:
    emitted_at, closes, _ = bars
    values = closes.tolist()
    f = np.array(ema_path(values, fast))
    s = np.array(ema_path(values, slow))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        spread = np.where(s != 0.0, (f - s) / s * 100.0, np.nan)
    spread[: slow - 1] = np.nan  # the cross has no value before the slow EMA
    return np.append(spread, np.nan)[bars_done_by(emitted_at, m) - 1]


def _trend(bars, period: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    """(ready, trend) per candle of one MTF timeframe: trend = sign(bar close − EMA)."""
    emitted_at, closes, _ = bars
    ema = np.array(ema_path(closes.tolist(), period))
    ready = np.arange(len(closes)) >= period - 1
    with np.errstate(invalid="ignore"):
        diff = closes - ema
    trend = (diff > 0.0).astype(np.int8) - (diff < 0.0).astype(np.int8)
    done = bars_done_by(emitted_at, m) - 1
    return np.append(ready, False)[done], np.append(trend, np.int8(0))[done]


def market_columns(plan, candles: CandleSeries) -> MarketColumns:
    """What ``MarketState(plan, symbol).env()`` holds after each of ``candles``."""
    windows = market_windows(plan)
    # the scalar features, built only for their validation and parsed timeframes
    reversal = BarCloser(timeframe=windows.reversal_timeframe)
    EmaCross(fast=windows.fast_ema, slow=windows.slow_ema)
    mtf = MultiTimeframeAlignment(timeframes=windows.mtf_timeframes, ema_period=MTF_EMA_PERIOD)

    m = len(candles)
    close_ts = np.asarray(candles.ts, dtype=np.float64) + CANDLE_CLOSE_S
    close = np.asarray(candles.close, dtype=np.float64)

    price_change = _price_change(close_ts, close)

    acc = accepted_mask(close_ts, close, strict=True)  # BarCloser and the MTF: next_ts
    index = np.flatnonzero(acc)
    t, c = close_ts[index], close[index]
    streams: dict[int, tuple] = {}

    def bars_of(seconds: int):
        if seconds not in streams:
            streams[seconds] = completed_bars(t, c, index, seconds)
        return streams[seconds]

    spread = _ema_spread(bars_of(reversal.seconds), windows.fast_ema, windows.slow_ema, m)

    n = np.zeros(m, dtype=np.int64)
    up = np.zeros(m, dtype=np.int64)
    down = np.zeros(m, dtype=np.int64)
    for bars in mtf._bars:
        ready, trend = _trend(bars_of(bars.seconds), mtf.ema_period, m)
        n += ready
        up += ready & (trend > 0)
        down += ready & (trend < 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        mtf_long = np.where(n > 0, up / n, np.nan)
        mtf_short = np.where(n > 0, down / n, np.nan)
    return MarketColumns(price_change, spread, mtf_long, mtf_short)
