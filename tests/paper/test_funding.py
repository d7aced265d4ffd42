"""Funding at the venue's UTC funding times: Kraken hourly, BloFin every 8 h; longs pay a
positive rate and shorts receive it; only the rate published by the funding time is used."""

from __future__ import annotations

import pytest
from pytest import approx

from tests.paper.helpers import DAY, make_broker, order, snap

HOUR = 3600.0


def _open(broker, side: str, *, at: float, rate: float, quantity: float = 0.1) -> None:
    """Observe at ``at`` (rate published then), place, and fill at the next snapshot 60 s later, price 50 000."""
    broker.observe(snap(at, price=50_000, rate=rate))
    broker.place_order(order("entry", side, quantity))
    broker.observe(snap(at + 60, price=50_000))


@pytest.mark.parametrize(
    "side, rate, expected",
    [
        ("buy", 0.0001, -0.5),  # long pays:      −(+0.1) × 50 000 × 0.0001
        ("sell", 0.0001, 0.5),  # short receives: −(−0.1) × 50 000 × 0.0001
        ("buy", -0.0001, 0.5),  # negative rate: long receives
        ("sell", -0.0001, -0.5),  # negative rate: short pays
    ],
)
def test_kraken_pays_at_the_hour_with_the_sign_of_side_and_rate(kraken, side, rate, expected):
    broker = make_broker(kraken, slippage_bps=0)
    _open(broker, side, at=DAY + 10 * 60, rate=rate)  # 00:10, filled 00:11
    assert broker.observe(snap(DAY + 50 * 60, price=50_000)) == []  # 00:50: no boundary crossed
    [payment] = broker.observe(snap(DAY + HOUR + 30, price=50_000))  # 01:00:30 crosses 01:00
    assert (payment.ts, payment.rate, payment.symbol) == (DAY + HOUR, rate, "BTCUSDT")
    assert payment.amount == approx(expected)
    assert payment.payment_id == f"kraken_futures-funding-BTCUSDT-{DAY + HOUR:.0f}"
    assert broker.balance().cash == approx(10_000 - 2.5 + expected)  # entry fee 0.1 × 50 000 × 0.0005
    assert broker.funding_since(DAY + HOUR) == [payment]


def test_kraken_pays_once_per_hour_crossed_at_the_mark_known_then(kraken):
    broker = make_broker(kraken, slippage_bps=0)
    _open(broker, "buy", at=DAY + 600, rate=0.0001)
    broker.observe(snap(DAY + 1800, price=50_500, mark=50_400))
    payments = broker.observe(snap(DAY + 3 * HOUR + 5, price=51_000, mark=51_000))
    assert [p.ts for p in payments] == [DAY + HOUR, DAY + 2 * HOUR, DAY + 3 * HOUR]
    # each: −0.1 × 50 400 (the mark of 00:30, the last one seen before the boundaries) × 0.0001
    assert [p.amount for p in payments] == [approx(-0.504)] * 3


def test_only_the_rate_published_by_the_funding_time_is_used(kraken):
    broker = make_broker(kraken, slippage_bps=0)
    _open(broker, "buy", at=DAY + 600, rate=0.0001)
    # seen at 01:00:30 but published at 01:00:30 (the default): too late for 01:00
    [late] = broker.observe(snap(DAY + HOUR + 30, price=50_000, rate=0.0009))
    assert late.rate == 0.0001 and late.amount == approx(-0.5)  # −0.1 × 50 000 × 0.0001
    # seen at 02:00:30, published at 01:59:50: known at 02:00
    [known] = broker.observe(snap(DAY + 2 * HOUR + 30, price=50_000, rate=0.0002, rate_ts=DAY + 2 * HOUR - 10))
    assert known.rate == 0.0002 and known.amount == approx(-1.0)  # −0.1 × 50 000 × 0.0002


def test_no_rate_known_means_no_payment(kraken):
    broker = make_broker(kraken, slippage_bps=0)
    broker.observe(snap(DAY + 600, price=50_000))
    broker.place_order(order("entry", "buy", 0.1))
    broker.observe(snap(DAY + 660, price=50_000))
    assert broker.observe(snap(DAY + HOUR + 30, price=50_000)) == []


def test_blofin_pays_every_8_hours_utc_not_hourly(blofin):
    broker = make_broker(blofin, slippage_bps=0)
    _open(broker, "sell", at=DAY + 6 * HOUR, rate=0.0003, quantity=0.2)  # 06:00: short 200 contracts
    assert broker.observe(snap(DAY + 7 * HOUR + 30, price=50_000)) == []  # 07:00 is no BloFin time
    [payment] = broker.observe(snap(DAY + 8 * HOUR + 30, price=50_000))
    assert payment.ts == DAY + 8 * HOUR  # 08:00 UTC
    assert payment.amount == approx(3.0)  # short receives −(−0.2) × 50 000 × 0.0003
    assert payment.payment_id == f"blofin-funding-BTCUSDT-{DAY + 8 * HOUR:.0f}"
    assert broker.observe(snap(DAY + 15 * HOUR, price=50_000)) == []
    [next_one] = broker.observe(snap(DAY + 16 * HOUR, price=50_000))  # exactly 16:00 counts
    assert next_one.ts == DAY + 16 * HOUR


def test_funding_time_falls_between_candles_in_time_order(kraken):
    """A position opened by the candle after the funding time does not pay it."""
    broker = make_broker(kraken, slippage_bps=0)
    broker.observe(snap(DAY + HOUR - 120, price=50_000, rate=0.0001))  # 00:58
    broker.place_order(order("late", "buy", 0.1, limit=49_000))
    candles = [
        (DAY + HOUR - 120, 50_000, 50_100, 49_900, 50_000),  # 00:58
        (DAY + HOUR - 60, 50_000, 50_050, 49_950, 50_000),  # 00:59
        (DAY + HOUR, 49_500, 49_500, 48_900, 49_000),
    ]  # 01:00: fills after the funding
    events = broker.observe(snap(DAY + HOUR + 60, price=49_000, candles=candles))
    assert [type(e).__name__ for e in events] == ["Fill"]  # no position at 01:00 → no payment


def test_a_position_opened_by_a_candle_before_the_funding_time_pays_it(kraken):
    broker = make_broker(kraken, slippage_bps=0)
    broker.observe(snap(DAY + HOUR - 120, price=50_000, rate=0.0001))  # 00:58
    broker.place_order(order("early", "buy", 0.1, limit=49_950))
    candles = [
        (DAY + HOUR - 60, 50_000, 50_050, 49_900, 50_000),  # 00:59: fills at 49 950
        (DAY + HOUR, 50_000, 50_100, 49_990, 50_050),
    ]
    fill, payment = broker.observe(snap(DAY + HOUR + 60, price=50_050, candles=candles))
    assert (fill.price, payment.ts) == (49_950, DAY + HOUR)
    assert payment.amount == approx(-0.5)  # −0.1 × 50 000 (mark seen at 00:58) × 0.0001
