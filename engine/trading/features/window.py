"""Rolling windows of ``(ts, value)`` with O(1) statistics.

Two flavours share one implementation: :class:`TimeWindow` keeps entries younger than
``seconds`` (the window is the half-open interval ``(now - seconds, now]``) and
:class:`CountWindow` keeps the last ``n`` entries.

Why running sums with guards rather than re-summing: the signal stage has ~100 µs per
symbol-cycle, so statistics must be O(1). Running sums drift and cancel, so:

* values are shifted by ``k`` (the oldest value at the last refresh) and timestamps by
  ``x0`` before squaring, which keeps variance and slope well conditioned;
* every ``max(len, 32)`` pushes the sums are recomputed exactly from the entries
  (amortised O(1)), so rounding never accumulates over a long run;
* when every value in the window is identical (tracked as the length of the run of equal
  values at the tail) ``sum``/``mean``/``variance``/``slope`` are exact: a flat funding
  rate has variance 0.0, not 1e-38, so a z-score is honestly undefined.

Unlike the feature calculators, a window accepts an equal timestamp (several events may
share one); only a decreasing timestamp or a non-finite value is refused.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from typing import Any

from ._common import FLOATS, INT, LAST_TS, OPT_TUPLE, TUPLE_DEQUE, Feature, check_int, check_positive, num

_REFRESH_MIN = 32


class _Window(Feature):
    __slots__ = (
        "_d",
        "_evicted",
        "_k",
        "_pushes",
        "_run",
        "_s1",
        "_s2",
        "_sv",
        "_sx",
        "_sxx",
        "_sxy",
        "_x0",
    )
    # Saved after the subclass's parameter (``seconds`` or ``n``).
    _STATE = (
        ("entries", "_d", TUPLE_DEQUE),
        ("sums", "_sums", FLOATS),
        ("run", "_run", INT),
        ("pushes", "_pushes", INT),
        LAST_TS,
        ("evicted", "_evicted", OPT_TUPLE),
    )

    def __init__(self) -> None:
        super().__init__()
        self._d: deque[tuple[float, float]] = deque()
        self._reset_sums()
        self._run = 0
        self._pushes = 0
        self._evicted: tuple[float, float] | None = None

    # -- mutation ------------------------------------------------------------------
    def push(self, ts: Any, value: Any) -> bool:
        """Append a reading; False (and no change) if ts goes backwards or a number is bad."""
        t = num(ts)
        v = num(value)
        if t is None or v is None or (self._last_ts is not None and t < self._last_ts):
            return False
        self._last_ts = t
        self._append(t, v)
        self._evict(t)
        self._pushes += 1
        if self._pushes >= _REFRESH_MIN and self._pushes >= len(self._d):
            self._refresh()
        return True

    def _append(self, t: float, v: float) -> None:
        d = self._d
        if not d:
            self._reset_sums()
            self._k, self._x0 = v, t
            self._run = 0
        self._run = self._run + 1 if d and d[-1][1] == v else 1
        d.append((t, v))
        x = t - self._x0
        y = v - self._k
        self._sv += v
        self._s1 += y
        self._s2 += y * y
        self._sx += x
        self._sxx += x * x
        self._sxy += x * y

    def _pop_left(self) -> None:
        t, v = self._d.popleft()
        self._evicted = (t, v)
        if not self._d:
            self._reset_sums()
            self._run = 0
            return
        x = t - self._x0
        y = v - self._k
        self._sv -= v
        self._s1 -= y
        self._s2 -= y * y
        self._sx -= x
        self._sxx -= x * x
        self._sxy -= x * y

    def _evict(self, now: float) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def _reset_sums(self) -> None:
        self._k = self._x0 = 0.0
        self._sv = self._s1 = self._s2 = self._sx = self._sxx = self._sxy = 0.0

    def _refresh(self) -> None:
        """Recompute every sum exactly, re-centred on the oldest entry."""
        self._pushes = 0
        d = self._d
        if not d:
            self._reset_sums()
            return
        x0, k = d[0]
        sv = s1 = s2 = sx = sxx = sxy = 0.0
        for t, v in d:
            x = t - x0
            y = v - k
            sv += v
            s1 += y
            s2 += y * y
            sx += x
            sxx += x * x
            sxy += x * y
        self._x0, self._k = x0, k
        self._sv, self._s1, self._s2 = sv, s1, s2
        self._sx, self._sxx, self._sxy = sx, sxx, sxy

    # -- queries -------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._d)

    def __iter__(self) -> Iterator[tuple[float, float]]:
        return iter(self._d)

    def values(self) -> list[float]:
        return [v for _, v in self._d]

    @property
    def all_same(self) -> bool:
        """True when the window is non-empty and every value in it is identical."""
        return 0 < len(self._d) <= self._run

    @property
    def first(self) -> tuple[float, float] | None:
        return self._d[0] if self._d else None

    @property
    def last(self) -> tuple[float, float] | None:
        return self._d[-1] if self._d else None

    @property
    def evicted(self) -> tuple[float, float] | None:
        """The most recently evicted entry: for a TimeWindow, the as-of value at now - seconds."""
        return self._evicted

    @property
    def sum(self) -> float:
        n = len(self._d)
        if n == 0:
            return 0.0
        if n <= self._run:
            return n * self._d[-1][1]
        return self._sv

    @property
    def mean(self) -> float | None:
        n = len(self._d)
        if n == 0:
            return None
        if n <= self._run:
            return self._d[-1][1]
        return self._sv / n

    def variance(self, ddof: int = 0) -> float | None:
        """Variance of the values (``ddof=1`` for the sample variance); None if n <= ddof."""
        n = len(self._d)
        if n <= ddof:
            return None
        if n <= self._run:
            return 0.0
        var = (self._s2 - self._s1 * self._s1 / n) / (n - ddof)
        return var if var > 0.0 else 0.0

    def stdev(self, ddof: int = 0) -> float | None:
        var = self.variance(ddof)
        return None if var is None else var**0.5

    @property
    def slope(self) -> float | None:
        """Least-squares slope of value against ts, in value units per second."""
        n = len(self._d)
        if n < 2:
            return None
        den = n * self._sxx - self._sx * self._sx
        if den <= 0.0:
            return None
        if n <= self._run:
            return 0.0
        return (n * self._sxy - self._sx * self._s1) / den

    # -- persistence ---------------------------------------------------------------
    # last_ts (from Feature) is the ts of the last accepted push, even if that entry
    # was evicted since.
    @property
    def _sums(self) -> list[float]:
        return [self._k, self._x0, self._sv, self._s1, self._s2, self._sx, self._sxx, self._sxy]

    @_sums.setter
    def _sums(self, sums: list[float]) -> None:
        (self._k, self._x0, self._sv, self._s1, self._s2, self._sx, self._sxx, self._sxy) = sums


class TimeWindow(_Window):
    """Entries with ``now - seconds < ts <= now``; ``now`` is the latest push or ``advance``."""

    __slots__ = ("seconds",)
    _PARAMS = ("seconds",)

    def __init__(self, seconds: float) -> None:
        self.seconds = check_positive("seconds", seconds)
        super().__init__()

    def _evict(self, now: float) -> None:
        cutoff = now - self.seconds
        d = self._d
        while d and d[0][0] <= cutoff:
            self._pop_left()

    def advance(self, now: Any) -> None:
        """Evict by age without adding a reading (e.g. to read a sum at a later time)."""
        t = num(now)
        if t is not None:
            self._evict(t)


class CountWindow(_Window):
    """The last ``n`` entries."""

    __slots__ = ("n",)
    _PARAMS = ("n",)

    def __init__(self, n: int) -> None:
        self.n = check_int("n", n, 1)
        super().__init__()

    def _evict(self, now: float) -> None:
        d = self._d
        while len(d) > self.n:
            self._pop_left()

    @property
    def full(self) -> bool:
        return len(self._d) >= self.n
