"""Times as rulebot reads and writes them: epoch seconds (a float, UTC) inside, a few fixed
UTC text forms outside, and one range every time read must lie in.

One home, so a report, a message and a parsed option never disagree on a format.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

#: The plausible times of market data, epoch seconds UTC, for every time rulebot reads
#: (snapshot ts, <input>_ts, candle open times, --from/--to/--at, build-spec windows). No
#: crypto market predates the first Bitcoin block (2009-01-03); 2100-01-01 is far beyond
#: any recording, yet keeps times where datetime, pandas (nanoseconds, up to 2262) and the
#: scheduler's arithmetic (a 1e-6 s step still moves a float below 2**32) stay exact. A time
#: outside is a unit slip (milliseconds…) or garbage, and taken as seconds it would make a
#: replay catch up centuries of scheduled jobs: refuse it where it is read.
EARLIEST_TS = 1_230_940_800.0  # 2009-01-03T00:00:00Z
LATEST_TS = 4_102_444_800.0  # 2100-01-01T00:00:00Z
TIME_RANGE = "2009-01-03 to 2100-01-01 UTC"
_UNITS = ((1e3, "milliseconds", "1000"), (1e6, "microseconds", "1000000"), (1e9, "nanoseconds", "1000000000"))

ISO_FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # 2025-05-25T00:00:00Z: reports, explain, option values
READABLE_FORMAT = "%Y-%m-%d %H:%M:%S UTC"  # 2025-05-25 00:00:00 UTC: snapshot-build messages


def plausible_time(seconds: Any) -> Any:
    """Whether epoch seconds lie in the range market data can have (NaN does not): a bool
    for a number, a bool array for an array (the columnar reader checks whole columns)."""
    return (seconds >= EARLIEST_TS) & (seconds <= LATEST_TS)


def implausible_time(seconds: float) -> tuple[str, str]:
    """(why, hint) for a time outside the range: the hint names the unit it was most likely
    written in (milliseconds are the usual slip: exchange APIs speak them)."""
    why = f"{exact_number(seconds)} is not epoch seconds from {TIME_RANGE}"
    for factor, unit, divisor in _UNITS:
        if plausible_time(seconds / factor):
            return why, f"it looks like {unit}: divide by {divisor}"
    return why, ""


def exact_number(value: float) -> str:
    """A number in a message: every digit of a plausible time, but 1e+300 stays short."""
    return f"{value:.0f}" if abs(value) < 1e16 and value == int(value) else repr(value)


def parse_time(text: str) -> float:
    """Epoch seconds from epoch seconds or ISO 8601 (UTC when no zone is given); ValueError
    for anything else, ``nan`` and ``inf`` included (no window can start at them), and for a
    time outside :data:`TIME_RANGE`: no snapshot can be there, and milliseconds taken for
    seconds would put the window in the year 57000."""
    seconds = _seconds(text)
    if not plausible_time(seconds):
        why, hint = implausible_time(seconds)
        raise ValueError(f"{why}{'; ' + hint if hint else ''}")
    return seconds


def _seconds(text: str) -> float:
    """Epoch seconds written as a number or as ISO 8601, unchecked against the range."""
    try:
        value = float(text)
    except ValueError:
        pass
    else:
        if not math.isfinite(value):
            raise ValueError(f"{text!r} is not a finite number of seconds")
        return value
    moment = datetime.fromisoformat(text.strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def iso_utc(ts: float) -> str:
    """``2025-05-25T00:00:00Z`` (whole seconds, truncated); OverflowError, OSError or
    ValueError for a time datetime cannot hold (NaN, ±inf, beyond year 9999)."""
    return datetime.fromtimestamp(ts, UTC).strftime(ISO_FORMAT)


def readable_utc(ts: float) -> str:
    """``2025-05-25 00:00:00 UTC``: a time in a message a person reads (numpy floats too)."""
    return datetime.fromtimestamp(float(ts), UTC).strftime(READABLE_FORMAT)


def readable_minute(ts: float) -> str:
    """``2025-05-25 00:00`` on a whole minute, ``2025-05-25 00:00:30`` otherwise (gap lists:
    snapshots are one a minute, so seconds are noise unless they say something)."""
    text = readable_utc(ts)
    return text[:16] if ts % 60 == 0 else text[:19]


def describe_ts(ts: float) -> str:
    """A snapshot time in a message: exact (``%g`` would round two close times to one) and
    readable, ``1748131200 (2025-05-25T00:00:00Z)``; only the number when datetime cannot
    hold it."""
    if not math.isfinite(ts):
        return repr(ts)
    exact = exact_number(ts)
    try:
        return f"{exact} ({iso_utc(ts)})"
    except (OverflowError, OSError, ValueError):
        return exact
