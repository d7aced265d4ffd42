from __future__ import annotations

import pytest

from engine.trading.features import BarCloser, MultiTimeframeAlignment, parse_timeframe


@pytest.mark.parametrize(
    "tf,expected",
    [
        ("1m", (60, "1m")),
        ("5m", (300, "5m")),
        ("15m", (900, "15m")),
        ("1h", (3600, "1h")),
        ("4h", (14400, "4h")),
        ("1d", (86400, "1d")),
        (300, (300, "5m")),
        (3600, (3600, "1h")),
        ("60m", (3600, "1h")),
        (5400, (5400, "90m")),
        (300.0, (300, "5m")),
    ],
)
def test_parse_timeframe(tf, expected):
    assert parse_timeframe(tf) == expected


@pytest.mark.parametrize("bad", ["5s", "m5", "", "1w", 30, 90, 0, -60, True, None, 60.5])
def test_parse_timeframe_rejects(bad):
    with pytest.raises(ValueError, match="timeframe"):
        parse_timeframe(bad)


def test_bar_closer_boundaries():
    b = BarCloser(timeframe="5m")
    assert b.update(130, 1.0) == ()  # bar (0, 300] open
    assert b.update(290, 2.0) == ()
    assert b.update(300, 3.0) == ((300.0, 3.0),)  # stamped on the boundary: completes now
    assert b.update(301, 4.0) == ()  # bar (300, 600] open
    assert b.update(1000, 5.0) == ((600.0, 4.0),)  # gap: (300, 600] completes, (600, 900] skipped
    assert b.update(1200, 6.0) == ((1200.0, 6.0),)  # same bar (900, 1200]: completes at its end
    assert b.update(1330, 7.0) == ()
    assert b.update(1800, 8.0) == ((1500.0, 7.0), (1800.0, 8.0))  # two bars at once
    assert b.update(1800, 9.0) == ()  # duplicate ts ignored


def test_hand_computed_alignment():
    m = MultiTimeframeAlignment(timeframes=["1m", "5m"], ema_period=2)
    closes = [100, 101, 102, 103, 104, 105, 104, 103, 102, 101]
    for k, c in enumerate(closes, start=1):
        m.update(60.0 * k, c)  # 1-minute candle close times
        if k == 1:
            assert m.value is None  # no timeframe has 2 closed bars
        if k == 2:
            # 1m EMA(2) = SMA(100, 101) = 100.5 ; 101 > 100.5
            assert m.value.per_timeframe == {"1m": 1} and m.value.ready_count == 1
        if k == 9:
            assert "5m" not in m.value.per_timeframe  # one closed 5m bar only
    # 5m closes: 104 (bar ending 300) and 101 (bar ending 600) -> EMA(2) = 102.5, 101 < 102.5
    # 1m EMA(2) after the 10 closes = 101.4877 > 101
    v = m.value
    assert v.per_timeframe == {"1m": -1, "5m": -1}
    assert (v.score_long, v.score_short, v.ready_count) == (0.0, 1.0, 2)
    assert v.alignment_for("short") == 1.0 and m.alignment_for(1) == 0.0


def test_bar_counts_only_once_closed():
    """Snapshot times just after each minute: a 5m bar completes only when a close from
    the next bar arrives, and its close is the last close known inside it."""
    m = MultiTimeframeAlignment(timeframes=["5m"], ema_period=2)
    ts = [60.0 * k + 0.5 for k in range(11)]  # 0.5, 60.5, ..., 600.5
    prices = [10, 10, 10, 10, 11, 50, 50, 50, 50, 9, 1]
    for t, p in zip(ts, prices):
        m.update(t, p)
        if t < 600:
            assert m.value is None  # bars (0,300] and (300,600] not both done
    # bar (0, 300] closed with 11 (ts 240.5); bar (300, 600] with 9 (ts 540.5), known at 600.5
    # EMA(2) = 10 > 9: trend down. The close 1 at ts 600.5 is in the open bar: not used.
    assert m.value.per_timeframe == {"5m": -1}


def test_ignores_bad_readings():
    m = MultiTimeframeAlignment(timeframes=["1m"], ema_period=2)
    m.update(60, 1)
    m.update(60, 5)
    m.update(30, 5)
    m.update(120, float("nan"))
    m.update(120, None)
    assert m.value is None and m.last_ts == 60.0
    m.update(120, 2)
    assert m.value.per_timeframe == {"1m": 1}


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"timeframes": [], "ema_period": 3}, "empty"),
        ({"timeframes": ["5m", 300], "ema_period": 3}, "duplicate"),
        ({"timeframes": "5m", "ema_period": 3}, "list"),
        ({"timeframes": ["5m"], "ema_period": 1}, "ema_period"),
        ({"timeframes": ["7s"], "ema_period": 3}, "timeframe"),
    ],
)
def test_validates(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MultiTimeframeAlignment(**kwargs)


def test_alignment_direction_validated():
    m = MultiTimeframeAlignment(timeframes=["1m"], ema_period=2)
    assert m.alignment_for("LONG") is None
    with pytest.raises(ValueError, match="direction"):
        m.alignment_for("up")
    with pytest.raises(ValueError, match="direction"):
        m.alignment_for(0)
