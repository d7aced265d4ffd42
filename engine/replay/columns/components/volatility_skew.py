"""Column form of the ``volatility_skew`` signal component (docs/dry-run.md): what
engine.trading.signals.components.volatility_skew answers after every candle of a recorded
series, computed for the whole series at once, bit-identical to feeding the candles one by
one."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from engine.replay.columns.candles import CandleColumns, CandleSeries, accepted_readings, running_sums
from engine.trading.features import SkewValue
from engine.trading.signals.components import volatility_skew
from engine.trading.signals.components.volatility_skew import Params, answer, exports_of, new_state

KIND = volatility_skew.KIND


def _semi_sum(
    r: np.ndarray, old: np.ndarray, side_mask: Callable[[np.ndarray], np.ndarray], window: int
) -> tuple[np.ndarray, np.ndarray]:
    """One side's ``_neg2``/``_pos2`` after each pushed return (``_push``: add the new
    return, then drop the one that left the window), and its ``_nz_*`` count."""
    n = len(r)
    j = np.arange(n)
    new_in = side_mask(r)
    old_out = (j >= window) & side_mask(old)
    ops = np.empty(2 * n)
    ops[0::2] = np.where(new_in, r * r, 0.0)
    ops[1::2] = np.where(old_out, -(old * old), 0.0)
    delta = np.empty(2 * n, dtype=np.int64)
    delta[0::2], delta[1::2] = new_in, -old_out.astype(np.int64)
    count = np.cumsum(delta)
    total = running_sums([0.0], ops[None, :], count == 0)[0]  # the scalar resets the sum to 0.0 at count 0
    return total[1::2], count[1::2]


def columns(component: Any, candles: CandleSeries, lead_close: np.ndarray | None = None) -> CandleColumns:
    """What ``volatility_skew.evaluate`` / ``volatility_skew.exports`` answer after each
    candle of ``candles``, bit-identical to feeding them one by one through
    ``volatility_skew.update``.

    Candles only: the proxy from one-minute returns. A snapshot's ``implied_skew`` is not
    handled here; when a recording carries implied skew the caller must use the scalar
    path. ``lead_close`` is ignored."""
    state = new_state(component)
    window = state.skew.window
    close = np.asarray(candles.close, dtype=np.float64)
    t = np.asarray(candles.ts, dtype=np.float64) + 60.0
    n = len(close)
    # update(): candle k > 0 feeds log(close[k] / close[k-1]) (last_close moves on every
    # candle, even when the feature refuses the reading for its ts)
    ratio = close[1:] / close[:-1]
    ratio_ok = np.isfinite(ratio) & (ratio > 0.0)
    ret = np.full(n, np.nan)
    ret[1:][ratio_ok] = np.fromiter(
        map(math.log, ratio[ratio_ok].tolist()), dtype=np.float64, count=int(ratio_ok.sum())
    )  # math.log, as update() does
    accepted = accepted_readings(t, np.isfinite(t) & np.isfinite(ret))
    r = ret[accepted]
    old = np.zeros(len(r))  # the return leaving the window, once it is full
    if len(r) > window:
        old[window:] = r[: len(r) - window]
    neg2, _ = _semi_sum(r, old, lambda v: v < 0.0, window)
    pos2, nz_pos = _semi_sum(r, old, lambda v: v > 0.0, window)
    # value: None until `window` returns, and while no return in the window is positive
    has_acc = (np.arange(len(r)) + 1 >= window) & (nz_pos > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        down_acc = np.sqrt(np.maximum(neg2, 0.0) / window)
        up_acc = np.sqrt(pos2 / window)
        skew_acc = down_acc / up_acc - 1.0
    last = np.cumsum(accepted) - 1  # the last accepted return, per candle
    fed = last >= 0
    has = np.zeros(n, dtype=bool)
    has[fed] = has_acc[last[fed]]
    skew, down, up = (np.full(n, np.nan) for _ in range(3))
    for out, acc in ((skew, skew_acc), (down, down_acc), (up, up_acc)):
        out[fed] = acc[last[fed]]

    params: Params = component.params
    threshold = component.thresholds.min_skew
    multiple = params.full_confidence_multiple
    magnitude = np.abs(skew)
    strong = has & ~((magnitude < threshold) | (skew == 0.0))
    direction = np.where(strong, (skew > 0.0).astype(np.int8) - (skew < 0.0).astype(np.int8), 0).astype(np.int8)
    if threshold <= 0:
        raw = np.ones(n)
    else:
        raw = np.minimum(1.0, magnitude / (threshold * multiple))
    confidence = np.where(strong, np.minimum(1.0, np.maximum(0.0, raw)), 0.0)

    def value_at(k: int) -> SkewValue | None:
        return SkewValue(float(skew[k]), "proxy", float(down[k]), float(up[k])) if has[k] else None

    return CandleColumns(
        direction=direction,
        confidence=confidence,
        answer_at=lambda k: answer(component, value_at(k)),
        exports_at=lambda k: exports_of(value_at(k)),
    )
