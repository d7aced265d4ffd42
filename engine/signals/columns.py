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

from dataclasses import dataclass
from typing import Callable

import numpy as np

from engine.signals.answer import Answer

DIRECTION_CODE = {"LONG": 1, "SHORT": -1, "NEUTRAL": 0}


@dataclass(frozen=True)
class CandleSeries:
    """One symbol's candles in delivery order (open times ``ts``; a candle closes at ts + 60)."""

    ts: np.ndarray        # float64[M]
    open: np.ndarray      # float64[M]
    high: np.ndarray      # float64[M]
    low: np.ndarray       # float64[M]
    close: np.ndarray     # float64[M]
    volume: np.ndarray    # float64[M]

    def __len__(self) -> int:
        return len(self.ts)


@dataclass(frozen=True)
class CandleColumns:
    """A candle-fed component after each candle ``k`` (arrays of length M)."""

    direction: np.ndarray                 # int8: +1 LONG, −1 SHORT, 0 NEUTRAL
    confidence: np.ndarray                # float64
    answer_at: Callable[[int], Answer]    # == module.evaluate(component, state after candle k)
    exports_at: Callable[[int], dict]     # == module.exports(state after candle k)
