from __future__ import annotations

import math
import random
import statistics

import pytest
from features_testutil import fbm_prices

from engine.trading.features import HurstExponent


def _reference(prices, window, lags):
    """Brute-force demeaned variogram over the last ``window`` returns."""
    x = [math.log(p) for p in prices[-(window + 1) :]]
    xs, ys = [], []
    for lag in lags:
        d = [x[i + lag] - x[i] for i in range(len(x) - lag)]
        m = sum(d) / len(d)
        ys.append(math.log(sum((v - m) ** 2 for v in d) / len(d)))
        xs.append(math.log(lag))
    xm, ym = sum(xs) / len(xs), sum(ys) / len(ys)
    slope = sum((a - xm) * (b - ym) for a, b in zip(xs, ys)) / sum((a - xm) ** 2 for a in xs)
    return slope / 2


def test_hand_computed_zigzag():
    # log prices (× c) 0,1,0,2,1,3,2,4,3 ; window 8 returns, lags 1 and 2.
    # lag 1: 1,-1,2,-1,2,-1,2,-1 -> mean 3/8, mean sq 17/8, var = 17/8 - 9/64 = 127/64
    # lag 2: 0,1,1,1,1,1,1       -> mean 6/7, mean sq 6/7, var = 6/7 - 36/49 = 6/49
    # H = 0.5 * log2(var2 / var1) = 0.5 * log2(384 / 6223)  (c cancels)
    c = 0.01
    h = HurstExponent(window=8, max_lag=2)
    for t, k in enumerate([0, 1, 0, 2, 1, 3, 2, 4, 3]):
        h.update(t, math.exp(c * k))
        if t < 8:
            assert h.value is None  # warming up
    assert h.value == pytest.approx(0.5 * math.log2(384 / 6223), rel=1e-9)
    assert h.samples == 8


def test_sliding_window_matches_brute_force():
    rng = random.Random(11)
    prices = [100.0]
    for _ in range(400):
        prices.append(prices[-1] * math.exp(rng.gauss(0, 0.002)))
    h = HurstExponent(window=64, min_window=32, max_lag=8)
    for t, p in enumerate(prices):
        h.update(t * 60.0, p)
        n = min(t, 64)
        if t < 32:
            assert h.value is None
        else:
            assert h.value == pytest.approx(_reference(prices[: t + 1], n, [1, 2, 4, 8]), abs=1e-9)


def test_recompute_every_caches_between_recomputes():
    rng = random.Random(5)
    h = HurstExponent(window=32, recompute_every=5, max_lag=4)
    p = 100.0
    seen = []
    for t in range(60):
        p *= math.exp(rng.gauss(0, 0.01))
        h.update(t, p)
        seen.append((h.value, h.computed_ts))
    first = next(i for i, (v, _) in enumerate(seen) if v is not None)
    assert first == 32  # 32 returns need 33 prices
    computed = sorted({ct for _, ct in seen if ct is not None})
    assert computed == [32, 37, 42, 47, 52, 57]
    assert all(seen[i][0] == seen[32][0] for i in range(32, 37))


def test_flat_prices_give_none_and_bad_prices_are_ignored():
    h = HurstExponent(window=16, max_lag=4)
    for t in range(20):
        h.update(t, 100.0)
    assert h.value is None  # no movement: H undefined
    h.update(20, 0.0)  # not a price
    h.update(21, -5)
    h.update(22, float("nan"))
    h.update(19, 101.0)  # out of order
    assert h.last_ts == 19.0 and h.samples == 16


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"window": 31, "max_lag": 8}, "window"),
        ({"window": 64, "max_lag": 6}, "power of two"),
        ({"window": 64, "max_lag": 1}, "max_lag"),
        ({"window": 64, "min_window": 65}, "min_window"),
        ({"window": 64, "min_window": 16}, "min_window"),
        ({"window": 64, "recompute_every": 0}, "recompute_every"),
    ],
)
def test_validates(kwargs, match):
    with pytest.raises(ValueError, match=match):
        HurstExponent(**kwargs)


def _estimate(prices, window):
    h = HurstExponent(window=window, recompute_every=10_000)
    for t, p in enumerate(prices):
        h.update(t * 60.0, p)
    return h.value


SEEDS = range(20)


@pytest.mark.parametrize("true_h", [0.3, 0.5, 0.7])
def test_accuracy_on_exact_fbm_window_512(true_h):
    """Tolerance (docs/features.md): mean over 20 seeds within ±0.05, every seed ±0.15."""
    estimates = [_estimate(fbm_prices(512, true_h, seed), 512) for seed in SEEDS]
    assert abs(statistics.mean(estimates) - true_h) <= 0.05, estimates
    assert all(abs(e - true_h) <= 0.15 for e in estimates), estimates


def test_white_noise_is_half():
    estimates = []
    for seed in SEEDS:
        rng = random.Random(seed)
        prices = [100.0]
        for _ in range(512):
            prices.append(prices[-1] * math.exp(rng.gauss(0, 0.001)))
        estimates.append(_estimate(prices, 512))
    assert abs(statistics.mean(estimates) - 0.5) <= 0.05
    assert all(abs(e - 0.5) <= 0.15 for e in estimates)


def test_persistent_above_antipersistent_on_every_seed():
    for seed in range(5):
        assert _estimate(fbm_prices(256, 0.7, seed), 256) > _estimate(fbm_prices(256, 0.3, seed), 256)
