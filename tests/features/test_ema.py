from __future__ import annotations

import pytest

from engine.trading.features import CrossState, Ema, EmaCross


def test_ema_seeded_with_sma_then_recursive():
    e = Ema(period=3)  # alpha = 2 / 4 = 0.5
    e.update(1, 1)
    e.update(2, 2)
    assert e.value is None  # warming up: 2 of 3 values
    e.update(3, 3)
    assert e.value == 2.0  # SMA(1, 2, 3)
    e.update(4, 6)
    assert e.value == 4.0  # 2 + 0.5 * (6 - 2)
    e.update(5, 0)
    assert e.value == 2.0  # 4 + 0.5 * (0 - 4)


def test_ema_period_one_is_the_last_value():
    e = Ema(period=1)
    e.update(1, 5)
    e.update(2, 7)
    assert e.value == 7.0


def test_ema_ignores_bad_readings():
    e = Ema(period=2)
    e.update(10, 1)
    e.update(10, 100)  # duplicate ts
    e.update(9, 100)  # out of order
    e.update(11, float("nan"))
    e.update(12, None)
    assert e.value is None  # still 1 of 2 values
    e.update(13, 3)
    assert e.value == 2.0


@pytest.mark.parametrize("bad", [0, -1, 2.5, None, True])
def test_ema_validates(bad):
    with pytest.raises(ValueError, match="period"):
        Ema(period=bad)


def test_cross_hand_computed():
    x = EmaCross(fast=2, slow=3)  # alphas 2/3 and 1/2
    for t, c in [(1, 1), (2, 2)]:
        x.update(t, c)
    assert x.value is None  # slow EMA not ready
    x.update(3, 3)
    # fast: SMA(1,2)=1.5, then 1.5 + 2/3 (3 - 1.5) = 2.5 ; slow: SMA(1,2,3) = 2
    assert x.value == CrossState(direction=1, spread_pct=pytest.approx(25.0), flipped=False)
    x.update(4, 0)
    # fast: 2.5 + 2/3 (0 - 2.5) = 5/6 ; slow: 2 + 1/2 (0 - 2) = 1 -> below: a flip
    v = x.value
    assert v.direction == -1 and v.flipped is True
    assert v.spread_pct == pytest.approx((5 / 6 - 1) / 1 * 100)
    x.update(5, 0)
    assert x.value.direction == -1 and x.value.flipped is False  # flipped only once


def test_cross_from_equal_is_not_a_flip():
    x = EmaCross(fast=2, slow=3)
    for t in range(1, 4):
        x.update(t, 5)
    assert x.value == CrossState(0, 0.0, False)
    x.update(4, 6)
    assert x.value.direction == 1 and x.value.flipped is False


def test_cross_zero_slow_ema_has_no_spread():
    x = EmaCross(fast=1, slow=2)
    x.update(1, 0)
    x.update(2, 0)
    assert x.value == CrossState(0, None, False)


@pytest.mark.parametrize("fast,slow", [(3, 3), (5, 3), (0, 3), (2, 1)])
def test_cross_validates(fast, slow):
    with pytest.raises(ValueError):
        EmaCross(fast=fast, slow=slow)
