"""Order-flow features: book imbalance (OFI), its momentum, and exchange net flow."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from ._common import check_int, check_positive, check_state, header, next_ts, num
from .window import TimeWindow


def book_imbalance(bids: Sequence[Sequence[Any]], asks: Sequence[Sequence[Any]],
                   levels: int) -> float | None:
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


class OrderFlowImbalance:
    """OFI of one order-book reading, in [-1, 1] (+1 = only bids, -1 = only asks)."""

    __slots__ = ("levels", "_value", "_last_ts")

    def __init__(self, *, levels: int) -> None:
        self.levels = check_int("levels", levels, 1)
        self._value: float | None = None
        self._last_ts: float | None = None

    def update(self, ts: Any, bids: Sequence[Sequence[Any]], asks: Sequence[Sequence[Any]]) -> None:
        t = next_ts(ts, self._last_ts)
        if t is None:
            return
        ofi = book_imbalance(bids, asks, self.levels)
        if ofi is None:
            return
        self._last_ts = t
        self._value = ofi

    @property
    def value(self) -> float | None:
        """OFI of the last valid book, None before the first one."""
        return self._value

    @property
    def last_ts(self) -> float | None:
        return self._last_ts

    def state(self) -> dict:
        return {**header(self), "levels": self.levels, "value": self._value,
                "last_ts": self._last_ts}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> OrderFlowImbalance:
        check_state(cls, state)
        obj = cls(levels=state["levels"])
        obj._value = None if state["value"] is None else float(state["value"])
        obj._last_ts = None if state["last_ts"] is None else float(state["last_ts"])
        return obj


@dataclass(frozen=True, slots=True)
class OfiMomentumValue:
    """Latest OFI, its least-squares slope per minute over the window, readings used."""

    ofi: float
    momentum_per_min: float
    readings: int


class OfiMomentum:
    """Rate of change of OFI: the seed's point is the *change* of pressure, not its level.

    Keeps readings with ``now - window_seconds < ts <= now``; ready with ``min_readings``
    (>= 2) readings in the window.
    """

    __slots__ = ("window_seconds", "min_readings", "_w", "_value", "_last_ts")

    def __init__(self, *, window_seconds: float, min_readings: int = 2) -> None:
        self.window_seconds = check_positive("window_seconds", window_seconds)
        self.min_readings = check_int("min_readings", min_readings, 2)
        self._w = TimeWindow(self.window_seconds)
        self._value: OfiMomentumValue | None = None
        self._last_ts: float | None = None

    def update(self, ts: Any, ofi: Any) -> None:
        t = next_ts(ts, self._last_ts)
        x = num(ofi)
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

    @property
    def value(self) -> OfiMomentumValue | None:
        return self._value

    @property
    def last_ts(self) -> float | None:
        return self._last_ts

    def state(self) -> dict:
        v = self._value
        return {**header(self), "window_seconds": self.window_seconds,
                "min_readings": self.min_readings, "window": self._w.state(),
                "value": None if v is None else [v.ofi, v.momentum_per_min, v.readings],
                "last_ts": self._last_ts}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> OfiMomentum:
        check_state(cls, state)
        obj = cls(window_seconds=state["window_seconds"], min_readings=state["min_readings"])
        obj._w = TimeWindow.from_state(state["window"])
        v = state["value"]
        obj._value = None if v is None else OfiMomentumValue(float(v[0]), float(v[1]), int(v[2]))
        obj._last_ts = None if state["last_ts"] is None else float(state["last_ts"])
        return obj


class ExchangeNetFlow:
    """Signed exchange net flow in USD summed over ``(now - window_seconds, now]``.

    Each update carries the net flow since the previous update: inflow to exchanges is
    positive (coins arriving to be sold: bearish), outflow negative (accumulation:
    bullish). ``value`` is None until the accepted history spans the whole window
    (``now - first_ts >= window_seconds``), because a partial sum would understate it.
    A window holding only zero flows sums to exactly 0.0 (no rounding residue).
    """

    __slots__ = ("window_seconds", "_d", "_sum", "_nz", "_first_ts", "_last_ts")

    def __init__(self, *, window_seconds: float) -> None:
        self.window_seconds = check_positive("window_seconds", window_seconds)
        self._d: deque[tuple[float, float]] = deque()
        self._sum = 0.0
        self._nz = 0                     # non-zero flows in the window
        self._first_ts: float | None = None
        self._last_ts: float | None = None

    def update(self, ts: Any, net_flow_usd: Any) -> None:
        t = next_ts(ts, self._last_ts)
        x = num(net_flow_usd)
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
        if self._last_ts is None or self._last_ts - self._first_ts < self.window_seconds:
            return None
        return self._sum

    @property
    def readings(self) -> int:
        return len(self._d)

    @property
    def last_ts(self) -> float | None:
        return self._last_ts

    def state(self) -> dict:
        return {**header(self), "window_seconds": self.window_seconds,
                "entries": [list(e) for e in self._d], "sum": self._sum, "nz": self._nz,
                "first_ts": self._first_ts, "last_ts": self._last_ts}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> ExchangeNetFlow:
        check_state(cls, state)
        obj = cls(window_seconds=state["window_seconds"])
        obj._d.extend((float(t), float(x)) for t, x in state["entries"])
        obj._sum, obj._nz = float(state["sum"]), int(state["nz"])
        ft, lt = state["first_ts"], state["last_ts"]
        obj._first_ts = None if ft is None else float(ft)
        obj._last_ts = None if lt is None else float(lt)
        return obj
