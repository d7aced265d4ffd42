"""Sentiment features: Fear & Greed index and the volatility-skew proxy."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Any, Mapping

from ._common import check_int, check_non_negative, check_state, header, next_ts, num


@dataclass(frozen=True, slots=True)
class FearGreedValue:
    """The latest index reading (0 = extreme fear, 100 = extreme greed) and its ts."""

    value: float
    ts: float

    def age_seconds(self, now: float) -> float:
        """How old the reading is at ``now``: the caller decides when it is stale."""
        return now - self.ts


class FearGreed:
    """Latest Fear & Greed reading. The index is daily, so staleness is the caller's check
    (``value.age_seconds(now)`` against the rule's ``max_input_age``); readings outside
    0..100 are ignored."""

    __slots__ = ("_value",)

    def __init__(self) -> None:
        self._value: FearGreedValue | None = None

    def update(self, ts: Any, value: Any) -> None:
        t = next_ts(ts, self.last_ts)
        v = num(value)
        if t is None or v is None or not 0.0 <= v <= 100.0:
            return
        self._value = FearGreedValue(v, t)

    @property
    def value(self) -> FearGreedValue | None:
        return self._value

    @property
    def last_ts(self) -> float | None:
        return None if self._value is None else self._value.ts

    def state(self) -> dict:
        v = self._value
        return {**header(self), "value": None if v is None else [v.value, v.ts]}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> FearGreed:
        check_state(cls, state)
        obj = cls()
        v = state["value"]
        obj._value = None if v is None else FearGreedValue(float(v[0]), float(v[1]))
        return obj


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


class VolatilitySkewProxy:
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

    __slots__ = ("window", "implied_max_age_seconds", "_d", "_neg2", "_pos2", "_nz_neg",
                 "_nz_pos", "_implied", "_implied_ts", "_last_ts")

    def __init__(self, *, window: int, implied_max_age_seconds: float = 0.0) -> None:
        self.window = check_int("window", window, 2)
        self.implied_max_age_seconds = check_non_negative(
            "implied_max_age_seconds", implied_max_age_seconds)
        self._d: deque[float] = deque()
        self._neg2 = self._pos2 = 0.0
        self._nz_neg = self._nz_pos = 0
        self._implied: float | None = None
        self._implied_ts: float | None = None
        self._last_ts: float | None = None

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
        if self._implied_ts is not None and \
                self._last_ts - self._implied_ts <= self.implied_max_age_seconds:
            return SkewValue(self._implied, "implied", None, None)
        n = len(self._d)
        if n < self.window or self._nz_pos == 0:
            return None
        down = math.sqrt(max(self._neg2, 0.0) / n)
        up = math.sqrt(self._pos2 / n)
        return SkewValue(down / up - 1.0, "proxy", down, up)

    @property
    def last_ts(self) -> float | None:
        return self._last_ts

    def state(self) -> dict:
        return {**header(self), "window": self.window,
                "implied_max_age_seconds": self.implied_max_age_seconds,
                "returns": list(self._d), "neg2": self._neg2, "pos2": self._pos2,
                "nz_neg": self._nz_neg, "nz_pos": self._nz_pos,
                "implied": self._implied, "implied_ts": self._implied_ts,
                "last_ts": self._last_ts}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> VolatilitySkewProxy:
        check_state(cls, state)
        obj = cls(window=state["window"],
                  implied_max_age_seconds=state["implied_max_age_seconds"])
        obj._d.extend(float(r) for r in state["returns"])
        obj._neg2, obj._pos2 = float(state["neg2"]), float(state["pos2"])
        obj._nz_neg, obj._nz_pos = int(state["nz_neg"]), int(state["nz_pos"])
        for name in ("implied", "implied_ts", "last_ts"):
            x = state[name]
            setattr(obj, "_" + name, None if x is None else float(x))
        return obj
