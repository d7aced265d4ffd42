"""engine.common.times: the one place times are parsed and written, in the exact forms the
reports, messages and options have always shown."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from engine.common.times import (
    EARLIEST_TS,
    LATEST_TS,
    describe_ts,
    implausible_time,
    iso_utc,
    parse_time,
    plausible_time,
    readable_minute,
    readable_utc,
)

T0 = 1_748_131_200  # 2025-05-25 00:00:00 UTC


def test_iso_utc_is_whole_seconds_with_a_z():
    assert iso_utc(T0) == "2025-05-25T00:00:00Z"
    assert iso_utc(T0 + 61.999) == "2025-05-25T00:01:01Z"  # truncated, never rounded up


@pytest.mark.parametrize("bad", [math.nan, math.inf, 1e300])
def test_iso_utc_raises_for_a_time_datetime_cannot_hold(bad):
    with pytest.raises((OverflowError, OSError, ValueError)):
        iso_utc(bad)


def test_readable_utc_takes_numpy_floats():
    assert readable_utc(np.float64(T0 + 5)) == "2025-05-25 00:00:05 UTC"


def test_readable_minute_drops_seconds_only_on_a_whole_minute():
    assert readable_minute(T0 + 120) == "2025-05-25 00:02"
    assert readable_minute(T0 + 90) == "2025-05-25 00:01:30"


@pytest.mark.parametrize(
    "ts,text",
    [
        (T0, "1748131200 (2025-05-25T00:00:00Z)"),
        (T0 + 0.5, "1748131200.5 (2025-05-25T00:00:00Z)"),  # exact: two close times stay two
        (1e12, "1000000000000"),  # beyond datetime: the number alone
        (1e300, "1e+300"),  # short, not 301 digits
        (math.nan, "nan"),
        (-math.inf, "-inf"),
    ],
)
def test_describe_ts_is_exact_and_readable(ts, text):
    assert describe_ts(ts) == text


@pytest.mark.parametrize(
    "text,seconds",
    [
        ("1748131200", T0),
        ("1748131200.25", T0 + 0.25),
        ("2025-05-25T00:00:00Z", T0),
        ("2025-05-25 00:00", T0),  # no zone: UTC
        ("  2025-05-25T02:00:00+02:00 ", T0),
    ],
)
def test_parse_time_reads_epoch_seconds_and_iso(text, seconds):
    assert parse_time(text) == seconds


@pytest.mark.parametrize(
    "text,why",
    [
        ("nan", "not a finite number"),
        ("inf", "not a finite number"),
        ("yesterday", "Invalid isoformat"),
        ("1748131200000", "it looks like milliseconds: divide by 1000"),
        ("2100-01-01T00:00:01Z", "is not epoch seconds from 2009-01-03 to 2100-01-01 UTC"),
    ],
)
def test_parse_time_refuses_what_no_window_can_start_at(text, why):
    with pytest.raises(ValueError, match=re.escape(why)):
        parse_time(text)


def test_the_plausible_range_is_inclusive_and_works_on_arrays():
    assert plausible_time(EARLIEST_TS) and plausible_time(LATEST_TS)
    assert not plausible_time(EARLIEST_TS - 1) and not plausible_time(math.nan)
    mask = plausible_time(np.array([EARLIEST_TS - 1, T0, math.nan, LATEST_TS]))
    assert mask.tolist() == [False, True, False, True]


def test_implausible_time_names_the_likely_unit():
    assert implausible_time(T0 * 1e6) == (
        "1748131200000000 is not epoch seconds from 2009-01-03 to 2100-01-01 UTC",
        "it looks like microseconds: divide by 1000000",
    )
    assert implausible_time(12.0)[1] == ""
