from __future__ import annotations

import json
import math
import random
import statistics

import pytest

from engine.trading.features import CountWindow, TimeWindow


def test_time_window_hand_computed():
    w = TimeWindow(10)
    w.push(0, 1)
    w.push(5, 3)
    w.push(10, 5)  # cutoff 10 - 10 = 0: the entry at ts 0 is evicted (age >= 10 s)
    assert list(w) == [(5.0, 3.0), (10.0, 5.0)]
    assert w.evicted == (0.0, 1.0)
    assert w.sum == 8.0 and w.mean == 4.0
    assert w.slope == pytest.approx(0.4)  # (5 - 3) / 5 s
    w.push(12, 5)
    # x = 5, 10, 12 (mean 9), y = 3, 5, 5 (mean 13/3)
    # Sxy = (-4)(-4/3) + (1)(2/3) + (3)(2/3) = 8 ; Sxx = 16 + 1 + 9 = 26 -> 8/26
    assert w.slope == pytest.approx(8 / 26)
    # population variance: ((4/3)^2 + 2 (2/3)^2) / 3 = 8/9
    assert w.variance() == pytest.approx(8 / 9)
    assert w.variance(ddof=1) == pytest.approx(4 / 3)
    assert w.first == (5.0, 3.0) and w.last == (12.0, 5.0)


def test_count_window_evicts_by_count():
    w = CountWindow(3)
    for i, v in enumerate([1, 2, 3, 4]):
        w.push(i, v)
    assert w.values() == [2.0, 3.0, 4.0]
    assert w.full and w.sum == 9.0 and w.evicted == (0.0, 1.0)
    assert w.slope == pytest.approx(1.0)


def test_empty_and_single():
    w = TimeWindow(60)
    assert len(w) == 0 and w.sum == 0.0 and w.mean is None and w.slope is None
    assert w.first is None and w.variance() is None
    w.push(1, 7)
    assert w.mean == 7.0 and w.slope is None and w.variance() == 0.0 and w.variance(1) is None


def test_rejects_bad_input_but_accepts_equal_ts():
    w = TimeWindow(60)
    assert w.push(10, 1)
    assert not w.push(9, 1)  # backwards
    assert not w.push(11, float("nan"))
    assert not w.push(11, None)
    assert not w.push(float("inf"), 1)
    assert w.push(10, 2)  # equal ts: several events may share one
    assert w.sum == 3.0


def test_all_identical_values_are_exact():
    w = CountWindow(3)
    for i, v in enumerate([0.1, 0.2, 0.3, 0.7, 0.7, 0.7]):
        w.push(i, v)
    assert w.all_same
    assert w.mean == 0.7 and w.variance() == 0.0 and w.slope == 0.0
    w.push(6, 0.0)
    w.push(7, 0.0)
    w.push(8, 0.0)
    assert w.sum == 0.0 and w.stdev(1) == 0.0


def test_advance_evicts_without_push():
    w = TimeWindow(60)
    w.push(0, 1)
    w.push(30, 2)
    w.advance(75)
    assert w.values() == [2.0] and w.evicted == (0.0, 1.0)
    w.advance(float("nan"))
    assert len(w) == 1


@pytest.mark.parametrize("bad", [0, -1, float("nan"), None, "x", True])
def test_time_window_validates(bad):
    with pytest.raises(ValueError, match="seconds"):
        TimeWindow(bad)


@pytest.mark.parametrize("bad", [0, -3, 2.5, None, True])
def test_count_window_validates(bad):
    with pytest.raises(ValueError, match="n must be"):
        CountWindow(bad)


def _reference(entries):
    ts = [t for t, _ in entries]
    vs = [v for _, v in entries]
    n = len(vs)
    tm, vm = sum(ts) / n, math.fsum(vs) / n
    sxx = sum((t - tm) ** 2 for t in ts)
    slope = sum((t - tm) * (v - vm) for t, v in entries) / sxx
    return math.fsum(vs), vm, statistics.pvariance(vs), slope


@pytest.mark.parametrize("kind", ["time", "count"])
def test_running_sums_match_direct_computation_over_a_long_run(kind):
    rng = random.Random(7)
    w = TimeWindow(600) if kind == "time" else CountWindow(25)
    t = 1_700_000_000.0  # real epoch seconds: slope must stay well conditioned
    level = 1e6
    for i in range(5000):
        t += rng.choice([59.7, 60.0, 60.4, 120.0])
        level += rng.gauss(0, 1000)
        w.push(t, level)
        if i % 97 == 0 and len(w) >= 2:
            s, m, var, slope = _reference(list(w))
            assert w.sum == pytest.approx(s, rel=1e-12)
            assert w.mean == pytest.approx(m, rel=1e-12)
            assert w.variance() == pytest.approx(var, rel=1e-6, abs=1e-6)
            assert w.slope == pytest.approx(slope, rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("cls,arg", [(TimeWindow, 300), (CountWindow, 7)])
def test_state_round_trip(cls, arg):
    rng = random.Random(3)
    a = cls(arg)
    series = [(i * 60.0 + rng.random(), rng.gauss(0, 1)) for i in range(300)]
    for t, v in series[:150]:
        a.push(t, v)
    b = cls.from_state(json.loads(json.dumps(a.state())))
    for t, v in series[150:]:
        a.push(t, v)
        b.push(t, v)
        assert (a.sum, a.mean, a.variance(), a.slope) == (b.sum, b.mean, b.variance(), b.slope)
    assert a.state() == b.state()


def test_from_state_refuses_other_type():
    with pytest.raises(ValueError, match="not CountWindow"):
        CountWindow.from_state(TimeWindow(5).state())
