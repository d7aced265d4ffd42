"""The broker forgets settled orders, fills and funding payments older than HISTORY_S, so the
state a months-long bot writes at every commit stays the size of a week; open orders,
positions and everything recent are kept, and a resumed broker forgets exactly the same."""

from __future__ import annotations

from adapters.paper.broker import HISTORY_S, PaperBroker
from tests.paper.helpers import DAY, order, snap

HOUR = 3600.0


def test_old_history_is_forgotten_and_open_orders_are_kept(broker):
    broker.observe(snap(DAY, price=50_000))
    broker.place_order(order("old", "buy", 0.1))
    broker.place_order(order("resting", "buy", 0.1, limit=10_000.0))  # never fills
    broker.observe(snap(DAY + 60, price=50_000))
    [old_fill] = broker.fills_since(0)
    assert old_fill.client_order_id == "old" and broker.funding_since(0) == []
    ts = DAY + 60
    while ts < DAY + HISTORY_S + 2 * HOUR:  # an hourly venue: funding settles every hour
        ts += HOUR
        broker.observe(snap(ts, price=50_000, rate=0.0001, rate_ts=ts - HOUR))
    state = broker.state()
    assert broker.fills_since(0) == [] and {o["client_order_id"] for o in state["orders"]} == {"resting"}
    assert [o.client_order_id for o in broker.open_orders()] == ["resting"]
    payments = broker.funding_since(0)
    assert payments and min(p.ts for p in payments) >= ts - HISTORY_S - HOUR  # a week of them, not more
    assert len(payments) <= HISTORY_S / HOUR + 1
    assert broker.positions()[0].quantity == 0.1  # the position the forgotten fill opened stays
    assert broker.place_order(order("new", "buy", 0.1)).status == "open"


def test_a_resumed_broker_forgets_exactly_what_an_uninterrupted_one_does(kraken, broker):
    broker.observe(snap(DAY, price=50_000))
    broker.place_order(order("b1", "buy", 0.1))
    times = [DAY + 60 + i * 1800.0 for i in range(int(HISTORY_S / 1800) + 10)]
    resumed = None
    for i, ts in enumerate(times):
        broker.observe(snap(ts, price=50_000 + i, rate=0.0001, rate_ts=ts - 1800))
        if resumed is not None:
            resumed.observe(snap(ts, price=50_000 + i, rate=0.0001, rate_ts=ts - 1800))
        if i == len(times) // 2:
            resumed = PaperBroker.from_state(kraken, broker.state())
    assert resumed is not None and resumed.state() == broker.state()
