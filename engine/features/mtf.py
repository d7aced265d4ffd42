"""Multi-timeframe trend alignment built from 1-minute closes, without lookahead.

Bar convention (UTC, epoch-aligned): a bar of T seconds covers ``(k·T, (k+1)·T]`` and
closes at ``(k+1)·T``. ``ts`` is the time the close is *known*: for a 1-minute candle,
its close time (open time + 60), for a snapshot, the snapshot time. A close stamped
exactly on a boundary is the bar's last close and completes it at once; otherwise a bar
completes when the first close of a later bar arrives. A bar with no close (a data gap)
is skipped. Only completed bars reach the EMA, so the trend at ``t`` uses closes <= t.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from ._common import check_int, check_state, header, next_ts, num, sign
from .ema import Ema

_UNITS = {"m": 60, "h": 3600, "d": 86400}
_TF_RE = re.compile(r"^\s*(\d+)\s*([mhd])\s*$")


def parse_timeframe(tf: Any) -> tuple[int, str]:
    """``"5m"``/``"4h"``/``"1d"`` or seconds → (seconds, canonical label).

    Timeframes must be whole minutes (they are built from 1-minute closes). Daily bars
    close at 00:00 UTC (epoch multiples of 86400 are UTC midnights).
    """
    if isinstance(tf, str):
        m = _TF_RE.match(tf)
        if not m:
            raise ValueError(f"timeframe {tf!r}: expected e.g. '1m', '5m', '4h', '1d' or seconds")
        seconds = int(m.group(1)) * _UNITS[m.group(2)]
    elif isinstance(tf, int) and not isinstance(tf, bool):
        seconds = tf
    elif isinstance(tf, float) and tf.is_integer():
        seconds = int(tf)
    else:
        raise ValueError(f"timeframe {tf!r}: expected e.g. '1m', '5m', '4h', '1d' or seconds")
    if seconds < 60 or seconds % 60:
        raise ValueError(f"timeframe {tf!r}: must be a positive whole number of minutes")
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return seconds, f"{seconds // size}{unit}"
    raise AssertionError("unreachable")  # pragma: no cover


class BarCloser:
    """Turns a stream of closes into completed bar closes of one timeframe.

    ``update(ts, close)`` returns the bars completed by this reading as a tuple of
    ``(bar_end_ts, close)``, oldest first: empty, one, or two (a pending bar plus the bar
    ending exactly at ``ts``). Useful on its own, e.g. to feed 5-minute closes to EmaCross.
    """

    __slots__ = ("seconds", "label", "_bar", "_end", "_close", "_last_ts")

    def __init__(self, *, timeframe: Any) -> None:
        self.seconds, self.label = parse_timeframe(timeframe)
        self._bar: int | None = None          # index k of the open bar (k·T, (k+1)·T]
        self._end = float("-inf")             # (k+1)·T of the open bar; -inf when none
        self._close: float | None = None
        self._last_ts: float | None = None

    def update(self, ts: Any, close: Any) -> tuple[tuple[float, float], ...]:
        t = next_ts(ts, self._last_ts)
        c = num(close)
        if t is None or c is None:
            return ()
        self._last_ts = t
        return self._observe(t, c)

    def _observe(self, t: float, c: float) -> tuple[tuple[float, float], ...]:
        if t < self._end:                     # fast path: still inside the open bar
            self._close = c
            return ()
        T = self.seconds
        end = -((-t) // T)                    # ceil(t / T), exact for floats
        k = int(end) - 1
        done: tuple[tuple[float, float], ...] = ()
        if self._bar is not None and k != self._bar:
            done = ((float((self._bar + 1) * T), self._close),)
        self._bar, self._close, self._end = k, c, end * T
        if t == self._end:                    # stamped on the boundary: complete now
            done += ((t, c),)
            self._bar = self._close = None
            self._end = float("-inf")
        return done

    def state(self) -> dict:
        return {**header(self), "timeframe": self.label, "bar": self._bar,
                "close": self._close, "last_ts": self._last_ts}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> BarCloser:
        check_state(cls, state)
        obj = cls(timeframe=state["timeframe"])
        obj._bar = None if state["bar"] is None else int(state["bar"])
        if obj._bar is not None:
            obj._end = float((obj._bar + 1) * obj.seconds)
        obj._close = None if state["close"] is None else float(state["close"])
        obj._last_ts = None if state["last_ts"] is None else float(state["last_ts"])
        return obj


def _direction(direction: Any) -> int:
    if isinstance(direction, str):
        d = {"long": 1, "short": -1}.get(direction.strip().lower())
    elif isinstance(direction, int) and not isinstance(direction, bool) and direction in (1, -1):
        d = direction
    else:
        d = None
    if d is None:
        raise ValueError(f"direction must be 'long', 'short', +1 or -1, got {direction!r}")
    return d


@dataclass(frozen=True, slots=True)
class MtfValue:
    """Trend per ready timeframe (+1 close above its EMA, -1 below, 0 equal), the fraction
    of ready timeframes trending up (``score_long``) and down (``score_short``), and how
    many timeframes are ready. Timeframes still warming up are absent from the dict."""

    per_timeframe: dict[str, int] = field(hash=False)
    score_long: float
    score_short: float
    ready_count: int

    def alignment_for(self, direction: Any) -> float:
        """Share of ready timeframes agreeing with ``direction`` ('long'/'short'/+1/-1)."""
        return self.score_long if _direction(direction) > 0 else self.score_short


class MultiTimeframeAlignment:
    """Trend alignment across timeframes (seed: 1m, 5m, 15m, 1h, 4h, 1d) from 1-minute closes.

    Per timeframe: trend = sign(last completed bar close - EMA(ema_period) of completed
    bar closes). A timeframe is ready after ``ema_period`` completed bars (20 × 1d = 20
    days of closes: replay history or restore ``state()`` at start-up). ``value`` is None
    until at least one timeframe is ready; callers wanting all of them check
    ``ready_count``.
    """

    __slots__ = ("timeframes", "ema_period", "_bars", "_emas", "_trend", "_value", "_last_ts")

    def __init__(self, *, timeframes: Iterable[Any], ema_period: int) -> None:
        if isinstance(timeframes, (str, bytes)):
            raise ValueError("timeframes must be a list, e.g. ['1m', '5m', '1h']")
        parsed = [parse_timeframe(tf) for tf in timeframes]
        if not parsed:
            raise ValueError("timeframes must not be empty")
        labels = [label for _, label in parsed]
        dupes = sorted({lb for lb in labels if labels.count(lb) > 1})
        if dupes:
            raise ValueError(f"duplicate timeframes: {', '.join(dupes)}")
        self.timeframes = tuple(labels)
        self.ema_period = check_int("ema_period", ema_period, 2)
        self._bars = [BarCloser(timeframe=s) for s, _ in parsed]
        self._emas = [Ema(period=self.ema_period) for _ in parsed]
        self._trend: list[int | None] = [None] * len(parsed)
        self._value: MtfValue | None = None
        self._last_ts: float | None = None

    def update(self, ts: Any, close: Any) -> None:
        t = next_ts(ts, self._last_ts)
        c = num(close)
        if t is None or c is None:
            return
        self._last_ts = t
        changed = False
        for i, bars in enumerate(self._bars):
            for end, bar_close in bars._observe(t, c):
                ema = self._emas[i]
                ema.update(end, bar_close)
                if ema.value is not None:
                    self._trend[i] = sign(bar_close - ema.value)
                    changed = True
        if changed:
            self._value = self._compute()

    def _compute(self) -> MtfValue | None:
        per = {lb: tr for lb, tr in zip(self.timeframes, self._trend) if tr is not None}
        n = len(per)
        if n == 0:
            return None
        up = sum(1 for tr in per.values() if tr > 0)
        down = sum(1 for tr in per.values() if tr < 0)
        return MtfValue(per, up / n, down / n, n)

    @property
    def value(self) -> MtfValue | None:
        return self._value

    def alignment_for(self, direction: Any) -> float | None:
        """Share of ready timeframes agreeing with ``direction``; None while warming up."""
        d = _direction(direction)
        v = self._value
        if v is None:
            return None
        return v.score_long if d > 0 else v.score_short

    @property
    def last_ts(self) -> float | None:
        return self._last_ts

    def state(self) -> dict:
        return {**header(self), "timeframes": list(self.timeframes),
                "ema_period": self.ema_period,
                "bars": [b.state() for b in self._bars],
                "emas": [e.state() for e in self._emas],
                "trend": list(self._trend), "last_ts": self._last_ts}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> MultiTimeframeAlignment:
        check_state(cls, state)
        obj = cls(timeframes=state["timeframes"], ema_period=state["ema_period"])
        obj._bars = [BarCloser.from_state(s) for s in state["bars"]]
        obj._emas = [Ema.from_state(s) for s in state["emas"]]
        obj._trend = [None if x is None else int(x) for x in state["trend"]]
        obj._last_ts = None if state["last_ts"] is None else float(state["last_ts"])
        obj._value = obj._compute()
        return obj
