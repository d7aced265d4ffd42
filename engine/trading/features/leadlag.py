"""BTC → altcoin lead-lag: which lag of the leader's returns best predicts the follower's."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Any

from ._common import FLOAT, FLOAT_DEQUE, FLOATS, INT, INTS, LAST_TS, OPT_FLOAT, Feature, check_int, read_only, record


@dataclass(frozen=True, slots=True)
class LeadLagValue:
    """``best_lag`` samples (1..max_lag) at which the leader's return correlates best
    (highest Pearson r, ties to the shorter lag) with the follower's, that ``correlation``,
    and ``leader_move``: the leader's log return over its last ``best_lag`` samples, i.e.
    the move the follower has not yet had time to echo (its predicted direction when the
    correlation is positive)."""

    best_lag: int
    correlation: float
    leader_move: float


class LeadLag(Feature):
    """Rolling lagged correlation of leader (BTC) and follower (alt) log returns.

    ``update(ts, leader_close, follower_close)`` with both closes taken at the same ts.
    For each lag ℓ in 1..max_lag it keeps running sums over the pairs
    ``(leader_ret[t-ℓ-k], follower_ret[t-k])``, k = 0..window-1, so an update is
    O(max_lag). ``value`` is None until ``window + max_lag`` returns were seen, and None
    when no lag has a defined correlation (a stream was flat over the window).
    """

    __slots__ = (
        "_f",
        "_l",
        "_nr",
        "_nzf",
        "_nzl",
        "_prev_f",
        "_prev_l",
        "_sx",
        "_sxx",
        "_sxy",
        "_sy",
        "_syy",
        "_value",
        "max_lag",
        "window",
    )
    _PARAMS = ("window", "max_lag")
    _STATE = (
        ("prev_leader", "_prev_l", OPT_FLOAT),
        ("prev_follower", "_prev_f", OPT_FLOAT),
        ("returns_seen", "_nr", INT),
        ("leader_returns", "_l", FLOAT_DEQUE),
        ("follower_returns", "_f", FLOAT_DEQUE),
        ("sy", "_sy", FLOAT),
        ("syy", "_syy", FLOAT),
        ("nzf", "_nzf", INT),
        ("sx", "_sx", FLOATS),
        ("sxx", "_sxx", FLOATS),
        ("sxy", "_sxy", FLOATS),
        ("nzl", "_nzl", INTS),
        ("value", "_value", record(LeadLagValue, int, float, float)),
        LAST_TS,
    )

    def __init__(self, *, window: int, max_lag: int) -> None:
        super().__init__()
        self.window = check_int("window", window, 3)
        self.max_lag = check_int("max_lag", max_lag, 1)
        self._prev_l: float | None = None
        self._prev_f: float | None = None
        self._nr = 0  # returns seen
        self._l: deque[float] = deque(maxlen=self.window + self.max_lag + 1)
        self._f: deque[float] = deque(maxlen=self.window + 1)
        self._sy = self._syy = 0.0
        self._nzf = 0  # non-zero follower returns in window
        self._sx = [0.0] * self.max_lag  # per lag, index lag-1
        self._sxx = [0.0] * self.max_lag
        self._sxy = [0.0] * self.max_lag
        self._nzl = [0] * self.max_lag  # non-zero leader returns per lag window
        self._value: LeadLagValue | None = None

    def update(self, ts: Any, leader_close: Any, follower_close: Any) -> None:
        t, lc, fc = self._reading2(ts, leader_close, follower_close)
        if t is None or lc is None or fc is None or lc <= 0.0 or fc <= 0.0:
            return
        self._last_ts = t
        prev_l, prev_f = self._prev_l, self._prev_f
        self._prev_l, self._prev_f = lc, fc
        if prev_l is None or prev_f is None:  # set together: both None before the first reading
            return
        self._l.append(math.log(lc / prev_l))
        self._f.append(math.log(fc / prev_f))
        self._nr += 1
        full = self.window + self.max_lag
        if self._nr < full:
            return
        if self._nr == full:
            self._init_sums()
        else:
            self._slide()
        self._value = self._best()

    def _init_sums(self) -> None:
        L, F, w = self._l, self._f, self.window
        ys = [F[-1 - k] for k in range(w)]
        self._sy = sum(ys)
        self._syy = sum(y * y for y in ys)
        self._nzf = sum(1 for y in ys if y != 0.0)
        for i in range(self.max_lag):
            lag = i + 1
            xs = [L[-1 - k - lag] for k in range(w)]
            self._sx[i] = sum(xs)
            self._sxx[i] = sum(x * x for x in xs)
            self._sxy[i] = sum(x * y for x, y in zip(xs, ys))
            self._nzl[i] = sum(1 for x in xs if x != 0.0)

    def _slide(self) -> None:
        L, F, w = self._l, self._f, self.window
        y, y_old = F[-1], F[-1 - w]
        nzf = self._nzf + (y != 0.0) - (y_old != 0.0)
        self._nzf = nzf
        if nzf:
            self._sy += y - y_old
            self._syy += y * y - y_old * y_old
        else:  # flat follower: exact zeros, not rounding residue
            self._sy = self._syy = 0.0
        sx, sxx, sxy, nzl = self._sx, self._sxx, self._sxy, self._nzl
        old = -2 - w
        for i in range(self.max_lag):
            x = L[-2 - i]  # leader return lag i+1 before the newest follower one
            x_old = L[old - i]  # the pair that left the window
            nz = nzl[i] + (x != 0.0) - (x_old != 0.0)
            nzl[i] = nz
            if nz:
                sx[i] += x - x_old
                sxx[i] += x * x - x_old * x_old
                sxy[i] += x * y - x_old * y_old
            else:
                sx[i] = sxx[i] = sxy[i] = 0.0

    def _best(self) -> LeadLagValue | None:
        if self._nzf == 0:
            return None
        n = self.window
        sy = self._sy
        vy = n * self._syy - sy * sy
        if vy <= 0.0:
            return None
        best_lag, best_r = self._best_lag(n, sy, vy)
        if best_lag == 0:
            return None
        return LeadLagValue(best_lag, max(best_r, -1.0), self._leader_move(best_lag))

    def _best_lag(self, n: int, sy: float, vy: float) -> tuple[int, float]:
        """The lag (1-based; 0: none defined) with the highest correlation, and that correlation."""
        best_lag, best_r = 0, -2.0
        sqrt = math.sqrt
        for i, (nz, sx, sxx, sxy) in enumerate(zip(self._nzl, self._sx, self._sxx, self._sxy)):
            if not nz:
                continue
            vx = n * sxx - sx * sx
            if vx <= 0.0:
                continue
            r = (n * sxy - sx * sy) / sqrt(vx * vy)
            if r > 1.0:  # rounding can overshoot; clamp before comparing
                r = 1.0
            if r > best_r:
                best_lag, best_r = i + 1, r
        return best_lag, best_r

    def _leader_move(self, lag: int) -> float:
        """The leader's summed log return over the last ``lag`` minutes (newest first, as kept)."""
        L = self._l
        move = 0.0
        for j in range(1, lag + 1):
            move += L[-j]
        return move

    value = read_only(
        "_value",
        "The best lag, its correlation and the leader's move; None "
        "while warming up or when no lag has a defined correlation.",
    )
