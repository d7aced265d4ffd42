from __future__ import annotations

import pytest

from engine.trading.features import ExchangeNetFlow, OfiMomentum, OfiMomentumValue, OrderFlowImbalance, book_imbalance

BIDS = [(100.0, 2.0), (99.0, 3.0), (98.0, 100.0)]
ASKS = [(101.0, 1.0), (102.0, 4.0)]


def test_book_imbalance_hand_computed():
    assert book_imbalance(BIDS, ASKS, 2) == 0.0  # (5 - 5) / 10
    assert book_imbalance(BIDS, ASKS, 3) == pytest.approx(100 / 110)  # (105 - 5) / 110
    assert book_imbalance(BIDS, ASKS, 1) == pytest.approx(1 / 3)  # (2 - 1) / 3
    assert book_imbalance([], ASKS, 5) == -1.0  # only asks


@pytest.mark.parametrize(
    "bids,asks",
    [
        ([], []),  # empty book: nothing to divide
        ([(100, 0)], [(101, 0)]),  # zero sizes
        ([(100, float("nan"))], ASKS),  # NaN size in the top levels
        ([(100, -1)], ASKS),  # negative size
        ([(100,)], ASKS),  # malformed level
        (None, ASKS),
    ],
)
def test_book_imbalance_invalid_is_none(bids, asks):
    assert book_imbalance(bids, asks, 5) is None


def test_ofi_calculator_keeps_last_valid_reading():
    ofi = OrderFlowImbalance(levels=2)
    assert ofi.value is None
    ofi.update(1, BIDS, ASKS)
    assert ofi.value == 0.0
    ofi.update(2, [], [])  # invalid book: ignored, ts not consumed
    assert ofi.value == 0.0 and ofi.last_ts == 1.0
    ofi.update(1, [(1, 5)], [(2, 1)])  # duplicate ts
    assert ofi.value == 0.0
    ofi.update(3, [(1, 5)], [(2, 1)])
    assert ofi.value == pytest.approx(4 / 6)


def test_ofi_momentum_hand_computed():
    m = OfiMomentum(window_seconds=180, min_readings=3)
    m.update(0, 0.0)
    m.update(60, 0.1)
    assert m.value is None  # 2 of 3 readings
    m.update(120, 0.2)
    v = m.value
    assert v.ofi == 0.2 and v.readings == 3
    assert v.momentum_per_min == pytest.approx(0.1)  # +0.1 every 60 s
    m.update(180, 0.5)  # window (0, 180]: the reading at 0 leaves
    # equally spaced points: LS slope = (0.5 - 0.1) / 120 s = 1/300 per s = 0.2 per min
    assert m.value == OfiMomentumValue(0.5, pytest.approx(0.2), 3)
    m.update(600, 0.5)  # gap: only one reading left in the window
    assert m.value is None


def test_ofi_momentum_ignores_bad_readings():
    m = OfiMomentum(window_seconds=300)
    m.update(0, 0.1)
    m.update(60, float("nan"))
    m.update(0, 0.9)
    m.update(-5, 0.9)
    m.update(60, 0.3)
    assert m.value.readings == 2 and m.value.momentum_per_min == pytest.approx(0.2)


def test_exchange_net_flow_hand_computed():
    f = ExchangeNetFlow(window_seconds=180)
    f.update(0, 100)
    f.update(60, -50)
    f.update(120, 30)
    assert f.value is None  # history spans 120 s of a 180 s window
    f.update(180, 10)
    assert f.value == -10.0  # (0, 180]: -50 + 30 + 10 (the 100 at ts 0 left)
    assert f.readings == 3
    f.update(240, None)  # ignored
    f.update(240, 0)
    assert f.value == 40.0  # 30 + 10 + 0


@pytest.mark.parametrize(
    "make",
    [
        lambda: OrderFlowImbalance(levels=0),
        lambda: OfiMomentum(window_seconds=0),
        lambda: OfiMomentum(window_seconds=60, min_readings=1),
        lambda: ExchangeNetFlow(window_seconds=-1),
        lambda: ExchangeNetFlow(window_seconds=float("nan")),
    ],
)
def test_validates(make):
    with pytest.raises(ValueError):
        make()


def test_exchange_net_flow_is_exactly_zero_when_only_zeros_remain():
    f = ExchangeNetFlow(window_seconds=120)
    f.update(0, 0.1)
    f.update(60, 0.2)
    f.update(120, -0.3)
    assert f.value == pytest.approx(-0.1)  # (0, 120]: 0.2 - 0.3
    f.update(180, 0.0)
    f.update(240, 0.0)
    # 0.1 + 0.2 - 0.3 - 0.1 - 0.2 + 0.3 is not 0.0 in floats; an all-zero window is.
    assert f.value == 0.0
