"""Rolling return correlation across symbols, for the correlation throttle.

One-minute closes are aggregated into bars of ``interval`` (UTC-aligned, closed bars
only); each symbol keeps its last ``count`` bar returns keyed by bar end. Correlation of
two symbols is Pearson's r over the bar ends both have, computed on demand (only when an
entry is being decided), and unknown (absent) with fewer than ``min_samples`` in common.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Mapping

import numpy as np

from engine.trading.features import BarCloser


def window_count(window_s: float, interval_s: float) -> int:
    """How many bar returns a symbol keeps."""
    return max(2, int(window_s // interval_s))


def bar_timeframe(interval_s: float) -> int:
    """The BarCloser timeframe (seconds) of the return bars."""
    return int(interval_s)


def correlation(ra: Mapping[float, float] | None, rb: Mapping[float, float] | None, min_samples: int) -> float | None:
    """Pearson's r of two return series keyed by bar end (oldest first), over the bar ends
    both have, in the order of ``ra``; None when either is empty, fewer than ``min_samples``
    are in common or either side is flat. Shared by :class:`ReturnCorrelation` and its
    column form (engine.replay.columns.correlation), so both compute exactly the same float.
    NumPy's sums (pairwise, no BLAS) keep it fast and the same on every machine."""
    if not ra or not rb:
        return None
    keys = list(ra)
    if keys == list(rb):  # the usual case: both have every bar end
        xs, ys = np.fromiter(ra.values(), float, len(keys)), np.fromiter(rb.values(), float, len(keys))
    else:
        common = [t for t in keys if t in rb]
        xs, ys = np.array([ra[t] for t in common], dtype=float), np.array([rb[t] for t in common], dtype=float)
    if len(xs) < min_samples or xs.min() == xs.max() or ys.min() == ys.max():
        return None  # a flat side has no correlation (not a rounding residue)
    dx, dy = xs - xs.mean(), ys - ys.mean()
    sxx, syy = float(np.add.reduce(dx * dx)), float(np.add.reduce(dy * dy))
    if sxx <= 0 or syy <= 0:
        return None
    return float(np.add.reduce(dx * dy)) / math.sqrt(sxx * syy)


class ReturnCorrelation:
    def __init__(self, symbols, *, window_s: float, interval_s: float, min_samples: int = 12):
        self.count = window_count(window_s, interval_s)
        self.min_samples = min_samples
        self._bars = {s: BarCloser(timeframe=bar_timeframe(interval_s)) for s in symbols}
        self._last_close: dict[str, float] = {}
        self._returns: dict[str, OrderedDict[float, float]] = {s: OrderedDict() for s in symbols}

    def update(self, snapshot) -> None:
        for name, bars in self._bars.items():
            symbol = snapshot.symbols.get(name)
            if symbol is None:
                continue
            for candle in symbol.candles:
                for end, close in bars.update(candle.ts + 60.0, candle.close):
                    self._push(name, end, close)

    def _push(self, name: str, end: float, close: float) -> None:
        previous = self._last_close.get(name)
        self._last_close[name] = close
        if previous is None or previous <= 0:
            return
        returns = self._returns[name]
        returns[end] = math.log(close / previous)
        while len(returns) > self.count:
            returns.popitem(last=False)

    def between(self, a: str, b: str) -> float | None:
        return correlation(self._returns.get(a), self._returns.get(b), self.min_samples)

    def symbols(self) -> list[str]:
        return list(self._returns)

    def for_symbol(self, symbol: str) -> dict[str, float]:
        """Known correlations of ``symbol`` with every other symbol (unknown ones absent)."""
        out = {}
        for other in self._returns:
            if other != symbol:
                value = self.between(symbol, other)
                if value is not None:
                    out[other] = value
        return out
