"""Hurst exponent (seed #4, 8 %): follow persistent trends, fade mean-reverting moves.

H comes from the last 256 one-minute log returns (variogram estimator, lags 1, 2, 4, 8:
H = ½ · OLS slope of log Var(x[t+τ] − x[t]) on log τ, docs/features.md); the trend is
the sign of close(now) − close(30 min ago). H > trending_above (paper 0.55, live 0.60;
strict) → follow the trend; H < mean_reverting_below (paper 0.45, live 0.40; strict) →
fade it; in between (thresholds included) NEUTRAL ``random_walk``. Confidence =
|H − 0.5| ÷ 0.5.
"""

from __future__ import annotations

import math
import random
from collections import deque
from types import SimpleNamespace

import pytest

from engine.trading.signals.answer import LONG, NEUTRAL, SHORT
from tests.signals.helpers import FOLLOWER, MIN, T0, candles, closes_from_returns, direct, run, snap

CID = "hurst"


def ar1_returns(phi, drift, n=256, seed=7, sigma=0.001):
    """AR(1) one-minute log returns: φ > 0 persists (H > ½), φ < 0 mean-reverts (H < ½)."""
    rnd, r, out = random.Random(seed), 0.0, []
    for _ in range(n):
        r = phi * r + rnd.gauss(0.0, sigma)
        out.append(r + drift)
    return out


def reference_hurst(closes, lags=(1, 2, 4, 8)):
    """Independent, non-incremental restatement of the estimator over the last 257 closes."""
    x = [math.log(c) for c in closes[-257:]]
    pts = []
    for lag in lags:
        inc = [x[i + lag] - x[i] for i in range(len(x) - lag)]
        mean = sum(inc) / len(inc)
        pts.append((math.log(lag), math.log(sum((d - mean) ** 2 for d in inc) / len(inc))))
    xm = sum(p[0] for p in pts) / len(pts)
    ym = sum(p[1] for p in pts) / len(pts)
    slope = sum((a - xm) * (b - ym) for a, b in pts) / sum((a - xm) ** 2 for a, _ in pts)
    return slope / 2


def answer(profile, returns):
    closes = closes_from_returns(100.0, returns)  # 257 closes: the first H is computed on the last
    s = snap(T0 + len(closes) * MIN, {FOLLOWER: {"candles": candles(T0, closes)}})
    return run(profile, CID, [s], s.ts), closes


CASES = [
    # profile, φ, drift/min, sign of returns, direction, reason, H range the data must give
    ("paper", 0.6, 0.001, +1, LONG, "trending_follow", (0.60, 1.0)),  # persistent, rising → follow up
    ("paper", 0.6, 0.001, -1, SHORT, "trending_follow", (0.60, 1.0)),  # mirror: same H, falling
    ("live", 0.6, 0.001, +1, LONG, "trending_follow", (0.60, 1.0)),
    ("live", 0.6, 0.001, -1, SHORT, "trending_follow", (0.60, 1.0)),
    ("paper", -0.6, 0.001, +1, SHORT, "mean_reverting_fade", (0.0, 0.40)),  # reverting, rising → fade: SHORT
    ("paper", -0.6, 0.001, -1, LONG, "mean_reverting_fade", (0.0, 0.40)),  # mirror
    ("live", -0.6, 0.001, +1, SHORT, "mean_reverting_fade", (0.0, 0.40)),
    ("live", -0.6, 0.001, -1, LONG, "mean_reverting_fade", (0.0, 0.40)),
]


@pytest.mark.parametrize("profile, phi, drift, sign, direction, reason, h_range", CASES)
def test_persistent_series_are_followed_and_reverting_ones_faded(profile, phi, drift, sign, direction, reason, h_range):
    returns = [sign * r for r in ar1_returns(phi, drift)]
    got, closes = answer(profile, returns)
    h = reference_hurst(closes)
    assert h_range[0] < h < h_range[1]  # the data is what the case says
    assert (closes[-1] > closes[-31]) == (sign > 0)  # … and so is its 30-min trend
    assert got.inputs["hurst"] == pytest.approx(h, abs=1e-9)
    assert (got.direction, got.reasons) == (direction, (reason,))
    assert got.confidence == pytest.approx(abs(h - 0.5) / 0.5, abs=1e-9)  # |H − ½| ÷ ½


def boundary(profile, h, trend=+1):
    closes = deque([100.0] * 30 + [100.0 + trend], maxlen=31)
    return direct(profile, CID, None, hurst=SimpleNamespace(value=h), closes=closes)


BOUNDARY_CASES = [
    # profile, H, trend, direction, reason, confidence
    ("paper", 0.5499, +1, NEUTRAL, "random_walk", 0.0),
    ("paper", 0.55, +1, NEUTRAL, "random_walk", 0.0),  # at trending_above: strict > → neutral
    ("paper", 0.5501, +1, LONG, "trending_follow", 0.1002),  # |0.5501 − 0.5|/0.5
    ("paper", 0.5501, -1, SHORT, "trending_follow", 0.1002),  # mirror trend
    ("paper", 0.4501, +1, NEUTRAL, "random_walk", 0.0),
    ("paper", 0.45, +1, NEUTRAL, "random_walk", 0.0),  # at mean_reverting_below: strict <
    ("paper", 0.4499, +1, SHORT, "mean_reverting_fade", 0.1002),  # fade the rise
    ("paper", 0.4499, -1, LONG, "mean_reverting_fade", 0.1002),  # fade the fall
    ("live", 0.58, +1, NEUTRAL, "random_walk", 0.0),  # paper would follow (0.58 > 0.55)
    ("live", 0.60, +1, NEUTRAL, "random_walk", 0.0),  # strict >
    ("live", 0.6001, +1, LONG, "trending_follow", 0.2002),
    ("live", 0.40, -1, NEUTRAL, "random_walk", 0.0),  # strict <
    ("live", 0.3999, -1, LONG, "mean_reverting_fade", 0.2002),
    ("live", 0.9, -1, SHORT, "trending_follow", 0.8),  # |0.9 − 0.5|/0.5
]


@pytest.mark.parametrize("profile, h, trend, direction, reason, confidence", BOUNDARY_CASES)
def test_hurst_band_boundaries_are_strict(profile, h, trend, direction, reason, confidence):
    got = boundary(profile, h, trend)
    assert (got.direction, got.reasons) == (direction, (reason,))
    assert got.confidence == pytest.approx(confidence)


def test_a_flat_half_hour_has_no_trend_to_follow():
    got = boundary("paper", 0.8, trend=0)
    assert (got.direction, got.reasons) == (NEUTRAL, ("no_trend",))


def test_fewer_than_256_returns_are_warming_up():
    closes = closes_from_returns(100.0, ar1_returns(0.6, 0.001, n=255))
    s = snap(T0 + len(closes) * MIN, {FOLLOWER: {"candles": candles(T0, closes)}})
    got = run("paper", CID, [s], s.ts)
    assert (got.direction, got.reasons) == (NEUTRAL, ("warming_up",))
