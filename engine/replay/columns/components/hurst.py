"""Column form of the ``hurst`` signal component (docs/dry-run.md): what
engine.trading.signals.components.hurst answers after every candle of a recorded series,
computed for the whole series at once, bit-identical to feeding the candles one by one."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from engine.replay.columns.candles import CandleColumns, CandleSeries, accepted_readings
from engine.trading.features import HurstExponent
from engine.trading.signals.answer import Answer, neutral
from engine.trading.signals.components import hurst
from engine.trading.signals.components.hurst import Thresholds, answer, new_state

KIND = hurst.KIND


def _hurst_values(feature: HurstExponent, x: np.ndarray) -> np.ndarray:
    """H (NaN for None) after each accepted log price ``x[j]``, bit-identical to
    ``HurstExponent.update``: its running per-lag sums are sequences of adds/subtracts of
    the same increments in the same order, which ``np.cumsum`` (a sequential accumulate,
    not pairwise) reproduces exactly."""
    n_acc = len(x)
    cap, lags, coef = feature._cap, feature._lags, feature._coef
    j = np.arange(n_acc)
    held = np.minimum(j + 1, cap)  # prices in the ring after push j
    start = feature.min_window  # first push with a value: n - 1 >= min_window
    recompute = np.arange(start, n_acc, feature.recompute_every)
    out = np.full(n_acc, np.nan)
    if len(recompute) == 0:
        return out
    var, nz = [], None
    for lag in lags:
        # d[e] = x[e] - x[e - lag]: the increment pushed at e, removed at e + cap - lag
        d = np.zeros(n_acc)
        d[lag:] = x[lag:] - x[:-lag]
        add = np.where(j >= lag, d, 0.0)
        rem = np.zeros(n_acc)
        if n_acc > cap:
            rem[cap:] = d[lag : n_acc - cap + lag]
        ops1 = np.empty(2 * n_acc)  # per push: drop the oldest, then add
        ops1[0::2], ops1[1::2] = -rem, add
        ops2 = np.empty(2 * n_acc)
        ops2[0::2], ops2[1::2] = -(rem * rem), add * add
        s1 = np.cumsum(ops1)[1::2][recompute]
        s2 = np.cumsum(ops2)[1::2][recompute]
        m = held[recompute] - lag
        mean = s1 / m
        var.append(s2 / m - mean * mean)
        if lag == 1:
            delta = np.zeros(2 * n_acc, dtype=np.int64)
            delta[0::2] = -(rem != 0.0).astype(np.int64)
            delta[1::2] = (j >= 1) & (d != 0.0)
            nz = np.cumsum(delta)[1::2][recompute]
    # _recompute: None on a flat window or a non-positive variance, else
    # h = 0.0 + coef[0]·log var[0] + coef[1]·log var[1] + … (math.log, as the scalar does)
    assert nz is not None  # lag 1 is always the first of the estimator's lags
    ok = nz != 0
    for v in var:
        ok &= v > 0.0
    h = np.zeros(int(ok.sum()))
    for c, v in zip(coef, var):
        h += c * np.fromiter(map(math.log, v[ok].tolist()), dtype=np.float64, count=len(h))
    values = np.full(len(recompute), np.nan)
    values[ok] = h
    # the cached value holds until the next recompute
    slot = np.searchsorted(recompute, j, side="right") - 1
    got = slot >= 0
    out[got] = values[slot[got]]
    return out


def columns(component: Any, candles: CandleSeries, lead_close: np.ndarray | None = None) -> CandleColumns:
    """What ``hurst.evaluate`` / ``hurst.exports`` answer after each candle of ``candles``,
    bit-identical to feeding them one by one through ``hurst.update``. ``lead_close`` is
    ignored (hurst reads only its own candles)."""
    state = new_state(component)
    feature, lookback = state.hurst, (state.closes.maxlen or 1) - 1
    close = np.asarray(candles.close, dtype=np.float64)
    t = np.asarray(candles.ts, dtype=np.float64) + 60.0
    n = len(close)
    accepted = accepted_readings(t, np.isfinite(t) & np.isfinite(close) & (close > 0.0))
    x = np.fromiter(
        map(math.log, close[accepted].tolist()), dtype=np.float64, count=int(accepted.sum())
    )  # math.log, as HurstExponent.update does
    h_acc = _hurst_values(feature, x)
    last = np.cumsum(accepted) - 1  # index of the last accepted price
    h = np.full(n, np.nan)
    fed = last >= 0
    h[fed] = h_acc[last[fed]]
    has_h = ~np.isnan(h)
    change = np.full(n, np.nan)  # closes deque: every candle, accepted or not
    change[lookback:] = close[lookback:] - close[: n - lookback]
    warm = has_h & (np.arange(n) >= lookback)

    th: Thresholds = component.thresholds
    trend = (change > 0.0).astype(np.int8) - (change < 0.0).astype(np.int8)
    follow = h > th.trending_above
    fade = ~follow & (h < th.mean_reverting_below)
    direction = np.where(follow, trend, np.where(fade, -trend, 0)).astype(np.int8)
    direction[~warm] = 0
    confidence = np.minimum(1.0, np.maximum(0.0, np.abs(h - 0.5) / 0.5))
    confidence = np.where(direction != 0, confidence, 0.0)

    def answer_at(k: int) -> Answer:
        if not warm[k]:
            return neutral("warming_up")
        return answer(component, float(h[k]), float(change[k]))

    def exports_at(k: int) -> dict[str, float]:
        return {"hurst": float(h[k])} if has_h[k] else {}

    return CandleColumns(direction=direction, confidence=confidence, answer_at=answer_at, exports_at=exports_at)
