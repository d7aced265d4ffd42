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
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ._common import LAST_TS, OPT_FLOAT, OPT_INT, OPT_INTS, Feature, check_int, nested_list, read_only, sign
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


class BarCloser(Feature):
    """Turns a stream of closes into completed bar closes of one timeframe.

    ``update(ts, close)`` returns the bars completed by this reading as a tuple of
    ``(bar_end_ts, close)``, oldest first: empty, one, or two (a pending bar plus the bar
    ending exactly at ``ts``). Useful on its own, e.g. to feed 5-minute closes to EmaCross.
    """

    __slots__ = ("_bar", "_close", "_end", "label", "seconds")
    _PARAMS = ("timeframe",)
    _STATE = (("bar", "_bar", OPT_INT), ("close", "_close", OPT_FLOAT), LAST_TS)

    def __init__(self, *, timeframe: Any) -> None:
        super().__init__()
        self.seconds, self.label = parse_timeframe(timeframe)
        self._bar: int | None = None  # index k of the open bar (k·T, (k+1)·T]
        self._end = float("-inf")  # (k+1)·T of the open bar; -inf when none
        self._close: float | None = None

    def update(self, ts: Any, close: Any) -> tuple[tuple[float, float], ...]:
        t, c = self._reading(ts, close)
        if t is None or c is None:
            return ()
        self._last_ts = t
        return self._observe(t, c)

    def _observe(self, t: float, c: float) -> tuple[tuple[float, float], ...]:
        if t < self._end:  # fast path: still inside the open bar
            self._close = c
            return ()
        T = self.seconds
        end = -((-t) // T)  # ceil(t / T), exact for floats
        k = int(end) - 1
        done: tuple[tuple[float, float], ...] = ()
        bar, close = self._bar, self._close  # set together: both or neither None
        if bar is not None and close is not None and k != bar:
            done = ((float((bar + 1) * T), close),)
        self._bar, self._close, self._end = k, c, end * T
        if t == self._end:  # stamped on the boundary: complete now
            done += ((t, c),)
            self._bar = self._close = None
            self._end = float("-inf")
        return done

    def _params(self) -> dict:
        return {"timeframe": self.label}

    def _after_load(self) -> None:
        if self._bar is not None:
            self._end = float((self._bar + 1) * self.seconds)


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


class MultiTimeframeAlignment(Feature):
    """Trend alignment across timeframes (seed: 1m, 5m, 15m, 1h, 4h, 1d) from 1-minute closes.

    Per timeframe: trend = sign(last completed bar close - EMA(ema_period) of completed
    bar closes). A timeframe is ready after ``ema_period`` completed bars (20 × 1d = 20
    days of closes: replay history or restore ``state()`` at start-up). ``value`` is None
    until at least one timeframe is ready; callers wanting all of them check
    ``ready_count``.
    """

    __slots__ = ("_bars", "_emas", "_trend", "_value", "ema_period", "timeframes")
    _PARAMS = ("timeframes", "ema_period")
    # value is not saved: _after_load recomputes it from the trends.
    _STATE = (
        ("bars", "_bars", nested_list(BarCloser)),
        ("emas", "_emas", nested_list(Ema)),
        ("trend", "_trend", OPT_INTS),
        LAST_TS,
    )

    def __init__(self, *, timeframes: Iterable[Any], ema_period: int) -> None:
        super().__init__()
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

    def update(self, ts: Any, close: Any) -> None:
        t, c = self._reading(ts, close)
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

    value = read_only("_value", "Trends and scores of the ready timeframes, None before any.")

    def alignment_for(self, direction: Any) -> float | None:
        """Share of ready timeframes agreeing with ``direction``; None while warming up."""
        d = _direction(direction)
        v = self._value
        if v is None:
            return None
        return v.score_long if d > 0 else v.score_short

    def _params(self) -> dict:
        return {"timeframes": list(self.timeframes), "ema_period": self.ema_period}

    def _after_load(self) -> None:
        self._value = self._compute()
