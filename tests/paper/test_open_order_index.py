"""The broker's open-order index (``PaperBroker._open``) is only a faster view of ``_orders``:
after every place, fill, cancel, reject, stale reduce-only cancel, liquidation and state
restore it must hold exactly the open orders, in placement order, and the margin they
reserve must equal a scan over every order (the computation the index replaced)."""

from __future__ import annotations

import json

from adapters.paper.broker import PaperBroker
from engine.ports import OPEN
from tests.paper.helpers import DAY, make_broker, order, snap, sym


def _reserved_by_full_scan(broker: PaperBroker) -> float:
    total = 0.0
    for cid, o in broker._orders.items():
        if o.status == OPEN and not o.reduce_only:
            total += o.quantity * (o.limit_price or broker._value(o.symbol, 0.0)) / broker._leverage[cid]
    return total


def assert_index_consistent(broker: PaperBroker) -> None:
    expected = [(cid, o) for cid, o in broker._orders.items() if o.status == OPEN]
    assert list(broker._open.items()) == expected
    assert broker.open_orders() == [o for _, o in expected]
    assert broker._reserved() == _reserved_by_full_scan(broker)
    for symbol in ("BTCUSDT", "ETHUSDT"):
        for kind in ("market", "limit"):
            assert broker._open_orders_for(symbol, kind) == [
                cid for cid, o in expected if o.symbol == symbol and o.order_type == kind
            ]


def _restored(broker: PaperBroker, venue) -> PaperBroker:
    return PaperBroker.from_state(venue, json.loads(json.dumps(broker.state(), allow_nan=False)))


def test_index_follows_place_fill_cancel_reject_and_restore(kraken):
    broker = make_broker(kraken)
    check = lambda: assert_index_consistent(broker)  # noqa: E731
    broker.observe(snap(DAY, sym("BTCUSDT", price=50_000), sym("ETHUSDT", price=2_500)))
    check()
    for request in (
        order("b1", "buy", 0.1),  # market: fills next
        order("l1", "buy", 0.1, limit=45_000),  # rests
        order("e1", "sell", 1.0, symbol="ETHUSDT", limit=2_700),  # rests, other symbol
        order("bad", "buy", -1.0),  # rejected: quantity
        order("huge", "buy", 1_000.0),  # rejected: margin
        order("nope", "buy", 0.1, symbol="DOGEUSDT"),  # rejected: symbol
        order("b1", "sell", 5.0),
    ):  # known id: unchanged
        broker.place_order(request)
        check()
    assert [o.client_order_id for o in broker.open_orders()] == ["b1", "l1", "e1"]

    broker.observe(snap(DAY + 60, sym("BTCUSDT", price=50_100), sym("ETHUSDT", price=2_510)))  # b1 fills
    check()
    assert [o.client_order_id for o in broker.open_orders()] == ["l1", "e1"]

    broker.place_order(order("tp", "sell", 0.1, limit=60_000, reduce_only=True))  # rests, reduce-only
    broker.place_order(order("far", "sell", 0.1, limit=70_000, reduce_only=True))
    check()
    broker.cancel_order("l1")
    broker.cancel_order("l1")  # finished: returned as it is
    broker.cancel_order("unknown")  # answered rejected, not recorded
    check()
    assert [o.client_order_id for o in broker.open_orders()] == ["e1", "tp", "far"]

    broker = _restored(broker, kraken)  # the index is rebuilt from the saved orders
    check()
    assert [o.client_order_id for o in broker.open_orders()] == ["e1", "tp", "far"]

    # tp fills and flattens the position: "far" is a stale reduce-only order and is cancelled
    broker.observe(
        snap(
            DAY + 120, sym("BTCUSDT", candles=[(DAY + 60, 50_100, 61_000, 50_000, 60_500)]), sym("ETHUSDT", price=2_720)
        )
    )  # e1 fills too
    check()
    assert broker.open_orders() == []
    assert broker.order("far").status == "cancelled" and broker.order("tp").status == "filled"


def test_index_follows_a_liquidation_that_cancels_reduce_only_orders(flat):
    broker = flat
    broker.observe(snap(DAY, price=50_000))
    broker.place_order(order("b1", "buy", 0.1, leverage=20.0))
    broker.observe(snap(DAY + 60, price=50_000))
    broker.place_order(order("tp", "sell", 0.1, limit=60_000, reduce_only=True))
    broker.place_order(order("l2", "buy", 0.01, limit=30_000))  # survives the liquidation
    assert_index_consistent(broker)
    events = broker.observe(snap(DAY + 120, price=40_000))  # far below liquidation
    assert [e.liquidity for e in events] == ["liquidation"]
    assert_index_consistent(broker)
    assert [o.client_order_id for o in broker.open_orders()] == ["l2"]
