"""Order handling: ladder exits (partial reduce-only closes), clipping, size steps, minimum
size, idempotent client ids, cancellation, margin checks, and bad input that never raises."""

from __future__ import annotations

import math

import pytest
from pytest import approx

from engine.ports import OrderRequest
from tests.paper.helpers import DAY, make_broker, order, snap


def _long(broker, quantity: float = 0.1, price: float = 50_000) -> None:
    """Open a long of ``quantity`` BTC filled at the next price."""
    broker.observe(snap(DAY, price=price))
    broker.place_order(order("entry", "buy", quantity))
    broker.observe(snap(DAY + 60, price=price))


def test_ladder_exit_closes_the_position_in_parts_and_clips_the_last_rung(broker):
    _long(broker)  # 0.1 BTC at 50 000 × 1.0002 = 50 010
    for i, price in enumerate((51_000, 52_000, 53_000), start=1):
        assert broker.place_order(order(f"tp{i}", "sell", 0.04, limit=price, reduce_only=True)).status == "open"
    [rung1] = broker.observe(snap(DAY + 120, price=51_400, candles=[(DAY + 60, 50_100, 51_500, 50_000, 51_400)]))
    assert (rung1.quantity, rung1.price, rung1.fee) == (0.04, 51_000, approx(0.408))  # 0.04×51 000×0.0002
    assert broker.positions()[0].quantity == 0.06  # 0.1 − 0.04, exactly
    assert broker.realized_pnl == approx(39.6)  # 0.04 × (51 000 − 50 010)
    rungs = broker.observe(snap(DAY + 180, price=53_200, candles=[(DAY + 120, 51_400, 53_500, 51_300, 53_200)]))
    assert [(f.client_order_id, f.quantity, f.price) for f in rungs] == [("tp2", 0.04, 52_000), ("tp3", 0.02, 53_000)]
    assert broker.positions() == []
    # 39.6 + 0.04 × (52 000 − 50 010) = 79.6 + 0.02 × (53 000 − 50 010) = 59.8
    assert broker.realized_pnl == approx(179.0)
    last = broker.cancel_order("tp3")  # finished orders come back unchanged
    assert (last.status, last.quantity, last.filled_quantity, last.reason) == (
        "filled",
        0.04,
        0.02,
        "clipped to the position",
    )


def test_reduce_only_larger_than_the_position_is_clipped_when_placed(broker):
    _long(broker)
    state = broker.place_order(order("close", "sell", 0.25, reduce_only=True))
    assert (state.status, state.quantity) == ("open", 0.1)
    assert "clipped to the position" in state.reason
    [fill] = broker.observe(snap(DAY + 120, price=50_000))
    assert fill.quantity == 0.1 and broker.positions() == []


def test_reduce_only_without_a_position_or_on_the_same_side_is_rejected(broker):
    broker.observe(snap(DAY, price=50_000))
    state = broker.place_order(order("tp", "sell", 0.1, reduce_only=True))
    assert (state.status, state.reason) == ("rejected", "reduce-only order but no position to reduce")
    _long(broker)
    assert broker.place_order(order("more", "buy", 0.1, reduce_only=True)).status == "rejected"


def test_open_reduce_only_orders_are_cancelled_when_the_position_is_gone(broker):
    _long(broker)
    broker.place_order(order("tp", "sell", 0.1, limit=60_000, reduce_only=True))
    broker.place_order(order("close", "sell", 0.1, reduce_only=True))
    broker.observe(snap(DAY + 120, price=50_000))
    tp = broker.cancel_order("tp")
    assert (tp.status, tp.reason) == ("cancelled", "reduce-only: no position left to reduce")
    assert broker.open_orders() == []


def test_quantities_round_down_to_the_instrument_step(broker, blofin):
    _long(broker, quantity=0.33337)
    assert broker.positions()[0].quantity == 0.3333  # Kraken PF_XBTUSD step 0.0001 BTC
    bf = make_broker(blofin)
    bf.observe(snap(DAY, price=50_000))
    assert bf.place_order(order("b", "buy", 0.0057)).quantity == 0.005  # BloFin: 5 contracts × 0.001 BTC
    assert bf.place_order(order("e", "buy", 0.07, symbol="ETHUSDT")).quantity == 0.07  # 7 × 0.01 ETH, not 0.06


def test_below_the_minimum_size_is_rejected_with_a_reason(broker, blofin):
    broker.observe(snap(DAY, price=50_000))
    state = broker.place_order(order("tiny", "buy", 0.00005))  # < 0.0001 BTC
    assert state.status == "rejected"
    assert state.reason == "quantity 5e-05 is below the minimum size 0.0001 (step 0.0001)"
    bf = make_broker(blofin)
    assert bf.place_order(order("tiny", "buy", 0.0009)).status == "rejected"  # < 1 contract of 0.001 BTC
    assert bf.place_order(order("one", "buy", 0.001)).status == "open"


def test_a_client_order_id_is_placed_once(broker):
    broker.observe(snap(DAY, price=50_000))
    first = broker.place_order(order("same", "buy", 0.1))
    again = broker.place_order(order("same", "buy", 0.5))  # a retry, even with other fields
    assert again == first and len(broker.open_orders()) == 1
    assert len(broker.observe(snap(DAY + 60, price=50_000))) == 1
    assert broker.place_order(order("same", "buy", 0.1)).status == "filled"
    assert len(broker.observe(snap(DAY + 120, price=50_000))) == 0


def test_a_rejected_client_order_id_stays_rejected(broker):
    rejected = broker.place_order(order("r", "buy", 0.1, symbol="DOGEUSDT"))
    assert broker.place_order(order("r", "buy", 0.1)) == rejected


@pytest.mark.parametrize(
    "request_, reason",
    [
        (order("a", "buy", 0.1, symbol="DOGEUSDT"), "unknown symbol 'DOGEUSDT' on kraken_futures"),
        (order("a", "buy", 0.0), "quantity must be a positive number"),
        (order("a", "buy", -0.1), "quantity must be a positive number"),
        (order("a", "buy", math.nan), "quantity must be a positive number"),
        (OrderRequest("a", "BTCUSDT", "buy", 0.1, "limit"), "a limit order needs a positive limit_price"),
        (order("a", "buy", 0.1, limit=-5), "a limit order needs a positive limit_price"),
        (order("a", "hold", 0.1), "side must be buy or sell, not 'hold'"),
        (OrderRequest("a", "BTCUSDT", "buy", 0.1, "stop"), "order_type must be market or limit, not 'stop'"),
        (order("a", "buy", 0.1, leverage=0), "leverage must be from 1 to 50"),
        (order("a", "buy", 0.1, leverage=51), "leverage must be from 1 to 50"),
        (order("", "buy", 0.1), "client_order_id must be a non-empty string"),
        (OrderRequest("a", "BTCUSDT", "buy", "lots"), "quantity must be a positive number"),  # type: ignore[arg-type]
    ],
)
def test_bad_requests_are_rejected_with_a_reason_not_an_exception(broker, request_, reason):
    broker.observe(snap(DAY, price=50_000))
    state = broker.place_order(request_)
    assert (state.status, state.reason, state.filled_quantity) == ("rejected", reason, 0.0)
    assert broker.open_orders() == []


def test_opening_beyond_the_available_margin_is_rejected(broker):
    broker.observe(snap(DAY, price=50_000))
    state = broker.place_order(order("big", "buy", 1.0, leverage=2))
    # needs 1.0 × 50 000 / 2 = 25 000 > 10 000
    assert (state.status, state.reason) == ("rejected", "insufficient margin: needs 25000.00, available 10000.00")
    assert broker.place_order(order("ok", "buy", 1.0, leverage=5)).status == "open"  # 10 000 ≤ 10 000


def test_cancel_open_then_again_then_unknown(broker):
    broker.observe(snap(DAY, price=50_000))
    broker.place_order(order("l1", "buy", 0.1, limit=45_000))
    cancelled = broker.cancel_order("l1")
    assert (cancelled.status, cancelled.reason) == ("cancelled", "cancelled by client")
    assert broker.cancel_order("l1") == cancelled
    assert broker.observe(snap(DAY + 60, price=44_000)) == []  # a cancelled order never fills
    unknown = broker.cancel_order("nope")
    assert (unknown.status, unknown.reason) == ("rejected", "unknown client_order_id")


def test_orders_are_stamped_with_the_broker_clock_and_numbered(broker):
    broker.observe(snap(DAY, price=50_000))
    a = broker.place_order(order("a", "buy", 0.1, limit=40_000))
    b = broker.place_order(order("b", "buy", 0.1, limit=40_000))
    assert (a.venue_order_id, b.venue_order_id, a.created_at) == ("paper-1", "paper-2", DAY)
