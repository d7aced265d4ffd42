from __future__ import annotations

import math

import pytest

from engine.trading.features import FearGreed, FearGreedValue, SkewValue, VolatilitySkewProxy


def test_fear_greed_latest_with_timestamp():
    fg = FearGreed()
    assert fg.value is None
    fg.update(86_400, 20)
    assert fg.value == FearGreedValue(20.0, 86_400.0)
    assert fg.value.age_seconds(90_000) == 3_600
    fg.update(90_000, 150)  # out of range: ignored
    fg.update(80_000, 70)  # older than the last: ignored
    fg.update(90_000, float("nan"))
    assert fg.value == FearGreedValue(20.0, 86_400.0)
    fg.update(172_800, 100)
    assert fg.value.value == 100.0 and fg.last_ts == 172_800.0


def test_skew_proxy_hand_computed():
    s = VolatilitySkewProxy(window=4)
    for t, r in enumerate([0.01, -0.02, 0.03]):
        s.update(t, ret=r)
    assert s.value is None  # 3 of 4 returns
    s.update(3, ret=-0.01)
    # down = sqrt((4e-4 + 1e-4) / 4), up = sqrt((1e-4 + 9e-4) / 4): ratio sqrt(1/2)
    v = s.value
    assert v.source == "proxy"
    assert v.skew == pytest.approx(math.sqrt(0.5) - 1)
    assert v.downside_dev == pytest.approx(math.sqrt(5e-4 / 4))
    assert v.upside_dev == pytest.approx(math.sqrt(1e-3 / 4))
    s.update(4, ret=-0.05)  # window: -0.02, 0.03, -0.01, -0.05
    assert s.value.skew == pytest.approx(math.sqrt((4e-4 + 1e-4 + 25e-4) / 9e-4) - 1)


def test_skew_proxy_undefined_without_positive_returns():
    s = VolatilitySkewProxy(window=3)
    for t, r in enumerate([0.01, -0.01, 0.0, -0.02, 0.0]):
        s.update(t, ret=r)
    assert s.value is None  # window 0, -0.02, 0: no upside
    s.update(5, ret=0.02)  # window -0.02, 0, 0.02
    assert s.value.skew == 0.0


def test_no_downside_is_minus_one():
    s = VolatilitySkewProxy(window=2)
    s.update(0, ret=0.01)
    s.update(1, ret=0.02)
    assert s.value.skew == -1.0


def test_implied_skew_is_preferred_when_fresh():
    s = VolatilitySkewProxy(window=2)
    s.update(0, ret=0.01)
    s.update(60, ret=-0.01, implied_skew=0.05)  # both inputs are used
    assert s.value == SkewValue(0.05, "implied", None, None)
    s.update(120, ret=0.01)  # implied not repeated: back to the proxy
    assert s.value.source == "proxy"
    s.update(180, ret=float("nan"), implied_skew=-0.02)  # NaN return ignored, implied used
    assert s.value.skew == -0.02


def test_implied_max_age():
    s = VolatilitySkewProxy(window=2, implied_max_age_seconds=120)
    s.update(0, implied_skew=0.04)
    s.update(60, ret=0.01)
    s.update(120, ret=-0.01)
    assert s.value.source == "implied"  # 120 s old: still fresh
    s.update(121, ret=0.01)
    assert s.value.source == "proxy"


def test_update_with_nothing_valid_is_ignored():
    s = VolatilitySkewProxy(window=2)
    s.update(10)
    s.update(11, ret=None, implied_skew=float("nan"))
    assert s.last_ts is None


@pytest.mark.parametrize("kwargs", [{"window": 1}, {"window": 10, "implied_max_age_seconds": -1}])
def test_skew_validates(kwargs):
    with pytest.raises(ValueError):
        VolatilitySkewProxy(**kwargs)
