from __future__ import annotations

import pytest

from engine.trading.features import (
    FundingDeviation,
    FundingValue,
    LiquidationCascade,
    LiquidationValue,
    OiPriceDivergence,
    OpenInterestVelocity,
)


def test_oi_velocity_hand_computed_and_gap():
    v = OpenInterestVelocity(window_seconds=120)
    v.update(0, 1000)
    v.update(60, 1010)
    assert v.value is None  # no reading 120 s old yet
    v.update(120, 1020)
    assert v.value == pytest.approx(2.0)  # 1020 / 1000 - 1 = +2 %
    assert v.span_seconds == 120.0
    v.update(180, 1000)
    assert v.value == pytest.approx((1000 / 1010 - 1) * 100)  # base: the reading at 60
    v.update(600, 1100)  # 420 s gap > max span (2 x 120 s)
    assert v.value is None and v.span_seconds is None
    v.update(660, 1100)
    assert v.value is None  # base still the reading at 180
    v.update(720, 1100)
    assert v.value == 0.0 and v.span_seconds == 120.0  # base: the reading at 600


def test_oi_velocity_hourly_readings_with_hourly_window():
    v = OpenInterestVelocity(window_seconds=3600)
    v.update(0, 200)
    v.update(3601, 201)  # jittered hourly reading
    assert v.value == pytest.approx(0.5)  # as-of base: the reading at 0
    assert v.span_seconds == 3601.0


def test_oi_velocity_zero_base_and_bad_input():
    v = OpenInterestVelocity(window_seconds=60)
    v.update(0, 0)
    v.update(60, 10)
    assert v.value is None  # % of zero is undefined
    v.update(120, -1)  # negative OI: ignored
    v.update(120, float("inf"))
    assert v.last_ts == 60.0


def test_oi_divergence_hand_computed():
    d = OiPriceDivergence(window_seconds=60, min_move_pct=0.5)
    d.update(0, 100, 1000)
    assert d.value is None
    d.update(60, 101, 990)  # price +1 %, OI -1 %
    v = d.value
    assert v.divergence == "price_up_oi_down"
    assert v.price_change_pct == pytest.approx(1.0) and v.oi_change_pct == pytest.approx(-1.0)
    assert v.strength == pytest.approx(1.0)
    d.update(120, 100, 1000)  # price -0.990 %, OI +1.0101 %
    v = d.value
    assert v.divergence == "price_down_oi_up"
    assert v.strength == pytest.approx(100 * (1 - 100 / 101))
    d.update(180, 101, 1010)  # both up: no divergence
    assert d.value.divergence == "none" and d.value.strength == 0.0
    d.update(240, 101.2, 1000)  # price +0.198 %: below 0.5 %
    assert d.value.divergence == "none"


def test_oi_divergence_threshold_is_strict():
    d = OiPriceDivergence(window_seconds=60, min_move_pct=0.0)
    d.update(0, 100, 1000)
    d.update(60, 100, 900)  # price 0 % is not > 0
    assert d.value.divergence == "none"


def test_funding_deviation_hand_computed():
    f = FundingDeviation(window=3)
    f.update(0, 0.0001)
    f.update(1, 0.0002)
    assert f.value is None
    f.update(2, 0.0003)
    # mean 0.0002, deviation 0.0001, sample stdev 0.0001 -> z = 1
    v = f.value
    assert v.rate == 0.0003
    assert v.mean == pytest.approx(0.0002) and v.deviation == pytest.approx(0.0001)
    assert v.zscore == pytest.approx(1.0)
    f.update(3, 0.0003)
    # window 0.0002, 0.0003, 0.0003: mean 0.00026667, sample var 3.3333e-9
    assert f.value.zscore == pytest.approx((0.0003 - 0.0008 / 3) / (1e-8 / 3) ** 0.5)
    f.update(4, 0.0003)
    assert f.value == FundingValue(0.0003, 0.0003, 0.0, None)  # flat: exact, z undefined


def test_liquidation_cascade_hand_computed():
    c = LiquidationCascade(window_seconds=240)  # halves of 120 s
    c.update(0, 0, 0)
    c.update(60, 100, 0)
    c.update(120, 0, 50)
    c.update(180, 300, 0)
    assert c.value is None  # history spans 180 s of 240 s
    c.update(240, 0, 0)
    # window (0, 240]: newer (120, 240] = 180, 240 -> 300 ; older (0, 120] = 60, 120 -> 150
    assert c.value == LiquidationValue(
        total_usd=450.0,
        long_usd=400.0,
        short_usd=50.0,
        dominant_side="long",
        dominance=pytest.approx(400 / 450),
        long_ratio=pytest.approx(400 / 450),
        acceleration=2.0,
    )
    c.update(300, 600, 0)
    # window (60, 300]: newer (180, 300] = 240, 300 -> 600 ; older (60, 180] = 120, 180 -> 350
    # (an entry exactly W/2 old, here the one at 180, belongs to the older half)
    v = c.value
    assert (v.long_usd, v.short_usd, v.total_usd) == (900.0, 50.0, 950.0)
    assert v.acceleration == pytest.approx(600 / 350)
    c.update(360, 0, 0)
    # newer (240, 360] = 300, 360 -> 600 ; older (120, 240] = 180, 240 -> 300
    assert c.value.acceleration == 2.0
    c.update(480, 0, 0)
    # newer (360, 480] = 480 -> 0 ; older (240, 360] = 300, 360 -> 600
    assert c.value.acceleration == 0.0
    c.update(600, 0, 0)
    v = c.value  # only zeros left in the window
    assert v == LiquidationValue(0.0, 0.0, 0.0, "none", None, None, None)


def test_liquidation_sums_are_exactly_zero_after_eviction():
    c = LiquidationCascade(window_seconds=120)  # halves of 60 s
    c.update(0, 0.1, 0.0)
    c.update(60, 0.2, 0.0)
    c.update(120, 0.0, 0.0)
    assert c.value.long_usd == pytest.approx(0.2) and c.value.dominant_side == "long"
    c.update(180, 0.0, 0.3)
    # window (60, 180]: 0.1 and 0.2 were added to and removed from the older half;
    # 0.1 + 0.2 - 0.1 - 0.2 is 5.6e-17 in floats, but a side with no non-zero entry is 0.
    v = c.value
    assert v.long_usd == 0.0 and v.long_ratio == 0.0
    assert v.dominant_side == "short" and v.dominance == 1.0
    assert v.acceleration is None  # older half (60, 120] holds only a zero


def test_liquidation_ignores_negative_and_nan():
    c = LiquidationCascade(window_seconds=60)
    c.update(0, 10, 10)
    c.update(30, -1, 5)
    c.update(30, float("nan"), 5)
    c.update(60, 0, 0)
    assert c.value.total_usd == 0.0  # the readings at 30 were ignored whole


@pytest.mark.parametrize(
    "make",
    [
        lambda: OpenInterestVelocity(window_seconds=0),
        lambda: OpenInterestVelocity(window_seconds=60, max_span_seconds=30),
        lambda: OiPriceDivergence(window_seconds=60, min_move_pct=-1),
        lambda: FundingDeviation(window=1),
        lambda: LiquidationCascade(window_seconds=None),
    ],
)
def test_validates(make):
    with pytest.raises(ValueError):
        make()
