"""Derivatives-market features: open interest, OI/price divergence, funding, liquidations."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from ._common import (
    FLOAT,
    INT,
    LAST_TS,
    OPT_FLOAT,
    OPT_TUPLE,
    PART,
    TUPLE_DEQUE,
    Feature,
    check_int,
    check_non_negative,
    check_positive,
    nested,
    opt_float,
    read_only,
    record,
)
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

    __slots__ = ("anchor_entry", "d", "max_span", "window")
    _STATE = (("entries", "d", TUPLE_DEQUE), ("anchor", "anchor_entry", OPT_TUPLE))

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
        return (self.d[-1][1] - a[1]) / a[1] * 100.0  # (x − a)/a: exact when the move is


class OpenInterestVelocity(Feature):
    """% change of open interest over ``window_seconds`` (0.5 means +0.5 %).

    Rising OI = new money entering in the direction of the move. Feed the latest known OI
    every cycle (repeating a value is fine). ``value`` is None until a reading at least
    ``window_seconds`` old exists, when the base OI is 0, or when the base reading is more
    than ``max_span_seconds`` (default 2 × window) old because of a data gap.
    """

    __slots__ = ("_c", "max_span_seconds", "window_seconds")
    _PARAMS = ("window_seconds", "max_span_seconds")
    _STATE = (("series", "_c", PART), LAST_TS)

    def __init__(self, *, window_seconds: float, max_span_seconds: float | None = None) -> None:
        super().__init__()
        self.window_seconds = check_positive("window_seconds", window_seconds)
        self.max_span_seconds = _max_span(self.window_seconds, max_span_seconds)
        self._c = _AsOfChange(self.window_seconds, self.max_span_seconds)

    def update(self, ts: Any, open_interest: Any) -> None:
        t, x = self._reading(ts, open_interest)
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
        last = self._last_ts  # never None once there is an anchor (a reading was pushed)
        return None if a is None or last is None else last - a[0]


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


class OiPriceDivergence(Feature):
    """Price/OI divergence: both must move in opposite directions by more than
    ``min_move_pct`` (strict ``>``) over ``window_seconds`` (as-of anchored, like
    :class:`OpenInterestVelocity`). Feed price and the latest known OI every cycle.
    """

    __slots__ = ("_oi", "_price", "max_span_seconds", "min_move_pct", "window_seconds")
    _PARAMS = ("window_seconds", "min_move_pct", "max_span_seconds")
    _STATE = (("price", "_price", PART), ("oi", "_oi", PART), LAST_TS)

    def __init__(self, *, window_seconds: float, min_move_pct: float, max_span_seconds: float | None = None) -> None:
        super().__init__()
        self.window_seconds = check_positive("window_seconds", window_seconds)
        self.min_move_pct = check_non_negative("min_move_pct", min_move_pct)
        self.max_span_seconds = _max_span(self.window_seconds, max_span_seconds)
        self._price = _AsOfChange(self.window_seconds, self.max_span_seconds)
        self._oi = _AsOfChange(self.window_seconds, self.max_span_seconds)

    def update(self, ts: Any, price: Any, open_interest: Any) -> None:
        t, p, oi = self._reading2(ts, price, open_interest)
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


@dataclass(frozen=True, slots=True)
class FundingValue:
    """Latest funding rate against its rolling mean over the window (which includes it).

    ``zscore`` = deviation / sample stdev (ddof=1); None when the stdev is 0 (flat funding).
    """

    rate: float
    mean: float
    deviation: float
    zscore: float | None


class FundingDeviation(Feature):
    """Deviation of the latest funding rate from its mean over the last ``window`` readings.

    One reading per call: feed each new funding rate once (e.g. each 8 h settlement, or
    each predicted-rate poll), not the same rate every cycle, or the window measures
    cycles rather than funding periods. Ready after ``window`` readings.
    """

    __slots__ = ("_value", "_w", "window")
    _PARAMS = ("window",)
    _STATE = (
        ("readings", "_w", nested(CountWindow)),
        ("value", "_value", record(FundingValue, float, float, float, opt_float)),
        LAST_TS,
    )

    def __init__(self, *, window: int) -> None:
        super().__init__()
        self.window = check_int("window", window, 2)
        self._w = CountWindow(self.window)
        self._value: FundingValue | None = None

    def update(self, ts: Any, rate: Any) -> None:
        t, r = self._reading(ts, rate)
        if t is None or r is None:
            return
        self._last_ts = t
        w = self._w
        w.push(t, r)
        if not w.full:
            return
        mean = w.mean
        if mean is None:  # never: a full window is non-empty
            return
        sd = w.stdev(1)
        dev = r - mean
        self._value = FundingValue(r, mean, dev, dev / sd if sd else None)

    value = read_only("_value", "The latest rate against its window, None while warming up.")


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

    __slots__ = ("d", "long", "nz_long", "nz_short", "short")
    _STATE = (
        ("entries", "d", TUPLE_DEQUE),
        ("long", "long", FLOAT),
        ("short", "short", FLOAT),
        ("nz_long", "nz_long", INT),
        ("nz_short", "nz_short", INT),
    )

    def __init__(self) -> None:
        self.d: deque[tuple[float, float, float]] = deque()
        self.long = self.short = 0.0
        self.nz_long = self.nz_short = 0  # entries with a non-zero amount, per side

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


class LiquidationCascade(Feature):
    """Liquidation volume over ``(now - window_seconds, now]``, split by side and by half.

    ``update(ts, long_usd, short_usd)`` takes the USD liquidated on each side since the
    previous update (both >= 0). Entries move from the newer half ``(now - W/2, now]`` to
    the older half ``(now - W, now - W/2]`` and then out. ``value`` is None until the
    accepted history spans the whole window (``now - first_ts >= window_seconds``).
    """

    __slots__ = ("_first_ts", "_half", "_new", "_old", "window_seconds")
    _PARAMS = ("window_seconds",)
    _STATE = (("newer", "_new", PART), ("older", "_old", PART), ("first_ts", "_first_ts", OPT_FLOAT), LAST_TS)

    def __init__(self, *, window_seconds: float) -> None:
        super().__init__()
        self.window_seconds = check_positive("window_seconds", window_seconds)
        self._half = self.window_seconds / 2.0
        self._new = _Half()
        self._old = _Half()
        self._first_ts: float | None = None

    def update(self, ts: Any, long_usd: Any, short_usd: Any) -> None:
        t, lo, sh = self._reading2(ts, long_usd, short_usd)
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
        last, first = self._last_ts, self._first_ts  # set together by update(): both or neither None
        if last is None or first is None or last - first < self.window_seconds:
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
            total_usd=total,
            long_usd=lo,
            short_usd=sh,
            dominant_side=side,
            dominance=max(lo, sh) / total if total > 0.0 else None,
            long_ratio=lo / total if total > 0.0 else None,
            acceleration=(new.long + new.short) / older if older > 0.0 else None,
        )
