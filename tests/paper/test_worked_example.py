"""The worked example of docs/paper-broker.md, number for number."""

from __future__ import annotations

from pytest import approx

from tests.paper.helpers import DAY, order, snap

MIN = 60.0


def test_docs_worked_example(broker):
    broker.observe(snap(DAY + 10 * MIN, price=50_000, rate=0.0001))  # 00:10
    broker.place_order(order("entry", "buy", 0.1, leverage=5))
    [entry] = broker.observe(snap(DAY + 11 * MIN, price=50_000))  # 00:11
    assert entry.price == approx(50_010.0)  # 50 000 × (1 + 2/10 000)
    assert entry.fee == approx(2.5005)  # 0.1 × 50 010 × 0.05 %
    [pos] = broker.positions()
    assert pos.liquidation_price == approx(40_258.05)  # 50 010 × (1 − 1/5 + 0.5 %) = 50 010 × 0.805
    broker.place_order(order("tp1", "sell", 0.05, limit=51_000, reduce_only=True))
    broker.place_order(order("tp2", "sell", 0.05, limit=52_000, reduce_only=True))
    [funding] = broker.observe(snap(DAY + 60 * MIN + 30, price=50_600))  # 01:00:30
    assert (funding.ts, funding.amount) == (DAY + 60 * MIN, approx(-0.5))  # −0.1 × 50 000 × 0.0001
    [rung] = broker.observe(
        snap(
            DAY + 65 * MIN,
            price=51_100,  # 01:05
            candles=[(DAY + 64 * MIN, 50_700, 51_200, 50_650, 51_100)],
        )
    )
    assert (rung.quantity, rung.price, rung.liquidity) == (0.05, 51_000, "maker")
    assert rung.fee == approx(0.51)  # 0.05 × 51 000 × 0.02 %
    assert broker.realized_pnl == approx(49.5)  # 0.05 × (51 000 − 50 010)
    balance = broker.balance()
    assert balance.cash == approx(10_045.9895)  # 10 000 − 2.5005 − 0.5 + 49.5 − 0.51
    assert balance.equity == approx(10_100.4895)  # + 0.05 × (51 100 − 50 010) = 54.5
    assert balance.available_margin == approx(9_600.3895)  # − 0.05 × 50 010 / 5 = 500.1
