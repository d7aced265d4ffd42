"""Column form of :class:`engine.trading.correlation.ReturnCorrelation` for the dry-run.

The scalar tracker is fed every snapshot but asked only at a few thousand moments. Here
each symbol's bar-return stream is computed once from its whole recorded candle series
(bar ends, log returns, and for each number of delivered candles how many returns exist);
``between(a, b, upto)`` then takes the last ``count`` returns of each symbol as the
scalar's dict would hold them and hands both to :func:`engine.trading.correlation.correlation`,
the one function that also computes ``ReturnCorrelation.between``, so both return the
same float.

Why slicing is exact: the scalar keeps an ``OrderedDict`` keyed by bar end and evicts the
oldest beyond ``count``. A BarCloser's bar ends are strictly increasing, so no key is ever
overwritten and the dict is exactly the last ``count`` returns pushed, oldest first.
A bar whose previous bar close is ``<= 0`` pushes no return (but its close is still the
next bar's previous close), as in ``ReturnCorrelation._push``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from engine.replay.columns.candles import CandleSeries
from engine.replay.columns.market import CANDLE_CLOSE_S, accepted_mask, completed_bars
from engine.trading.correlation import bar_timeframe, correlation, window_count
from engine.trading.features import BarCloser


class _Returns:
    """One symbol's bar returns, oldest first, and how many exist after n candles."""

    __slots__ = ("_cached", "after", "ends", "returns")

    def __init__(self, candles: CandleSeries | None, seconds: int, symbol: str):
        self._cached: tuple[int, dict[float, float]] | None = None
        m = 0 if candles is None else len(candles)
        if candles is None or m == 0:
            self.ends = self.returns = np.zeros(0)
            self.after = np.zeros(1, dtype=np.int64)
            return
        ts = np.asarray(candles.ts, dtype=np.float64) + CANDLE_CLOSE_S
        close = np.asarray(candles.close, dtype=np.float64)
        index = np.flatnonzero(accepted_mask(ts, close, strict=True))
        emitted_at, closes, ends = completed_bars(ts[index], close[index], index, seconds)
        if len(ends) > 1 and not (np.diff(ends) > 0).all():  # pragma: no cover - invariant
            raise AssertionError("bar ends must be strictly increasing")
        closes_l, ends_l, emitted_l = closes.tolist(), ends.tolist(), emitted_at.tolist()
        keep = [i for i in range(1, len(closes_l)) if closes_l[i - 1] > 0]
        try:  # math.log, as the scalar tracker; kept as float64 arrays, not lists of Python floats (~6 MB a year)
            self.returns = np.array([math.log(closes_l[i] / closes_l[i - 1]) for i in keep], dtype=np.float64)
        except ValueError as exc:  # the scalar tracker fails the same way at that bar
            bad = next(i for i in keep if not closes_l[i] / closes_l[i - 1] > 0)
            raise ValueError(
                f"{symbol}: bar ending {ends_l[bad]} closes at {closes_l[bad]} after {closes_l[bad - 1]}: {exc}"
            ) from exc
        self.ends = np.array([ends_l[i] for i in keep], dtype=np.float64)
        pushed_at = np.array([emitted_l[i] for i in keep], dtype=np.int64)
        # returns pushed by the first n candles: those emitted at candle index < n
        self.after = np.searchsorted(pushed_at, np.arange(m + 1), side="left")

    def pushed(self, delivered: int) -> int:
        """How many returns exist after ``delivered`` candles (the window is a function of it)."""
        if not 0 <= delivered < len(self.after):
            raise IndexError(f"{delivered} candles delivered, but the series has {len(self.after) - 1}")
        return int(self.after[delivered])

    def window(self, delivered: int, count: int) -> dict[float, float]:
        """The scalar's dict after ``delivered`` candles (read-only: it may be reused)."""
        if not 0 <= delivered < len(self.after):
            raise IndexError(f"{delivered} candles delivered, but the series has {len(self.after) - 1}")
        r = int(self.after[delivered])
        cached = self._cached
        if cached is not None and cached[0] == r:  # one moment asks about several pairs
            return cached[1]
        lo = max(0, r - count)
        window = dict(zip(self.ends[lo:r].tolist(), self.returns[lo:r].tolist()))
        self._cached = (r, window)
        return window


class CorrelationColumns:
    """``ReturnCorrelation.between`` at any moment of a recorded run.

    ``candles[s]``: symbol ``s``'s candles in delivery order (a missing symbol has none).
    """

    def __init__(
        self, symbols, *, window_s: float, interval_s: float, min_samples: int = 12, candles: Mapping[str, CandleSeries]
    ):
        self.count = window_count(window_s, interval_s)
        self.min_samples = min_samples
        seconds = BarCloser(timeframe=bar_timeframe(interval_s)).seconds
        self._streams = {s: _Returns(candles.get(s), seconds, s) for s in symbols}
        self._known: dict[tuple, float | None] = {}  # the value only moves when a bar closes

    def between(self, a: str, b: str, upto: Mapping[str, int]) -> float | None:
        """What ``ReturnCorrelation.between(a, b)`` returns once ``upto[s]`` candles of each
        symbol ``s`` were fed (a symbol absent from ``upto`` has been fed none)."""
        sa, sb = self._streams.get(a), self._streams.get(b)
        key = (
            a,
            b,
            None if sa is None else sa.pushed(upto.get(a, 0)),
            None if sb is None else sb.pushed(upto.get(b, 0)),
        )
        if key not in self._known:
            ra = None if sa is None else sa.window(upto.get(a, 0), self.count)
            rb = None if sb is None else sb.window(upto.get(b, 0), self.count)
            self._known[key] = correlation(ra, rb, self.min_samples)
        return self._known[key]

    def symbols(self) -> list[str]:
        return list(self._streams)


def correlation_cursor(plan, signals, recording) -> CorrelationCursor:
    """The return correlations of the recording, as ReturnCorrelation at the signals' cursor
    (for the dry-run's fast path and explain: here, so explain does not import the dry-run)."""
    from engine.trading.pipeline import correlation_window

    columns = CorrelationColumns(
        plan.ruleset.names(),
        **correlation_window(plan),
        candles={n: s.candles for n, s in recording.symbols.items()},
    )
    return CorrelationCursor(columns, signals, recording)


class CorrelationCursor:
    """ReturnCorrelation's interface over CorrelationColumns, at the signals' cursor."""

    def __init__(self, columns, signals, recording):
        self._columns, self._signals = columns, signals
        self._recorded = set(recording.symbols)

    def update(self, snapshot) -> None:
        return None

    def symbols(self) -> list[str]:
        return self._columns.symbols()

    def at(self, a: str, b: str, i: int) -> float | None:
        """``between(a, b)`` with the cursor at cycle ``i``."""
        return self._columns.between(a, b, {s: i + 1 if s in self._recorded else 0 for s in (a, b)})

    def between(self, a: str, b: str) -> float | None:
        return self.at(a, b, self._signals.cursor)
