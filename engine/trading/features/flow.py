"""Order-flow features: book imbalance (OFI), its momentum, and exchange net flow."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ._common import (
    FLOAT,
    INT,
    LAST_TS,
    OPT_FLOAT,
    TUPLE_DEQUE,
    Feature,
    check_int,
    check_positive,
    nested,
    next_ts,
    num,
    read_only,
    record,
)
from .window import TimeWindow


def book_imbalance(bids: Sequence[Sequence[Any]], asks: Sequence[Sequence[Any]], levels: int) -> float | None:
    """(Σ bid size - Σ ask size) / (Σ bid size + Σ ask size) over the top ``levels``.

    Levels are taken in the order given: books are best-first (bids by falling price,
    asks by rising price), as every venue sends them. Returns None when a size in the top
    levels is missing, negative or not finite, or when both sides are empty.
    """
    b = _side_size(bids, levels)
    a = _side_size(asks, levels)
    if b is None or a is None:
        return None
    total = b + a
    if total <= 0.0:
        return None
    return (b - a) / total


def _side_size(side: Sequence[Sequence[Any]] | None, levels: int) -> float | None:
    if side is None:
        return None
    total = 0.0
    try:
        for level in side[:levels]:
            s = num(level[1])
            if s is None or s < 0.0:
                return None
            total += s
    except (TypeError, IndexError, KeyError):
        return None
    return total


class OrderFlowImbalance(Feature):
    """OFI of one order-book reading, in [-1, 1] (+1 = only bids, -1 = only asks)."""

    __slots__ = ("_value", "levels")
    _PARAMS = ("levels",)
    _STATE = (("value", "_value", OPT_FLOAT), LAST_TS)

    def __init__(self, *, levels: int) -> None:
        super().__init__()
        self.levels = check_int("levels", levels, 1)
        self._value: float | None = None

    def update(self, ts: Any, bids: Sequence[Sequence[Any]], asks: Sequence[Sequence[Any]]) -> None:
        t = next_ts(ts, self._last_ts)
        if t is None:
            return
        ofi = book_imbalance(bids, asks, self.levels)
        if ofi is None:
            return
        self._last_ts = t
        self._value = ofi

    value = read_only("_value", "OFI of the last valid book, None before the first one.")


@dataclass(frozen=True, slots=True)
class OfiMomentumValue:
    """Latest OFI, its least-squares slope per minute over the window, readings used."""

    ofi: float
    momentum_per_min: float
    readings: int


class OfiMomentum(Feature):
    """Rate of change of OFI: the seed's point is the *change* of pressure, not its level.

    Keeps readings with ``now - window_seconds < ts <= now``; ready with ``min_readings``
    (>= 2) readings in the window.
    """

    __slots__ = ("_value", "_w", "min_readings", "window_seconds")
    _PARAMS = ("window_seconds", "min_readings")
    _STATE = (
        ("window", "_w", nested(TimeWindow)),
        ("value", "_value", record(OfiMomentumValue, float, float, int)),
        LAST_TS,
    )

    def __init__(self, *, window_seconds: float, min_readings: int = 2) -> None:
        super().__init__()
        self.window_seconds = check_positive("window_seconds", window_seconds)
        self.min_readings = check_int("min_readings", min_readings, 2)
        self._w = TimeWindow(self.window_seconds)
        self._value: OfiMomentumValue | None = None

    def update(self, ts: Any, ofi: Any) -> None:
        t, x = self._reading(ts, ofi)
        if t is None or x is None:
            return
        self._last_ts = t
        w = self._w
        w.push(t, x)
        slope = w.slope
        if len(w) < self.min_readings or slope is None:
            self._value = None
            return
        self._value = OfiMomentumValue(x, slope * 60.0, len(w))

    value = read_only("_value", "Latest OFI and its momentum, None while warming up.")


class ExchangeNetFlow(Feature):
    """Signed exchange net flow in USD summed over ``(now - window_seconds, now]``.

    Each update carries the net flow since the previous update: inflow to exchanges is
    positive (coins arriving to be sold: bearish), outflow negative (accumulation:
    bullish). ``value`` is None until the accepted history spans the whole window
    (``now - first_ts >= window_seconds``), because a partial sum would understate it.
    A window holding only zero flows sums to exactly 0.0 (no rounding residue).
    """

    __slots__ = ("_d", "_first_ts", "_nz", "_sum", "window_seconds")
    _PARAMS = ("window_seconds",)
    _STATE = (
        ("entries", "_d", TUPLE_DEQUE),
        ("sum", "_sum", FLOAT),
        ("nz", "_nz", INT),
        ("first_ts", "_first_ts", OPT_FLOAT),
        LAST_TS,
    )

    def __init__(self, *, window_seconds: float) -> None:
        super().__init__()
        self.window_seconds = check_positive("window_seconds", window_seconds)
        self._d: deque[tuple[float, float]] = deque()
        self._sum = 0.0
        self._nz = 0  # non-zero flows in the window
        self._first_ts: float | None = None

    def update(self, ts: Any, net_flow_usd: Any) -> None:
        t, x = self._reading(ts, net_flow_usd)
        if t is None or x is None:
            return
        if self._first_ts is None:
            self._first_ts = t
        self._last_ts = t
        d = self._d
        d.append((t, x))
        if x != 0.0:
            self._sum += x
            self._nz += 1
        cutoff = t - self.window_seconds
        while d[0][0] <= cutoff:
            old = d.popleft()[1]
            if old != 0.0:
                self._nz -= 1
                self._sum = self._sum - old if self._nz else 0.0

    @property
    def value(self) -> float | None:
        last, first = self._last_ts, self._first_ts  # set together by update(): both or neither None
        if last is None or first is None or last - first < self.window_seconds:
            return None
        return self._sum

    @property
    def readings(self) -> int:
        return len(self._d)
