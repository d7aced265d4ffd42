"""Column form of the ``lead_lag`` signal component (docs/dry-run.md): what
engine.trading.signals.components.lead_lag answers after every candle of a recorded series,
computed for the whole series at once, bit-identical to feeding the candles one by one."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from engine.replay.columns.candles import CandleColumns, CandleSeries, accepted_readings, running_sums
from engine.trading.features import LeadLag, LeadLagValue
from engine.trading.signals.components import lead_lag
from engine.trading.signals.components.lead_lag import Thresholds, answer, exports_of, new_state

KIND = lead_lag.KIND


def _window_count(nonzero: np.ndarray, window: int) -> np.ndarray:
    """c[q] = nonzero entries among positions q-window+1 .. q (0 for q < window-1)."""
    c = np.concatenate(([0], np.cumsum(nonzero, dtype=np.int64)))
    out = np.zeros(len(nonzero), dtype=np.int64)
    out[window - 1 :] = c[window:] - c[: len(c) - window]
    return out


def _lead_lag_values(
    feature: LeadLag, L: np.ndarray, F: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``LeadLag._value`` after each return pair q (``(has, best_lag, correlation,
    leader_move)`` arrays), bit-identical to the scalar: the first full window is summed
    with the same builtin ``sum`` over the same Python floats in the same order; later
    windows slide the sums by the same increments in the same order (``_running``), with
    the same resets to 0.0; ``_best`` is the same float expressions, element-wise."""
    w, max_lag = feature.window, feature.max_lag
    nq = len(F)
    has = np.zeros(nq, dtype=bool)
    best_lag = np.zeros(nq, dtype=np.int64)
    corr = np.full(nq, np.nan)
    move = np.full(nq, np.nan)
    q0 = w + max_lag - 1  # the return at which nr == window + max_lag
    if nq <= q0:
        return has, best_lag, corr, move
    nv = nq - q0  # q = q0 .. nq-1: _init_sums at q0, _slide after

    def at(a: np.ndarray, back: int) -> np.ndarray:
        return a[q0 - back : nq - back]  # a[q - back] for every q

    def slid(a: np.ndarray, back: int) -> np.ndarray:
        out = np.empty(nv)  # a[q - back] for the slides, 0.0 at q0
        out[0] = 0.0
        out[1:] = a[q0 + 1 - back : nq - back]
        return out

    ys = F[q0 - w + 1 : q0 + 1].tolist()[::-1]  # [F[-1 - k] for k in range(w)]
    y, y_old = slid(F, 0), slid(F, w)
    nzf = at(_window_count(F != 0.0, w), 0)
    reset = nzf == 0
    reset[0] = False  # _init_sums does not reset
    sy, syy = running_sums([sum(ys), sum(yv * yv for yv in ys)], np.stack((y - y_old, y * y - y_old * y_old)), reset)
    n = w
    vy = n * syy - sy * sy
    ok_y = (nzf != 0) & (vy > 0.0)
    l_count = _window_count(L != 0.0, w)
    r_all = np.full((max_lag, nv), -np.inf)
    with np.errstate(invalid="ignore", divide="ignore"):
        for i in range(max_lag):
            lag = i + 1
            xs = L[q0 - lag - w + 1 : q0 - lag + 1].tolist()[::-1]  # [L[-1 - k - lag] for k in range(w)]
            x, x_old = slid(L, lag), slid(L, lag + w)
            nzl = at(l_count, lag)
            reset = nzl == 0
            reset[0] = False
            bases = [sum(xs), sum(xv * xv for xv in xs), sum(xv * yv for xv, yv in zip(xs, ys))]
            sx, sxx, sxy = running_sums(
                bases, np.stack((x - x_old, x * x - x_old * x_old, x * y - x_old * y_old)), reset
            )
            vx = n * sxx - sx * sx
            r = (n * sxy - sx * sy) / np.sqrt(vx * vy)
            r[r > 1.0] = 1.0  # rounding can overshoot; clamp before comparing
            r_all[i] = np.where((nzl != 0) & (vx > 0.0) & ~np.isnan(r), r, -np.inf)
    # the first lag with the highest r (ties to the shorter lag), if any beats -2
    cols = np.arange(nv)
    best = np.argmax(r_all, axis=0)
    best_r = r_all[best, cols]
    found = ok_y & (best_r > -2.0)
    best_r[best_r < -1.0] = -1.0
    # leader move over the best lag: 0.0 + L[q] + L[q-1] + … (left to right)
    moves = np.empty((max_lag, nv))
    moves[0] = 0.0 + at(L, 0)
    for i in range(1, max_lag):
        moves[i] = moves[i - 1] + at(L, i)
    has[q0:] = found
    best_lag[q0:] = np.where(found, best + 1, 0)
    corr[q0:] = np.where(found, best_r, np.nan)
    move[q0:] = np.where(found, moves[best, cols], np.nan)
    return has, best_lag, corr, move


def _logs(a: np.ndarray) -> np.ndarray:
    """math.log element-wise (the scalar's function: np.log may differ in the last bit)."""
    return np.fromiter(map(math.log, a.tolist()), dtype=np.float64, count=len(a))


def columns(component: Any, candles: CandleSeries, lead_close: np.ndarray | None) -> CandleColumns:
    """What ``lead_lag.evaluate`` / ``lead_lag.exports`` answer after each candle of
    ``candles``, bit-identical to feeding them one by one through ``lead_lag.update``.

    ``lead_close[k]``: the leader's close for the candle with the same open ts delivered in
    the same snapshot as candle k, NaN where there was none (:func:`update` skips that
    candle). ``lead_close is None``: this symbol is the leader or there is no leader, so
    the state is never fed and every answer is ``warming_up``."""
    state = new_state(component)
    n = len(candles)
    has = np.zeros(n, dtype=bool)
    best_lag = np.zeros(n, dtype=np.int64)
    corr, move = np.full(n, np.nan), np.full(n, np.nan)
    if lead_close is not None:
        lc = np.asarray(lead_close, dtype=np.float64)
        fc = np.asarray(candles.close, dtype=np.float64)
        if len(lc) != n:
            raise ValueError(f"lead_close has {len(lc)} values for {n} candles")
        t = np.asarray(candles.ts, dtype=np.float64) + 60.0
        accepted = accepted_readings(t, np.isfinite(t) & np.isfinite(lc) & np.isfinite(fc) & (lc > 0.0) & (fc > 0.0))
        lc, fc = lc[accepted], fc[accepted]
        # pair a >= 1 appends return q = a - 1 (math.log, as the scalar does)
        lr, fr = _logs(lc[1:] / lc[:-1]), _logs(fc[1:] / fc[:-1])
        has_q, lag_q, corr_q, move_q = _lead_lag_values(state, lr, fr)
        last_q = np.cumsum(accepted) - 2  # the last return pushed, per candle
        fed = last_q >= 0
        for out, acc in ((has, has_q), (best_lag, lag_q), (corr, corr_q), (move, move_q)):
            out[fed] = acc[last_q[fed]]
    # (math.exp(m) - 1) * 100, as answer() computes it: math.exp, then the same float ops
    move_pct = np.full(n, np.nan)
    move_pct[has] = (
        np.fromiter(map(math.exp, move[has].tolist()), dtype=np.float64, count=int(has.sum())) - 1.0
    ) * 100.0

    th: Thresholds = component.thresholds
    product = move_pct * corr
    strong = (
        has & ~(np.abs(corr) < th.min_correlation) & ~((np.abs(move_pct) < th.min_leader_move_pct) | (move_pct == 0.0))
    )
    direction = np.where(strong, (product > 0.0).astype(np.int8) - (product < 0.0).astype(np.int8), 0).astype(np.int8)
    confidence = np.where(strong, np.minimum(1.0, np.maximum(0.0, np.abs(corr))), 0.0)

    def value_at(k: int) -> LeadLagValue | None:
        return LeadLagValue(int(best_lag[k]), float(corr[k]), float(move[k])) if has[k] else None

    return CandleColumns(
        direction=direction,
        confidence=confidence,
        answer_at=lambda k: answer(component, value_at(k)),
        exports_at=lambda k: exports_of(value_at(k)),
    )
