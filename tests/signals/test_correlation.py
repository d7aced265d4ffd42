"""Pearson's r of two return series (engine.trading.correlation.correlation): the value, the bar ends
it uses, and when it is unknown."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.trading.correlation import correlation

RETURNS = st.floats(-0.05, 0.05, allow_nan=False)


@settings(max_examples=200, deadline=None)  # a loaded machine may take over 200 ms: slow, not wrong
@given(pairs=st.lists(st.tuples(RETURNS, RETURNS), min_size=12, max_size=300))
def test_it_is_pearsons_r_over_aligned_bar_ends(pairs):
    ra = {float(i * 300): a for i, (a, _) in enumerate(pairs)}
    rb = {float(i * 300): b for i, (_, b) in enumerate(pairs)}
    xs, ys = np.array([a for a, _ in pairs]), np.array([b for _, b in pairs])
    flat = np.ptp(xs) == 0 or np.ptp(ys) == 0
    value = correlation(ra, rb, 12)
    if flat:
        assert value is None
    elif value is not None:  # a near-flat side may round to zero variance: unknown, never a wrong number
        assert value == pytest.approx(float(np.corrcoef(xs, ys)[0, 1]), abs=1e-9)
        assert -1 - 1e-12 <= value <= 1 + 1e-12


def test_only_the_bar_ends_both_have_count_in_the_order_of_the_first():
    ra = {float(t): math.sin(t) for t in range(40)}
    rb = {float(t): math.cos(t) for t in range(5, 60)}  # shares bar ends 5..39
    shared = [float(t) for t in range(5, 40)]
    expected = float(np.corrcoef([ra[t] for t in shared], [rb[t] for t in shared])[0, 1])
    assert correlation(ra, rb, 12) == pytest.approx(expected, abs=1e-12)
    assert correlation(rb, ra, 12) == pytest.approx(expected, abs=1e-12)


def test_unknown_without_enough_common_bars_or_with_a_flat_side():
    ra = {float(t): 0.001 * t for t in range(20)}
    assert correlation(ra, {float(t): 0.002 * t for t in range(9, 20)}, 12) is None  # 11 in common
    assert correlation(ra, {float(t): 0.002 * t for t in range(8, 20)}, 12) == pytest.approx(1.0)
    assert correlation(ra, {float(t): 0.01 for t in range(20)}, 12) is None  # flat side
    assert correlation(ra, {}, 12) is None and correlation(None, ra, 12) is None
    assert correlation(ra, {float(t): -0.003 * t for t in range(20)}, 12) == pytest.approx(-1.0)


def test_the_same_inputs_give_the_same_float_every_time():
    rng = np.random.default_rng(7)
    ra = dict(zip(np.arange(288.0).tolist(), rng.normal(0, 0.01, 288).tolist()))
    rb = dict(zip(np.arange(288.0).tolist(), rng.normal(0, 0.01, 288).tolist()))
    assert len({correlation(ra, rb, 12) for _ in range(5)}) == 1
