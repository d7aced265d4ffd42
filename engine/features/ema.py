"""Exponential moving average and the fast/slow EMA cross.

The EMA is seeded with the simple mean of its first ``period`` values (the classic TA
definition), so it is unbiased by an arbitrary first value and needs exactly ``period``
readings to be ready.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from ._common import check_int, check_state, header, next_ts, num, sign


class Ema:
    """EMA with ``alpha = 2 / (period + 1)``, seeded with the SMA of the first ``period`` values."""

    __slots__ = ("period", "_alpha", "_count", "_seed_sum", "_value", "_last_ts")

    def __init__(self, *, period: int) -> None:
        self.period = check_int("period", period, 1)
        self._alpha = 2.0 / (self.period + 1)
        self._count = 0
        self._seed_sum = 0.0
        self._value: float | None = None
        self._last_ts: float | None = None

    def update(self, ts: Any, value: Any) -> None:
        """Add one value; ignored if ts is not later than the last one or value is not finite."""
        t = next_ts(ts, self._last_ts)
        v = num(value)
        if t is None or v is None:
            return
        self._last_ts = t
        if self._value is not None:
            self._value += self._alpha * (v - self._value)
            return
        self._count += 1
        self._seed_sum += v
        if self._count >= self.period:
            self._value = self._seed_sum / self.period

    @property
    def value(self) -> float | None:
        """The EMA, or None until ``period`` values were seen."""
        return self._value

    @property
    def last_ts(self) -> float | None:
        return self._last_ts

    def state(self) -> dict:
        return {**header(self), "period": self.period, "count": self._count,
                "seed_sum": self._seed_sum, "value": self._value, "last_ts": self._last_ts}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> Ema:
        check_state(cls, state)
        obj = cls(period=state["period"])
        obj._count = int(state["count"])
        obj._seed_sum = float(state["seed_sum"])
        obj._value = None if state["value"] is None else float(state["value"])
        obj._last_ts = None if state["last_ts"] is None else float(state["last_ts"])
        return obj


@dataclass(frozen=True, slots=True)
class CrossState:
    """Where the fast EMA stands against the slow one.

    ``direction``: +1 fast above slow, -1 below, 0 equal.
    ``spread_pct``: (fast - slow) / slow * 100; None if the slow EMA is 0.
    ``flipped``: True only on the update where the direction became the opposite of the
    last non-zero direction (touching 0 and returning to the same side is not a flip).
    """

    direction: int
    spread_pct: float | None
    flipped: bool


class EmaCross:
    """Fast/slow EMA cross over one stream of closes; ready once the slow EMA is."""

    __slots__ = ("fast", "slow", "_fast", "_slow", "_last_dir", "_value")

    def __init__(self, *, fast: int, slow: int) -> None:
        fast = check_int("fast", fast, 1)
        slow = check_int("slow", slow, 2)
        if fast >= slow:
            raise ValueError(f"fast ({fast}) must be smaller than slow ({slow})")
        self.fast, self.slow = fast, slow
        self._fast = Ema(period=fast)
        self._slow = Ema(period=slow)
        self._last_dir = 0
        self._value: CrossState | None = None

    def update(self, ts: Any, close: Any) -> None:
        t = next_ts(ts, self._slow.last_ts)
        c = num(close)
        if t is None or c is None:
            return
        self._fast.update(t, c)
        self._slow.update(t, c)
        f, s = self._fast.value, self._slow.value
        if f is None or s is None:
            return
        diff = f - s
        direction = sign(diff)
        flipped = direction != 0 and self._last_dir != 0 and direction != self._last_dir
        if direction != 0:
            self._last_dir = direction
        spread = None if s == 0.0 else diff / s * 100.0
        self._value = CrossState(direction, spread, flipped)

    @property
    def value(self) -> CrossState | None:
        return self._value

    @property
    def last_ts(self) -> float | None:
        return self._slow.last_ts

    def state(self) -> dict:
        v = self._value
        return {**header(self), "fast": self.fast, "slow": self.slow,
                "fast_ema": self._fast.state(), "slow_ema": self._slow.state(),
                "last_dir": self._last_dir,
                "value": None if v is None else [v.direction, v.spread_pct, v.flipped]}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> EmaCross:
        check_state(cls, state)
        obj = cls(fast=state["fast"], slow=state["slow"])
        obj._fast = Ema.from_state(state["fast_ema"])
        obj._slow = Ema.from_state(state["slow_ema"])
        obj._last_dir = int(state["last_dir"])
        v = state["value"]
        obj._value = None if v is None else CrossState(
            int(v[0]), None if v[1] is None else float(v[1]), bool(v[2]))
        return obj
