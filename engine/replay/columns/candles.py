"""Column forms of the signal stage, for the dry-run fast path (docs/dry-run.md).

The scalar signal stage advances incremental features one snapshot at a time; over a
recorded history the same values can be computed for a whole series at once. This module
holds the shapes both sides agree on:

* :class:`CandleSeries` — one symbol's one-minute candles, in the order the snapshots
  delivered them (index ``k`` = the k-th candle fed to the features);
* :class:`CandleColumns` — what a candle-fed component answers after each candle ``k``:
  ``direction``/``confidence`` as arrays for the vectorised vote, and ``answer_at(k)`` /
  ``exports_at(k)`` giving exactly what the scalar module's ``evaluate``/``exports``
  would return after the same candles (the full Answer is built only where a decision
  needs it).

Staleness and overrides are applied by the caller, exactly as the scalar engine does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from engine.trading.signals.answer import Answer

DIRECTION_CODE = {"LONG": 1, "SHORT": -1, "NEUTRAL": 0}
DIRECTION_NAME = {code: name for name, code in DIRECTION_CODE.items()}


@dataclass(frozen=True)
class CandleSeries:
    """One symbol's candles in delivery order (open times ``ts``; a candle closes at ts + 60)."""

    ts: np.ndarray  # float64[M]
    open: np.ndarray  # float64[M]
    high: np.ndarray  # float64[M]
    low: np.ndarray  # float64[M]
    close: np.ndarray  # float64[M]
    volume: np.ndarray  # float64[M]

    def __len__(self) -> int:
        return len(self.ts)


@dataclass(frozen=True)
class CandleColumns:
    """A candle-fed component after each candle ``k`` (arrays of length M)."""

    direction: np.ndarray  # int8: +1 LONG, −1 SHORT, 0 NEUTRAL
    confidence: np.ndarray  # float64
    answer_at: Callable[[int], Answer]  # == module.evaluate(component, state after candle k)
    exports_at: Callable[[int], dict]  # == module.exports(state after candle k)


def accepted_readings(t: np.ndarray, valid: np.ndarray, *, strict: bool = True) -> np.ndarray:
    """Which readings an incremental feature lets through, fed in order: valid, and ``t``
    later than every earlier accepted one (``strict``, as ``next_ts`` does) or not earlier
    (as ``TimeWindow.push`` does). A valid reading that was refused is not later than the
    last accepted ``t``, so the running max over all valid readings is the same."""
    prior = np.full(len(t), -np.inf)
    if len(t) > 1:
        np.maximum.accumulate(np.where(valid, t, -np.inf)[:-1], out=prior[1:])
    return valid & ((t > prior) if strict else (t >= prior))


def running_sums(base, inc: np.ndarray, reset: np.ndarray) -> np.ndarray:
    """Running sums as a scalar loop keeps them, for each row of ``inc`` (rows × n; the rows
    share ``reset``): ``out[i] = 0.0 if reset[i] else out[i-1] + inc[i]``, ``out[-1] = base``.
    Summed left to right exactly as the loop would (``np.cumsum`` accumulates sequentially,
    it is not pairwise); each run restarts from a literal 0.0 so even the sign of a zero
    matches."""
    rows, n = inc.shape
    out = np.zeros((rows, n))
    runs: Iterable[tuple[int, int]]  # (start, end) of each run without a reset
    if reset.any():
        keep = np.concatenate(([0], (~reset).astype(np.int8), [0]))
        edges = np.flatnonzero(np.diff(keep)).tolist()
        runs = zip(edges[0::2], edges[1::2])
    else:
        runs = [(0, n)]
    for start, end in runs:
        buf = np.empty((rows, end - start + 1))
        buf[:, 0] = base if start == 0 else 0.0
        buf[:, 1:] = inc[:, start:end]
        out[:, start:end] = np.cumsum(buf, axis=1)[:, 1:]
    return out
