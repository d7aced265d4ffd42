"""Derivatives-market features: open interest, OI/price divergence, funding, liquidations."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any, Mapping

from ._common import (check_int, check_non_negative, check_positive, check_state, header,
                      next_ts, num)
from .window import CountWindow


def _max_span(window_seconds: float, max_span_seconds: Any) -> float:
    if max_span_seconds is None:
        return 2.0 * window_seconds
    span = check_positive("max_span_seconds", max_span_seconds)
    if span < window_seconds:
        raise ValueError(f"max_span_seconds ({span}) must be >= window_seconds ({window_seconds})")
    return span


class _AsOfChange:
    """% change of one series between ``now`` and the last reading at or before
    ``now - window_seconds`` (its value as known a window ago).

    As-of anchoring measures the change over at least the full window even with jittered
    or hourly readings (a window of 1 h over hourly OI still works). After a data gap the
    anchor may be older; beyond ``max_span`` the change is refused (None). Only a deque
    is kept (no running sums): O(1) amortised and no periodic recomputation.
    """

    __slots__ = ("window", "max_span", "d", "anchor_entry")

    def __init__(self, window_seconds: float, max_span: float) -> None:
        self.window = window_seconds
        self.max_span = max_span
        self.d: deque[tuple[float, float]] = deque()
        self.anchor_entry: tuple[float, float] | None = None

    def push(self, t: float, x: float) -> None:
        d = self.d
        d.append((t, x))
        cutoff = t - self.window
        while d[0][0] <= cutoff:
            self.anchor_entry = d.popleft()

    def anchor(self) -> tuple[float, float] | None:
        a = self.anchor_entry
        if a is None or self.d[-1][0] - a[0] > self.max_span:
            return None
        return a

    def pct(self) -> float | None:
        a = self.anchor()
        if a is None or a[1] == 0.0:
            return None
        return (self.d[-1][1] - a[1]) / a[1] * 100.0   # (x − a)/a: exact when the move is

    def to_state(self) -> dict:
        a = self.anchor_entry
        return {"entries": [list(e) for e in self.d], "anchor": None if a is None else list(a)}

    def load(self, s: Mapping[str, Any]) -> None:
        self.d.extend((float(t), float(x)) for t, x in s["entries"])
        a = s["anchor"]
        self.anchor_entry = None if a is None else (float(a[0]), float(a[1]))


class OpenInterestVelocity:
    """% change of open interest over ``window_seconds`` (0.5 means +0.5 %).

    Rising OI = new money entering in the direction of the move. Feed the latest known OI
    every cycle (repeating a value is fine). ``value`` is None until a reading at least
    ``window_seconds`` old exists, when the base OI is 0, or when the base reading is more
    than ``max_span_seconds`` (default 2 × window) old because of a data gap.
    """

    __slots__ = ("window_seconds", "max_span_seconds", "_c", "_last_ts")

    def __init__(self, *, window_seconds: float, max_span_seconds: float | None = None) -> None:
        self.window_seconds = check_positive("window_seconds", window_seconds)
        self.max_span_seconds = _max_span(self.window_seconds, max_span_seconds)
        self._c = _AsOfChange(self.window_seconds, self.max_span_seconds)
        self._last_ts: float | None = None

    def update(self, ts: Any, open_interest: Any) -> None:
        t = next_ts(ts, self._last_ts)
        x = num(open_interest)
        if t is None or x is None or x < 0.0:
            return
        self._last_ts = t
        self._c.push(t, x)

    @property
    def value(self) -> float | None:
        return self._c.pct()

    @property
    def span_seconds(self) -> float | None:
        """Seconds between the base reading and the latest one (>= window_seconds)."""
        a = self._c.anchor()
        return None if a is None else self._last_ts - a[0]

    @property
    def last_ts(self) -> float | None:
        return self._last_ts

    def state(self) -> dict:
        return {**header(self), "window_seconds": self.window_seconds,
                "max_span_seconds": self.max_span_seconds, "series": self._c.to_state(),
                "last_ts": self._last_ts}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> OpenInterestVelocity:
        check_state(cls, state)
        obj = cls(window_seconds=state["window_seconds"],
                  max_span_seconds=state["max_span_seconds"])
        obj._c.load(state["series"])
        obj._last_ts = None if state["last_ts"] is None else float(state["last_ts"])
        return obj


@dataclass(frozen=True, slots=True)
class OiDivergenceValue:
    """Price and OI change over the window and their divergence.

    ``divergence`` is ``"price_up_oi_down"`` (rally on closing positions: weak, short
    covering), ``"price_down_oi_up"`` (sell-off with new shorts piling in: trap risk) or
    ``"none"``. ``strength`` = min(|price %|, |OI %|) when diverging, else 0.0.
    """

    price_change_pct: float
    oi_change_pct: float
    divergence: str
    strength: float


class OiPriceDivergence:
    """Price/OI divergence: both must move in opposite directions by more than
    ``min_move_pct`` (strict ``>``) over ``window_seconds`` (as-of anchored, like
    :class:`OpenInterestVelocity`). Feed price and the latest known OI every cycle.
    """

    __slots__ = ("window_seconds", "min_move_pct", "max_span_seconds", "_price", "_oi",
                 "_last_ts")

    def __init__(self, *, window_seconds: float, min_move_pct: float,
                 max_span_seconds: float | None = None) -> None:
        self.window_seconds = check_positive("window_seconds", window_seconds)
        self.min_move_pct = check_non_negative("min_move_pct", min_move_pct)
        self.max_span_seconds = _max_span(self.window_seconds, max_span_seconds)
        self._price = _AsOfChange(self.window_seconds, self.max_span_seconds)
        self._oi = _AsOfChange(self.window_seconds, self.max_span_seconds)
        self._last_ts: float | None = None

    def update(self, ts: Any, price: Any, open_interest: Any) -> None:
        t = next_ts(ts, self._last_ts)
        p = num(price)
        oi = num(open_interest)
        if t is None or p is None or oi is None or p <= 0.0 or oi < 0.0:
            return
        self._last_ts = t
        self._price.push(t, p)
        self._oi.push(t, oi)

    @property
    def value(self) -> OiDivergenceValue | None:
        dp = self._price.pct()
        doi = self._oi.pct()
        if dp is None or doi is None:
            return None
        m = self.min_move_pct
        if dp > m and doi < -m:
            kind = "price_up_oi_down"
        elif dp < -m and doi > m:
            kind = "price_down_oi_up"
        else:
            return OiDivergenceValue(dp, doi, "none", 0.0)
        return OiDivergenceValue(dp, doi, kind, min(abs(dp), abs(doi)))

    @property
    def last_ts(self) -> float | None:
        return self._last_ts

    def state(self) -> dict:
        return {**header(self), "window_seconds": self.window_seconds,
                "min_move_pct": self.min_move_pct, "max_span_seconds": self.max_span_seconds,
                "price": self._price.to_state(), "oi": self._oi.to_state(),
                "last_ts": self._last_ts}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> OiPriceDivergence:
        check_state(cls, state)
        obj = cls(window_seconds=state["window_seconds"], min_move_pct=state["min_move_pct"],
                  max_span_seconds=state["max_span_seconds"])
        obj._price.load(state["price"])
        obj._oi.load(state["oi"])
        obj._last_ts = None if state["last_ts"] is None else float(state["last_ts"])
        return obj


@dataclass(frozen=True, slots=True)
class FundingValue:
    """Latest funding rate against its rolling mean over the window (which includes it).

    ``zscore`` = deviation / sample stdev (ddof=1); None when the stdev is 0 (flat funding).
    """

    rate: float
    mean: float
    deviation: float
    zscore: float | None


class FundingDeviation:
    """Deviation of the latest funding rate from its mean over the last ``window`` readings.

    One reading per call: feed each new funding rate once (e.g. each 8 h settlement, or
    each predicted-rate poll), not the same rate every cycle, or the window measures
    cycles rather than funding periods. Ready after ``window`` readings.
    """

    __slots__ = ("window", "_w", "_value", "_last_ts")

    def __init__(self, *, window: int) -> None:
        self.window = check_int("window", window, 2)
        self._w = CountWindow(self.window)
        self._value: FundingValue | None = None
        self._last_ts: float | None = None

    def update(self, ts: Any, rate: Any) -> None:
        t = next_ts(ts, self._last_ts)
        r = num(rate)
        if t is None or r is None:
            return
        self._last_ts = t
        w = self._w
        w.push(t, r)
        if not w.full:
            return
        mean = w.mean
        sd = w.stdev(1)
        dev = r - mean
        self._value = FundingValue(r, mean, dev, dev / sd if sd else None)

    @property
    def value(self) -> FundingValue | None:
        return self._value

    @property
    def last_ts(self) -> float | None:
        return self._last_ts

    def state(self) -> dict:
        v = self._value
        return {**header(self), "window": self.window, "readings": self._w.state(),
                "value": None if v is None else [v.rate, v.mean, v.deviation, v.zscore],
                "last_ts": self._last_ts}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> FundingDeviation:
        check_state(cls, state)
        obj = cls(window=state["window"])
        obj._w = CountWindow.from_state(state["readings"])
        v = state["value"]
        obj._value = None if v is None else FundingValue(
            float(v[0]), float(v[1]), float(v[2]), None if v[3] is None else float(v[3]))
        obj._last_ts = None if state["last_ts"] is None else float(state["last_ts"])
        return obj


@dataclass(frozen=True, slots=True)
class LiquidationValue:
    """Liquidations in the window.

    ``dominant_side`` is ``"long"`` when long liquidations dominate (forced selling:
    price pressure DOWN), ``"short"`` (forced buying: pressure UP) or ``"none"`` on a tie.
    ``dominance`` = dominant side / total in [0.5, 1] and ``long_ratio`` = long / total,
    both None when the total is 0. ``acceleration`` = USD in the newer half of the window
    ÷ USD in the older half; None when the older half is 0.
    """

    total_usd: float
    long_usd: float
    short_usd: float
    dominant_side: str
    dominance: float | None
    long_ratio: float | None
    acceleration: float | None


class _Half:
    """One half of the cascade window: entries plus exact-zero-aware sums."""

    __slots__ = ("d", "long", "short", "nz_long", "nz_short")

    def __init__(self) -> None:
        self.d: deque[tuple[float, float, float]] = deque()
        self.long = self.short = 0.0
        self.nz_long = self.nz_short = 0   # entries with a non-zero amount, per side

    def add(self, e: tuple[float, float, float]) -> None:
        self.d.append(e)
        if e[1] > 0.0:
            self.long += e[1]
            self.nz_long += 1
        if e[2] > 0.0:
            self.short += e[2]
            self.nz_short += 1

    def pop(self) -> tuple[float, float, float]:
        e = self.d.popleft()
        if e[1] > 0.0:
            self.nz_long -= 1
            # A side with no non-zero entry left is exactly 0, not a rounding residue.
            self.long = self.long - e[1] if self.nz_long else 0.0
        if e[2] > 0.0:
            self.nz_short -= 1
            self.short = self.short - e[2] if self.nz_short else 0.0
        return e

    def to_state(self) -> dict:
        return {"entries": [list(e) for e in self.d], "long": self.long, "short": self.short,
                "nz_long": self.nz_long, "nz_short": self.nz_short}

    @classmethod
    def from_state(cls, s: Mapping[str, Any]) -> _Half:
        h = cls()
        h.d.extend((float(a), float(b), float(c)) for a, b, c in s["entries"])
        h.long, h.short = float(s["long"]), float(s["short"])
        h.nz_long, h.nz_short = int(s["nz_long"]), int(s["nz_short"])
        return h


class LiquidationCascade:
    """Liquidation volume over ``(now - window_seconds, now]``, split by side and by half.

    ``update(ts, long_usd, short_usd)`` takes the USD liquidated on each side since the
    previous update (both >= 0). Entries move from the newer half ``(now - W/2, now]`` to
    the older half ``(now - W, now - W/2]`` and then out. ``value`` is None until the
    accepted history spans the whole window (``now - first_ts >= window_seconds``).
    """

    __slots__ = ("window_seconds", "_half", "_new", "_old", "_first_ts", "_last_ts")

    def __init__(self, *, window_seconds: float) -> None:
        self.window_seconds = check_positive("window_seconds", window_seconds)
        self._half = self.window_seconds / 2.0
        self._new = _Half()
        self._old = _Half()
        self._first_ts: float | None = None
        self._last_ts: float | None = None

    def update(self, ts: Any, long_usd: Any, short_usd: Any) -> None:
        t = next_ts(ts, self._last_ts)
        lo = num(long_usd)
        sh = num(short_usd)
        if t is None or lo is None or sh is None or lo < 0.0 or sh < 0.0:
            return
        if self._first_ts is None:
            self._first_ts = t
        self._last_ts = t
        new, old = self._new, self._old
        new.add((t, lo, sh))
        mid = t - self._half
        while new.d and new.d[0][0] <= mid:
            old.add(new.pop())
        cutoff = t - self.window_seconds
        while old.d and old.d[0][0] <= cutoff:
            old.pop()

    @property
    def value(self) -> LiquidationValue | None:
        if self._last_ts is None or self._last_ts - self._first_ts < self.window_seconds:
            return None
        new, old = self._new, self._old
        lo = new.long + old.long
        sh = new.short + old.short
        total = lo + sh
        if lo > sh:
            side = "long"
        elif sh > lo:
            side = "short"
        else:
            side = "none"
        older = old.long + old.short
        return LiquidationValue(
            total_usd=total, long_usd=lo, short_usd=sh, dominant_side=side,
            dominance=max(lo, sh) / total if total > 0.0 else None,
            long_ratio=lo / total if total > 0.0 else None,
            acceleration=(new.long + new.short) / older if older > 0.0 else None,
        )

    @property
    def last_ts(self) -> float | None:
        return self._last_ts

    def state(self) -> dict:
        return {**header(self), "window_seconds": self.window_seconds,
                "newer": self._new.to_state(), "older": self._old.to_state(),
                "first_ts": self._first_ts, "last_ts": self._last_ts}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> LiquidationCascade:
        check_state(cls, state)
        obj = cls(window_seconds=state["window_seconds"])
        obj._new = _Half.from_state(state["newer"])
        obj._old = _Half.from_state(state["older"])
        ft, lt = state["first_ts"], state["last_ts"]
        obj._first_ts = None if ft is None else float(ft)
        obj._last_ts = None if lt is None else float(lt)
        return obj
