"""Exponential moving average and the fast/slow EMA cross.

The EMA is seeded with the simple mean of its first ``period`` values (the classic TA
definition), so it is unbiased by an arbitrary first value and needs exactly ``period``
readings to be ready.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ._common import FLOAT, INT, LAST_TS, OPT_FLOAT, Feature, check_int, nested, opt_float, read_only, record, sign


class Ema(Feature):
    """EMA with ``alpha = 2 / (period + 1)``, seeded with the SMA of the first ``period`` values."""

    __slots__ = ("_alpha", "_count", "_seed_sum", "_value", "period")
    _PARAMS = ("period",)
    _STATE = (("count", "_count", INT), ("seed_sum", "_seed_sum", FLOAT), ("value", "_value", OPT_FLOAT), LAST_TS)

    def __init__(self, *, period: int) -> None:
        super().__init__()
        self.period = check_int("period", period, 1)
        self._alpha = 2.0 / (self.period + 1)
        self._count = 0
        self._seed_sum = 0.0
        self._value: float | None = None

    def update(self, ts: Any, value: Any) -> None:
        """Add one value; ignored if ts is not later than the last one or value is not finite."""
        t, v = self._reading(ts, value)
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

    value = read_only("_value", "The EMA, or None until ``period`` values were seen.")


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


class EmaCross(Feature):
    """Fast/slow EMA cross over one stream of closes; ready once the slow EMA is."""

    __slots__ = ("_fast", "_last_dir", "_slow", "_value", "fast", "slow")
    _PARAMS = ("fast", "slow")
    # last_ts is not saved: it is the slow EMA's (restored by _after_load).
    _STATE = (
        ("fast_ema", "_fast", nested(Ema)),
        ("slow_ema", "_slow", nested(Ema)),
        ("last_dir", "_last_dir", INT),
        ("value", "_value", record(CrossState, int, opt_float, bool)),
    )

    def __init__(self, *, fast: int, slow: int) -> None:
        super().__init__()
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
        t, c = self._reading(ts, close)
        if t is None or c is None:
            return
        self._last_ts = t
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

    value = read_only("_value", "The cross state, or None until the slow EMA is ready.")

    def _after_load(self) -> None:
        self._last_ts = self._slow.last_ts
