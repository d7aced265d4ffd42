"""Sentiment features: Fear & Greed index and the volatility-skew proxy."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Any

from ._common import (
    FLOAT,
    FLOAT_DEQUE,
    INT,
    LAST_TS,
    OPT_FLOAT,
    Feature,
    check_int,
    check_non_negative,
    next_ts,
    num,
    read_only,
    record,
)


@dataclass(frozen=True, slots=True)
class FearGreedValue:
    """The latest index reading (0 = extreme fear, 100 = extreme greed) and its ts."""

    value: float
    ts: float

    def age_seconds(self, now: float) -> float:
        """How old the reading is at ``now``: the caller decides when it is stale."""
        return now - self.ts


class FearGreed(Feature):
    """Latest Fear & Greed reading. The index is daily, so staleness is the caller's check
    (``value.age_seconds(now)`` against the rule's ``max_input_age``); readings outside
    0..100 are ignored."""

    __slots__ = ("_value",)
    # last_ts is not saved: it is the value's ts (restored by _after_load).
    _STATE = (("value", "_value", record(FearGreedValue, float, float)),)

    def __init__(self) -> None:
        super().__init__()
        self._value: FearGreedValue | None = None

    def update(self, ts: Any, value: Any) -> None:
        t, v = self._reading(ts, value)
        if t is None or v is None or not 0.0 <= v <= 100.0:
            return
        self._last_ts = t
        self._value = FearGreedValue(v, t)

    value = read_only("_value", "The latest reading and its ts, None before the first one.")

    def _after_load(self) -> None:
        self._last_ts = None if self._value is None else self._value.ts


@dataclass(frozen=True, slots=True)
class SkewValue:
    """Skew reading; positive = fear / loss aversion, negative = complacency.

    ``source`` is ``"implied"`` (25-delta put IV - call IV, in IV units, e.g. 0.05 = 5 vol
    points) or ``"proxy"`` (downside ÷ upside semi-deviation - 1, dimensionless, -1..+inf).
    The two scales differ: thresholds must be chosen per source. The semi-deviations are
    None for an implied reading.
    """

    skew: float
    source: str
    downside_dev: float | None
    upside_dev: float | None


class VolatilitySkewProxy(Feature):
    """Volatility skew, from options when given, else a declared proxy from returns.

    Proxy (no options data): over the last ``window`` returns,
    ``sqrt(mean(min(r, 0)²)) / sqrt(mean(max(r, 0)²)) - 1``, semi-deviations around 0.
    It is *realised* asymmetry (how hard the market fell vs rose lately), backward
    looking; it is not implied skew, which prices the fear of future falls. None until
    ``window`` returns, and None while the window has no positive return (ratio undefined).

    ``update(ts, ret=None, implied_skew=None)``: each input is used if valid. An implied
    reading is preferred while its age at the latest update is <= ``implied_max_age_seconds``
    (default 0: only on the update that carried it).
    """

    __slots__ = (
        "_d",
        "_implied",
        "_implied_ts",
        "_neg2",
        "_nz_neg",
        "_nz_pos",
        "_pos2",
        "implied_max_age_seconds",
        "window",
    )
    _PARAMS = ("window", "implied_max_age_seconds")
    _STATE = (
        ("returns", "_d", FLOAT_DEQUE),
        ("neg2", "_neg2", FLOAT),
        ("pos2", "_pos2", FLOAT),
        ("nz_neg", "_nz_neg", INT),
        ("nz_pos", "_nz_pos", INT),
        ("implied", "_implied", OPT_FLOAT),
        ("implied_ts", "_implied_ts", OPT_FLOAT),
        LAST_TS,
    )

    def __init__(self, *, window: int, implied_max_age_seconds: float = 0.0) -> None:
        super().__init__()
        self.window = check_int("window", window, 2)
        self.implied_max_age_seconds = check_non_negative("implied_max_age_seconds", implied_max_age_seconds)
        self._d: deque[float] = deque()
        self._neg2 = self._pos2 = 0.0
        self._nz_neg = self._nz_pos = 0
        self._implied: float | None = None
        self._implied_ts: float | None = None

    def update(self, ts: Any, ret: Any = None, implied_skew: Any = None) -> None:
        t = next_ts(ts, self._last_ts)
        r = num(ret)
        iv = num(implied_skew)
        if t is None or (r is None and iv is None):
            return
        self._last_ts = t
        if iv is not None:
            self._implied, self._implied_ts = iv, t
        if r is not None:
            self._push(r)

    def _push(self, r: float) -> None:
        d = self._d
        d.append(r)
        self._add(r, 1)
        if len(d) > self.window:
            self._add(d.popleft(), -1)

    def _add(self, r: float, sign: int) -> None:
        if r < 0.0:
            self._nz_neg += sign
            self._neg2 = self._neg2 + sign * r * r if self._nz_neg else 0.0
        elif r > 0.0:
            self._nz_pos += sign
            self._pos2 = self._pos2 + sign * r * r if self._nz_pos else 0.0

    @property
    def value(self) -> SkewValue | None:
        # update() sets _implied, _implied_ts and _last_ts together: all or none are None.
        implied, implied_ts, last = self._implied, self._implied_ts, self._last_ts
        if (
            implied is not None
            and implied_ts is not None
            and last is not None
            and last - implied_ts <= self.implied_max_age_seconds
        ):
            return SkewValue(implied, "implied", None, None)
        n = len(self._d)
        if n < self.window or self._nz_pos == 0:
            return None
        down = math.sqrt(max(self._neg2, 0.0) / n)
        up = math.sqrt(self._pos2 / n)
        return SkewValue(down / up - 1.0, "proxy", down, up)
