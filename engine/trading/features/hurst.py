"""Hurst exponent of a price series, incremental, by the variogram of log prices.

Estimator: for fractional Brownian motion X (log price) the variance of increments obeys
``Var(X[t+τ] - X[t]) = σ² τ^(2H)`` *exactly* at every lag, so H is half the slope of
``log Var(τ)`` against ``log τ``. We use lags 1, 2, 4, …, ``max_lag`` (evenly spaced in
log τ), overlapping increments inside the window, and demean each lag's increments so a
drift (a trend in the mean) does not masquerade as persistence.

Why this one (measured in docs/features.md, 1000 seeds of exact fGn, window 512):

* it is nearly unbiased on short windows (|bias| <= 0.02 for H in 0.3..0.7) with a
  spread of about 0.03; rescaled range (even with the Anis-Lloyd/Peters correction)
  is biased by up to -0.08 at H=0.7 and DFA-1 has twice the spread at H=0.7;
* it is *incremental*: each update adds one increment per lag and removes the one that
  left the window, so an update is O(len(lags)) in pure Python and no numpy is needed.
  The cached estimate (a 4-term regression) is refreshed every ``recompute_every`` updates.

Caveat: lag 1 is the most sensitive to microstructure noise (bid-ask bounce pulls H
down); feed 1-minute closes of liquid markets, or raise the sampling interval.
"""

from __future__ import annotations

import math
from typing import Any

from ._common import FLOATS, INT, LAST_TS, OPT_FLOAT, Feature, check_int, read_only


class HurstExponent(Feature):
    """Rolling Hurst exponent over the last ``window`` log returns of the prices fed in.

    ``update(ts, price)`` takes a positive price. ``value`` is H (0.5 = random walk,
    > 0.5 trending/persistent, < 0.5 mean reverting), None until ``min_window`` returns
    were seen, and None when the window is flat (no price change at all). Values are not
    clipped to [0, 1]: on noisy short windows they can fall slightly outside.
    """

    __slots__ = (
        "_cap",
        "_coef",
        "_computed_ts",
        "_head",
        "_lags",
        "_n",
        "_nz",
        "_ring",
        "_s1",
        "_s2",
        "_since",
        "_value",
        "max_lag",
        "min_window",
        "recompute_every",
        "window",
    )
    _PARAMS = ("window", "recompute_every", "min_window", "max_lag")
    _STATE = (
        ("prices", "_prices", FLOATS),
        ("s1", "_s1", FLOATS),
        ("s2", "_s2", FLOATS),
        ("nz", "_nz", INT),
        ("since", "_since", INT),
        ("value", "_value", OPT_FLOAT),
        ("computed_ts", "_computed_ts", OPT_FLOAT),
        LAST_TS,
    )

    def __init__(
        self, *, window: int, recompute_every: int = 1, min_window: int | None = None, max_lag: int = 8
    ) -> None:
        super().__init__()
        self.max_lag = check_int("max_lag", max_lag, 2)
        if self.max_lag & (self.max_lag - 1):
            raise ValueError(f"max_lag must be a power of two (lags are 1, 2, 4, ...), got {max_lag}")
        self.window = check_int("window", window, 4 * self.max_lag)
        self.recompute_every = check_int("recompute_every", recompute_every, 1)
        mw = self.window if min_window is None else min_window
        self.min_window = check_int("min_window", mw, 4 * self.max_lag)
        if self.min_window > self.window:
            raise ValueError(f"min_window ({self.min_window}) must be <= window ({self.window})")
        self._lags = [1 << i for i in range(self.max_lag.bit_length())]
        xs = [math.log(lag) for lag in self._lags]
        xm = sum(xs) / len(xs)
        sxx = sum((x - xm) ** 2 for x in xs)
        # H = 0.5 * OLS slope = sum(coef_i * log var_i): the weights are fixed, so precompute.
        self._coef = [0.5 * (x - xm) / sxx for x in xs]
        self._cap = self.window + 1  # window returns need window + 1 prices
        self._ring = [0.0] * self._cap
        self._head = 0  # index of the oldest price
        self._n = 0  # prices held
        self._s1 = [0.0] * len(self._lags)  # per lag: sum of increments
        self._s2 = [0.0] * len(self._lags)  # per lag: sum of squared increments
        self._nz = 0  # non-zero 1-step returns in the window
        self._since = 0
        self._value: float | None = None
        self._computed_ts: float | None = None

    def update(self, ts: Any, price: Any) -> None:
        t, p = self._reading(ts, price)
        if t is None or p is None or p <= 0.0:
            return
        self._last_ts = t
        self._push(math.log(p))
        if self._n - 1 < self.min_window:
            return
        self._since += 1
        if self._computed_ts is None or self._since >= self.recompute_every:
            self._recompute(t)

    def _push(self, x: float) -> None:
        ring, cap, lags, s1, s2 = self._ring, self._cap, self._lags, self._s1, self._s2
        if self._n == cap:  # drop the oldest price and its increments
            head = self._head
            old = ring[head]
            for i, lag in enumerate(lags):
                d = ring[(head + lag) % cap] - old
                s1[i] -= d
                s2[i] -= d * d
                if i == 0 and d != 0.0:
                    self._nz -= 1
            newest = head
            self._head = (head + 1) % cap
        else:
            newest = self._n
            self._n += 1
        ring[newest] = x
        n = self._n
        for i, lag in enumerate(lags):
            if lag >= n:
                break
            d = x - ring[(newest - lag) % cap]
            s1[i] += d
            s2[i] += d * d
            if i == 0 and d != 0.0:
                self._nz += 1

    def _recompute(self, t: float) -> None:
        self._since = 0
        self._computed_ts = t
        self._value = None
        if self._nz == 0:
            return
        h = 0.0
        n = self._n
        for i, lag in enumerate(self._lags):
            m = n - lag
            mean = self._s1[i] / m
            var = self._s2[i] / m - mean * mean
            if var <= 0.0:
                return
            h += self._coef[i] * math.log(var)
        self._value = h

    value = read_only("_value", "H, or None while warming up or on a flat window.")

    @property
    def computed_ts(self) -> float | None:
        """ts of the update at which the cached value was computed."""
        return self._computed_ts

    @property
    def samples(self) -> int:
        """Returns currently in the window."""
        return max(self._n - 1, 0)

    # The ring is saved oldest-first, so the state does not depend on the head index.
    @property
    def _prices(self) -> list[float]:
        return [self._ring[(self._head + i) % self._cap] for i in range(self._n)]

    @_prices.setter
    def _prices(self, prices: list[float]) -> None:
        if len(prices) > self._cap:
            raise ValueError("HurstExponent state holds more prices than window + 1")
        self._ring[: len(prices)] = prices
        self._n = len(prices)
        self._head = 0
