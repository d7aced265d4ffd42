"""The BloFin client against the loopback fake: instruments, market data, the order lifecycle
in contracts, and every fault of the issue's Done-when. Asserted each time: no duplicate
order at the venue, no unhandled exception, the right state afterwards, no secret in texts."""

from __future__ import annotations

from decimal import Decimal

import pytest

from adapters.venues.blofin.exchange import REQUEST_EXPIRY_S, venue_client_id
from engine.ports import (
    CANCELLED,
    FILLED,
    OPEN,
    InstrumentMismatch,
    OrderOutcomeUnknown,
    OrderRequest,
    VenueAnswerMalformed,
    VenueError,
    VenueFatal,
    VenueRejected,
    VenueRetryable,
)
from tests.venues.fakes.blofin import KEY, PASSPHRASE, SECRET

ORDER = "/api/v1/trade/order"


def market(cid: str = "c1", qty: float = 0.012, side: str = "buy", **kw: object) -> OrderRequest:
    return OrderRequest(cid, "BTCUSDT", side, qty, leverage=3, **kw)  # type: ignore[arg-type]


def no_secret(error: BaseException) -> None:
    text = f"{error!s} {error!r}"
    assert SECRET not in text and PASSPHRASE not in text


# ------------------------------------------------------------------ instruments and market data


def test_instruments_are_loaded_once_and_agree_with_the_rules(client, fake) -> None:
    client.check_instruments()
    btc = next(i for i in client.instruments() if i.symbol == "BTCUSDT")
    assert (btc.venue_symbol, btc.contract_size, btc.size_step, btc.min_size) == ("BTC-USDT", 0.001, 1.0, 1.0)
    client.instruments()
    assert len(fake.venue.requests_to("/api/v1/market/instruments")) == 1


def test_instrument_mismatch_names_every_difference(client, fake) -> None:
    fake.venue.instruments = [
        ("BTC-USDT", "0.001", "0.1", "0.1", "0.1", "150"),
        ("ETH-USDT", "0.01", "1", "0.01", "1", "100"),
    ]
    with pytest.raises(InstrumentMismatch) as caught:
        client.check_instruments()
    text = str(caught.value)
    for part in ("BTC-USDT size_step", "BTC-USDT min_size", "max_leverage", "SOL-USDT: BloFin lists no such"):
        assert part in text
    with pytest.raises(InstrumentMismatch):
        client.place_order(market())
    assert fake.venue.requests_to(ORDER) == []


def test_ticker_book_candles_funding(client, fake, clock) -> None:
    ticker = client.ticker("BTCUSDT")
    assert (ticker.last, ticker.bid, ticker.ask, ticker.mark) == (60000.0, 59999.0, 60001.0, 60001.0)
    book = client.order_book("BTCUSDT", depth=5)
    assert book.bids[0] == (59999.0, 0.008) and book.asks[0] == (60001.0, 0.01)  # 8 and 10 contracts of 0.001
    now = clock()
    candles = client.candles("BTCUSDT", "1m", now - 600, now)
    assert 9 <= len(candles) <= 11
    assert [c.ts for c in candles] == sorted(c.ts for c in candles)
    assert all(now - 600 <= c.ts <= now for c in candles) and candles[0].volume == 0.1
    assert client.funding_rate("BTCUSDT") == pytest.approx(0.0001)
    assert client.open_interest_usd("BTCUSDT") is None
    with pytest.raises(VenueRejected, match="timeframe"):
        client.candles("BTCUSDT", "7m", now - 600)


# ------------------------------------------------------------------ orders


def test_market_order_in_contracts_fills_and_shows_everywhere(client, fake) -> None:
    state = client.place_order(market(qty=0.0123))  # 12.3 contracts → 12 (lot 1)
    assert state.status == FILLED and state.quantity == pytest.approx(0.012)
    assert fake.venue.order_by_client_id("c1").size == 12
    (position,) = client.positions()
    assert position.symbol == "BTCUSDT" and position.quantity == pytest.approx(0.012) and position.entry_price == 60000
    (fill,) = client.fills_since(0)
    assert fill.client_order_id == "c1" and fill.quantity == pytest.approx(0.012) and fill.liquidity == "taker"
    assert client.balance().cash == pytest.approx(10000 - 0.012 * 60000 * 0.0006)
    assert fake.venue.leverage == {"BTC-USDT": "3"}
    assert fake.venue.rejected_signatures == 0


def test_size_below_the_minimum_is_refused_before_sending(client, fake) -> None:
    with pytest.raises(VenueRejected, match="minimum order is 1 contracts"):
        client.place_order(market(qty=0.0005))
    with pytest.raises(VenueRejected):
        client.place_order(market(qty=float("nan")))
    assert fake.venue.requests_to(ORDER) == []


def test_limit_order_partial_fill_then_cancel(client, fake) -> None:
    state = client.place_order(market(qty=0.01, order_type="limit", limit_price=59000.04))
    assert state.status == OPEN and state.limit_price == 59000.0  # on the 0.1 tick
    order = fake.venue.order_by_client_id("c1")
    fake.venue.fill(order, Decimal(4))
    partial = client.order("c1")
    assert partial is not None and partial.status == OPEN and partial.filled_quantity == pytest.approx(0.004)
    assert [o.client_order_id for o in client.open_orders()] == ["c1"]
    (fill,) = client.fills_since(0)
    assert fill.client_order_id == "c1" and fill.price == 59000.0
    cancelled = client.cancel_order("c1")
    assert cancelled.status == CANCELLED and cancelled.filled_quantity == pytest.approx(0.004)
    assert client.open_orders() == []
    assert client.positions()[0].quantity == pytest.approx(0.004)
    assert client.cancel_order("c1").status == CANCELLED  # cancelling again answers the state


def test_stop_order_becomes_a_tpsl_on_the_position(client, fake) -> None:
    client.place_order(market())
    stop = client.place_order(
        OrderRequest("stop-1", "BTCUSDT", "sell", 0.012, order_type="stop", stop_price=57000.0, reduce_only=True)
    )
    assert stop.status == OPEN and stop.order_type == "stop" and stop.client_order_id == "stop-1"
    sent = fake.venue.order_by_client_id(venue_client_id("stop-1"))
    assert sent.kind == "tpsl" and sent.price == 57000 and sent.trigger == "sl"
    assert {o.client_order_id for o in client.open_orders()} == {"stop-1"}
    assert client.cancel_order("stop-1").status == CANCELLED


def test_reduce_only_without_a_position_is_rejected(client, fake) -> None:
    with pytest.raises(VenueRejected, match="102022"):
        client.place_order(market(side="sell", reduce_only=True))
    assert fake.venue.placed == {}


def test_client_ids_blofin_cannot_take_are_mapped_and_found_again(client, fake) -> None:
    cid = "pos-7-x0-1700000000"
    client.place_order(market(cid))
    venue_id = venue_client_id(cid)
    assert venue_id.startswith("rb") and len(venue_id) == 32 and venue_id.isalnum()
    state = client.order(cid)
    assert state is not None and state.client_order_id == cid


# ------------------------------------------------------------------ faults


def test_429_and_500_on_reads_are_retried(client, fake) -> None:
    fake.venue.fault("/api/v1/market/instruments", "429")
    fake.venue.fault("/api/v1/account/positions", "500")
    assert client.instruments()
    assert client.positions() == []
    assert len(fake.venue.requests_to("/api/v1/account/positions")) == 2


def test_429_on_an_order_is_not_an_order(client, fake) -> None:
    fake.venue.fault(ORDER, "429")
    with pytest.raises(VenueRetryable) as caught:
        client.place_order(market())
    no_secret(caught.value)
    assert fake.venue.placed == {}
    assert client.place_order(market()).status == FILLED
    assert fake.venue.placed == {"c1": 1}


def test_500_on_an_order_is_looked_up_and_never_resent_blindly(client, fake, clock) -> None:
    fake.venue.fault(ORDER, "500")
    with pytest.raises(OrderOutcomeUnknown):
        client.place_order(market())
    with pytest.raises(OrderOutcomeUnknown):
        client.place_order(market())  # looked up again, not sent
    assert len(fake.venue.requests_to(ORDER)) == 1
    clock.advance(REQUEST_EXPIRY_S + 1)  # the lost request can no longer be accepted by BloFin
    assert client.place_order(market()).status == FILLED
    assert fake.venue.placed == {"c1": 1}


def test_timeout_before_the_venue_took_the_order(make_client, fake) -> None:
    client = make_client(timeout_s=0.5)
    client.check_instruments()
    fake.venue.fault(ORDER, "hang")
    with pytest.raises(OrderOutcomeUnknown) as caught:
        client.place_order(market())
    no_secret(caught.value)
    assert fake.venue.placed == {}
    with pytest.raises(OrderOutcomeUnknown):
        client.place_order(market())
    assert len(fake.venue.requests_to(ORDER)) == 1


def test_timeout_after_the_order_was_accepted(make_client, fake) -> None:
    client = make_client(timeout_s=0.5)
    client.check_instruments()
    fake.venue.fault(ORDER, "hang_after_accept")
    state = client.place_order(market())
    assert state.status == FILLED and state.client_order_id == "c1"
    again = client.place_order(market())  # a retry by the engine finds it, sends nothing
    assert again.venue_order_id == state.venue_order_id
    assert fake.venue.placed == {"c1": 1} and len(fake.venue.requests_to(ORDER)) == 1
    assert len(client.positions()) == 1


@pytest.mark.parametrize("fault", ["malformed", "truncated"])
def test_unreadable_answers(client, fake, fault: str) -> None:
    fake.venue.fault("/api/v1/market/tickers", fault)
    with pytest.raises(VenueAnswerMalformed) as caught:
        client.ticker("BTCUSDT")
    assert "blofin" in str(caught.value)
    assert client.ticker("BTCUSDT").last == 60000.0  # nothing was cached from the bad answer
    fake.venue.fault(ORDER, fault)
    with pytest.raises(OrderOutcomeUnknown):
        client.place_order(market())
    assert fake.venue.placed == {}


@pytest.mark.parametrize(
    ("code", "cls"),
    [("103003", VenueRejected), ("152409", VenueFatal), ("152401", VenueFatal), ("429", VenueRetryable)],
)
def test_http_200_error_envelopes_on_an_order(client, fake, code: str, cls: type) -> None:
    fake.venue.fault(ORDER, f"code:{code}")
    with pytest.raises(cls) as caught:
        client.place_order(market())
    assert code in str(caught.value)
    no_secret(caught.value)
    assert fake.venue.placed == {}
    assert client.place_order(market()).status == FILLED  # the id is free again
    assert fake.venue.placed == {"c1": 1}


def test_an_error_that_echoes_the_keys_never_carries_them(client, fake) -> None:
    fake.venue.fault(ORDER, "echo")
    with pytest.raises(VenueRejected) as caught:
        client.place_order(market())
    no_secret(caught.value)
    assert KEY not in str(caught.value) and "[REDACTED]" in str(caught.value)


@pytest.mark.parametrize("fault", ["nonce", "clock"])
def test_nonce_and_timestamp_errors_are_signed_afresh_once(client, fake, fault: str) -> None:
    client.check_instruments()
    fake.venue.fault(ORDER, fault)
    assert client.place_order(market()).status == FILLED
    (first, second) = fake.venue.requests_to(ORDER)
    assert first[2] == second[2]  # the same body, under a new signature
    assert fake.venue.placed == {"c1": 1}
    fake.venue.fault("/api/v1/account/balance", fault, times=2)
    with pytest.raises(VenueRetryable):
        client.balance()


def test_an_order_the_venue_already_has_is_answered_not_doubled(make_client, fake) -> None:
    make_client().place_order(market())
    restarted = make_client()  # a new process: nothing in memory
    state = restarted.place_order(market())
    assert state.status == FILLED and fake.venue.placed == {"c1": 1}


def test_firewall_403_pauses_every_call(client, fake, clock) -> None:
    client.check_instruments()
    fake.venue.fault("/api/v1/market/tickers", "403")
    with pytest.raises(VenueRetryable, match="403"):
        client.ticker("BTCUSDT")
    sent = len(fake.venue.requests)
    with pytest.raises(VenueRetryable, match="paused"):
        client.positions()
    assert len(fake.venue.requests) == sent
    clock.advance(301)
    assert client.ticker("BTCUSDT").last == 60000.0


def test_wrong_secret_is_fatal_and_never_shown(make_client, fake) -> None:
    client = make_client(secret="wrong-" + SECRET)
    with pytest.raises(VenueFatal, match="152409") as caught:
        client.balance()
    assert fake.venue.rejected_signatures == 1
    assert "wrong-" not in str(caught.value)
    no_secret(caught.value)


def test_without_keys_public_data_works_and_private_calls_name_the_variables(make_client, fake) -> None:
    client = make_client(keys=False)
    assert client.ticker("BTCUSDT").last == 60000.0
    with pytest.raises(VenueFatal, match="BLOFIN_API_KEY"):
        client.balance()
    assert fake.venue.requests_to("/api/v1/account/balance") == []


def test_every_failure_is_a_venue_error(client, fake) -> None:
    """A sweep of faults over the private reads: each ends in a VenueError, never anything else."""
    client.check_instruments()
    for fault in ("malformed", "truncated", "code:152002", "code:500", "403"):
        fake.venue.fault("/api/v1/trade/orders-pending", fault, times=5)
        with pytest.raises(VenueError):
            client.open_orders()
        fake.venue._faults.clear()
        client.http._paused_until = 0.0
    assert client.open_orders() == []


def test_timeouts_on_reads_are_retryable(make_client, fake) -> None:
    client = make_client(timeout_s=0.5)
    client.check_instruments()
    fake.venue.fault("/api/v1/account/balance", "hang", times=10)
    with pytest.raises(VenueRetryable) as caught:
        client.balance()
    no_secret(caught.value)
    fake.venue._faults.clear()
    assert client.balance().cash == 10000.0


def test_no_secret_in_logs(make_client, fake, caplog) -> None:
    caplog.set_level("DEBUG")
    client = make_client()
    fake.venue.fault(ORDER, "500")
    with pytest.raises(OrderOutcomeUnknown):
        client.place_order(market())
    fake.venue.fault("/api/v1/account/balance", "nonce")
    client.balance()
    assert "lost" in caplog.text and "signing afresh" in caplog.text
    assert SECRET not in caplog.text and PASSPHRASE not in caplog.text
