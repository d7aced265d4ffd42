"""The Kraken Futures client against the fake venue on loopback: market data, the order
lifecycle, and every fault of the issue (429, 5xx, timeouts, a timeout after the order was
accepted, nonce errors, partial fills, malformed and truncated JSON, HTTP-200 error
envelopes). Asserted each time: no duplicate order, only port errors, the right state after."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest

from adapters.venues import VENUES
from adapters.venues.kraken_futures import KrakenFuturesClient
from adapters.venues.kraken_futures.exchange import ORDER_DEADLINE_S, SKEW_MARGIN_S
from engine.ports import (
    CANCELLED,
    FILLED,
    OPEN,
    REJECTED,
    InstrumentMismatch,
    OrderOutcomeUnknown,
    OrderRequest,
    VenueAnswerMalformed,
    VenueError,
    VenueFatal,
    VenueRejected,
    VenueRetryable,
)
from tests.venues.fakes.kraken_futures import KEY, SECRET, V3, FakeKraken
from tests.venues.kraken_futures.conftest import ClientFactory, Clock

SEND = V3 + "/sendorder"


def market(cid: str = "rb-1", qty: float = 0.01, side: str = "buy", **kw: object) -> OrderRequest:
    return OrderRequest(client_order_id=cid, symbol="BTCUSDT", side=side, quantity=qty, **kw)  # type: ignore[arg-type]


def test_the_registry_builds_this_client(kraken_rules, fake) -> None:
    client = VENUES["kraken_futures"](kraken_rules, None, fake.url)
    assert isinstance(client, KrakenFuturesClient)
    assert client.ticker("BTCUSDT").last == 60000.0


# ------------------------------------------------------------------ instruments and market data


def test_instruments_load_once_and_match_the_rules(client: KrakenFuturesClient, venue: FakeKraken) -> None:
    client.check_instruments()
    specs = {i.symbol: i for i in client.instruments()}
    assert specs["BTCUSDT"].venue_symbol == "PF_XBTUSD"
    assert (specs["BTCUSDT"].size_step, specs["BTCUSDT"].tick_size, specs["BTCUSDT"].max_leverage) == (0.0001, 1, 50)
    assert specs["SOLUSDT"].tick_size == 0.01
    assert venue.calls.count(("GET", V3 + "/instruments")) == 1


def test_a_spec_that_differs_from_the_rules_is_named(client: KrakenFuturesClient, venue: FakeKraken) -> None:
    venue.instruments[1]["tickSize"] = "0.5"  # PF_ETHUSD
    venue.instruments[2]["marginLevels"][0]["initialMargin"] = "0.1"  # PF_SOLUSD: 10x < the rules' 50x
    del venue.instruments[0]  # PF_XBTUSD gone
    with pytest.raises(InstrumentMismatch) as caught:
        client.check_instruments()
    text = str(caught.value)
    assert "BTCUSDT → PF_XBTUSD: the venue lists no such instrument" in text
    assert "PF_ETHUSD tick_size: rules 0.1, venue 0.5" in text
    assert "PF_SOLUSD max_leverage: rules 50, venue allows 10" in text
    with pytest.raises(InstrumentMismatch):  # and no order goes out on them
        client.place_order(market())
    assert venue.sent_orders() == 0


def test_ticker_book_funding_and_open_interest(client: KrakenFuturesClient) -> None:
    ticker = client.ticker("ETHUSDT")
    assert (ticker.last, ticker.mark, ticker.bid, ticker.ask) == (3000.0, 3000.0, 2999.0, 3001.0)
    book = client.order_book("ETHUSDT", depth=2)
    assert book.bids == ((2999.0, 0.5), (2998.0, 0.5)) and book.asks == ((3001.0, 0.25), (3002.0, 0.25))
    assert client.funding_rate("ETHUSDT") == pytest.approx(0.00001)  # absolute 0.03 / mark 3000, per hour
    assert client.open_interest_usd("ETHUSDT") == pytest.approx(1234.5 * 3000)


@pytest.mark.parametrize(
    "timeframe,step", [("1m", 60), ("5m", 300), ("15m", 900), ("1h", 3600), ("4h", 14400), ("1d", 86400)]
)
def test_candles_page_through_more_candles(client: KrakenFuturesClient, venue: FakeKraken, timeframe, step) -> None:
    since = 1_700_000_000 - 1_700_000_000 % 86400
    until = since + 250 * step - 1
    candles = client.candles("BTCUSDT", timeframe, since, until)
    assert [c.ts for c in candles] == [since + i * step for i in range(250)]
    assert (candles[0].open, candles[0].high, candles[0].low, candles[0].close, candles[0].volume) == (
        100.0, 101.5, 99.5, 100.5, 7.0,
    )  # fmt: skip
    assert sum(1 for _, path in venue.calls if path.startswith("/api/charts")) == 3  # 100 + 100 + 50


def test_an_unknown_timeframe_is_refused(client: KrakenFuturesClient) -> None:
    with pytest.raises(VenueRejected, match="'2m'"):
        client.candles("BTCUSDT", "2m", 0)


# ------------------------------------------------------------------ orders


def test_a_market_order_fills_and_the_account_shows_it(client: KrakenFuturesClient, venue: FakeKraken, clock) -> None:
    start = clock() - 1
    state = client.place_order(market(qty=0.01234))  # rounded down to the 0.0001 step
    assert (state.status, state.filled_quantity, state.venue_order_id) == (FILLED, 0.0123, "ord-0001-fake")
    order = next(iter(venue.orders.values()))
    assert (order.kind, order.quantity, order.cli_ord_id) == ("mkt", Decimal("0.0123"), "rb-1")
    assert order.limit_price is None
    [position] = client.positions()
    assert (position.symbol, position.quantity, position.entry_price) == ("BTCUSDT", 0.0123, 60000.0)
    [fill] = client.fills_since(start)
    assert (fill.client_order_id, fill.symbol, fill.quantity, fill.price, fill.liquidity) == (
        "rb-1", "BTCUSDT", 0.0123, 60000.0, "taker",
    )  # fmt: skip
    assert fill.fee == pytest.approx(0.0123 * 60000 * 0.05 / 100)
    assert client.order("rb-1").status == FILLED  # type: ignore[union-attr]
    balance = client.balance()
    assert (balance.cash, balance.equity, balance.available_margin) == (10000.0, 10012.5, 9900.0)


def test_limit_stop_and_take_profit_rest_and_cancel(client: KrakenFuturesClient, venue: FakeKraken) -> None:
    client.place_order(market("entry", 0.02))
    limit = client.place_order(market("lmt", 0.01, order_type="limit", limit_price=59000.7))
    stop = client.place_order(market("stp", 0.02, side="sell", order_type="stop", stop_price=58000.4, reduce_only=True))
    take = client.place_order(
        market("tp", 0.02, side="sell", order_type="take_profit", stop_price=62000, reduce_only=True)
    )
    assert (limit.status, stop.status, take.status) == (OPEN, OPEN, OPEN)
    sent = {o.cli_ord_id: o for o in venue.orders.values()}
    assert sent["lmt"].limit_price == Decimal("59000")  # a buy rounds down to the tick
    assert (sent["stp"].kind, sent["stp"].stop_price, sent["stp"].reduce_only) == ("stp", Decimal("58000"), True)
    assert sent["tp"].kind == "take_profit"
    assert {o.client_order_id for o in client.open_orders()} == {"lmt", "stp", "tp"}
    assert client.cancel_order("stp").status == CANCELLED
    assert {o.client_order_id for o in client.open_orders()} == {"lmt", "tp"}


def test_a_partial_fill_then_the_rest(client: KrakenFuturesClient, venue: FakeKraken, clock) -> None:
    venue.liquidity = Decimal("0.004")
    state = client.place_order(market("part", 0.01, order_type="limit", limit_price=61000))
    assert (state.status, state.filled_quantity) == (OPEN, 0.004)
    [resting] = client.open_orders()
    assert (resting.quantity, resting.filled_quantity) == (0.01, 0.004)
    with venue.lock:
        venue.execute(next(iter(venue.orders.values())), clock(), Decimal("0.006"))
    assert client.order("part").status == FILLED  # type: ignore[union-attr]
    assert sum(f.quantity for f in client.fills_since(0)) == pytest.approx(0.01)
    assert client.positions()[0].quantity == pytest.approx(0.01)


def test_an_ioc_that_would_not_execute_is_a_rejected_state_not_an_error(client, venue: FakeKraken, monkeypatch) -> None:
    monkeypatch.setattr(venue, "marketable", lambda order: False)
    monkeypatch.setattr(venue, "send_order", lambda params, now: venue.status("iocWouldNotExecute", "ord-x", []))
    state = client.place_order(market("ioc"))
    assert (state.status, state.reason) == (REJECTED, "IOC_WOULD_NOT_EXECUTE")


@pytest.mark.parametrize(
    "status,error", [("insufficientAvailableFunds", VenueRejected), ("marketSuspended", VenueRetryable)]
)
def test_send_status_is_checked_on_a_success_answer(client, venue: FakeKraken, monkeypatch, status, error) -> None:
    monkeypatch.setattr(venue, "send_order", lambda params, now: venue.status(status, "", []))
    with pytest.raises(error, match=status):
        client.place_order(market())
    assert client.order("rb-1") is None


def test_a_reduce_only_order_that_would_not_reduce_is_rejected(client: KrakenFuturesClient) -> None:
    with pytest.raises(VenueRejected, match="wouldNotReducePosition"):
        client.place_order(market(side="sell", reduce_only=True))


@pytest.mark.parametrize(
    "bad", [dict(qty=0.0), dict(qty=float("nan")), dict(qty=0.00001), dict(order_type="limit", limit_price=-1.0)]
)
def test_absurd_orders_never_leave(client: KrakenFuturesClient, venue: FakeKraken, bad: dict) -> None:
    with pytest.raises(VenueRejected):
        client.place_order(market(**bad))
    assert venue.sent_orders() == 0


# ------------------------------------------------------------------ faults


@pytest.mark.parametrize("fault", ["429", "500", "503", "apiLimitExceeded", "unavailable", "truncated", "html"])
def test_reads_are_retried_through_transient_faults(client: KrakenFuturesClient, venue: FakeKraken, fault) -> None:
    venue.fault(V3 + "/openpositions", fault, times=2)
    assert client.positions() == ()
    assert venue.calls.count(("GET", V3 + "/openpositions")) == 3


def test_a_fault_that_persists_ends_in_a_port_error(client: KrakenFuturesClient, venue: FakeKraken) -> None:
    venue.fault(V3 + "/tickers/PF_XBTUSD", "503", times=10)
    with pytest.raises(VenueRetryable) as caught:
        client.ticker("BTCUSDT")
    assert caught.value.venue == "kraken_futures" and "503" in str(caught.value)


@pytest.mark.parametrize("fault", ["429", "500", "apiLimitExceeded", "truncated"])
def test_an_order_is_never_retried_blindly(client: KrakenFuturesClient, venue: FakeKraken, fault) -> None:
    client.check_instruments()
    venue.fault(SEND, fault)
    with pytest.raises(VenueError):
        client.place_order(market())
    assert venue.sent_orders() == 1 and not venue.orders


def test_a_timeout_after_the_order_was_accepted_finds_it_and_sends_nothing_twice(make_client, venue) -> None:
    client = make_client(timeout_s=1.0)
    client.check_instruments()
    venue.fault(SEND, "accepted_timeout")
    state = client.place_order(market("lost"))
    assert (state.status, state.venue_order_id) == (FILLED, "ord-0001-fake")
    assert client.place_order(market("lost")).status == FILLED  # asked again: looked up, not sent
    assert venue.sent_orders() == 1 and len(venue.orders) == 1
    assert client.positions()[0].quantity == pytest.approx(0.01)


def test_a_truncated_order_answer_after_acceptance_is_looked_up(client: KrakenFuturesClient, venue, clock) -> None:
    client.check_instruments()
    venue.fault(SEND, "accepted_truncated")
    clock_before = clock()
    state = client.place_order(market("cut", order_type="limit", limit_price=50000))
    assert (state.status, state.client_order_id) == (OPEN, "cut")
    assert venue.sent_orders() == 1
    clock.advance(60)  # long after: orders/status no longer lists closed orders, fills do
    client.cancel_order("cut")
    assert client.order("cut").status == CANCELLED  # type: ignore[union-attr]
    assert clock_before < clock()


def test_an_order_lost_before_it_arrived_is_sent_again_only_after_its_deadline(
    make_client: ClientFactory, venue: FakeKraken, clock: Clock
) -> None:
    client = make_client(timeout_s=1.0)
    client.check_instruments()
    venue.fault(SEND, "timeout")
    with pytest.raises(OrderOutcomeUnknown, match="not sent again before"):
        client.place_order(market("gone"))
    with pytest.raises(OrderOutcomeUnknown):  # asked again at once: looked up, not sent
        client.place_order(market("gone"))
    assert venue.sent_orders() == 1 and not venue.orders
    clock.advance(ORDER_DEADLINE_S + SKEW_MARGIN_S + 1)
    assert client.place_order(market("gone")).status == FILLED
    assert venue.sent_orders() == 2 and len(venue.orders) == 1


def test_a_late_copy_of_a_lost_order_is_refused_by_its_deadline(venue: FakeKraken, clock: Clock) -> None:
    """The deadline is what makes the resend safe: the venue drops the lost copy."""
    answer = venue.send_order({"processBefore": "2000-01-01T00:00:00.000Z", "symbol": "PF_XBTUSD"}, clock())
    assert answer["sendStatus"]["status"] == "wouldProcessAfterSpecifiedTime" and not venue.orders


def test_a_duplicate_client_order_id_answers_the_existing_order(make_client, venue: FakeKraken) -> None:
    first, second = make_client(), make_client()  # e.g. a restart: the new client never saw the answer
    first.place_order(market("dup"))
    state = second.place_order(market("dup"))
    assert (state.status, state.venue_order_id) == (FILLED, "ord-0001-fake")
    assert len(venue.orders) == 1


@pytest.mark.parametrize("fault", ["nonce", "nonceBelowThreshold"])
def test_a_nonce_error_is_signed_again_with_a_fresh_nonce_even_for_an_order(client, venue: FakeKraken, fault) -> None:
    client.check_instruments()
    venue.fault(SEND, fault)
    assert client.place_order(market()).status == FILLED
    assert venue.sent_orders() == 2 and len(venue.orders) == 1


def test_nonces_rise_across_calls(client: KrakenFuturesClient, venue: FakeKraken) -> None:
    for _ in range(5):
        client.positions()
    assert venue.auth_failures == 0 and venue.last_nonce > 0


def test_bad_keys_are_fatal_and_never_quoted(make_client: ClientFactory, venue: FakeKraken, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "V3Jvbmcgc2VjcmV0IGZvciB0aGUgZmFrZSBLcmFrZW4gdGVzdA=="
    client = make_client(secret=wrong)
    with pytest.raises(VenueFatal) as caught:
        client.positions()
    assert venue.auth_failures == 1
    for text in (str(caught.value), repr(caught.value), caplog.text):
        assert wrong not in text and SECRET not in text and KEY not in text


def test_private_calls_without_keys_say_which_variables(make_client: ClientFactory, venue: FakeKraken) -> None:
    client = make_client(keys=False)
    assert client.ticker("BTCUSDT").last == 60000.0
    with pytest.raises(VenueFatal, match="KRAKEN_FUTURES_API_KEY, KRAKEN_FUTURES_API_SECRET"):
        client.balance()
    assert not any(path.endswith("/accounts") for _, path in venue.calls)


@pytest.mark.parametrize("error", ["accountInactive", "authenticationError"])
def test_account_errors_in_a_200_envelope_are_fatal(client, venue: FakeKraken, error: str) -> None:
    venue.fault(V3 + "/openorders", error)
    with pytest.raises(VenueFatal, match=error):
        client.open_orders()


def test_an_error_that_echoes_the_keys_never_carries_them(client, venue: FakeKraken) -> None:
    venue.fault(V3 + "/openorders", f"invalidArgument: apiKey={KEY} secret={SECRET}")
    with pytest.raises(VenueRejected) as caught:
        client.open_orders()
    text = f"{caught.value!s} {caught.value!r}"
    assert KEY not in text and SECRET not in text and "[REDACTED]" in text
    assert "/derivatives/api/v3/openorders" in text  # the endpoint as signed and sent


def test_an_answer_without_positions_is_unknown_not_flat(client, venue: FakeKraken, monkeypatch) -> None:
    original = venue.route_private
    monkeypatch.setattr(
        venue,
        "route_private",
        lambda m, p, q: {"result": "success"} if p.endswith("openpositions") else original(m, p, q),
    )
    with pytest.raises(VenueAnswerMalformed, match="openPositions"):
        client.positions()


@pytest.mark.parametrize("answer", ["404", "no accounts object", "truncated"])
def test_the_demo_environment_explains_its_missing_balance_after_one_call(
    make_client, venue: FakeKraken, fake, monkeypatch, answer: str
) -> None:
    client = make_client(environ={"KRAKEN_FUTURES_TESTNET": "true"})
    assert client.config.demo and client.config.base_url == fake.url  # --base-url still wins
    if answer == "404":
        venue.accounts_missing = True
    elif answer == "truncated":
        venue.fault(V3 + "/accounts", "truncated")
    else:
        original = venue.route_private
        monkeypatch.setattr(
            venue,
            "route_private",
            lambda m, p, q: {"result": "success"} if p.endswith("/accounts") else original(m, p, q),
        )
    with pytest.raises(
        VenueRejected, match=r"the demo environment \(http://127\.0\.0\.1:\d+\) does not serve balances"
    ):
        client.balance()
    assert venue.calls.count(("GET", V3 + "/accounts")) == 1  # a known limit, not retried


def test_outside_the_demo_a_torn_balance_answer_is_read_again(client: KrakenFuturesClient, venue: FakeKraken) -> None:
    venue.fault(V3 + "/accounts", "truncated")
    assert client.balance().cash == 10000.0
    assert venue.calls.count(("GET", V3 + "/accounts")) == 2


def test_the_host_comes_from_the_rules_the_environment_or_the_flag(kraken_rules) -> None:
    from adapters.venues.kraken_futures.config import KrakenConfig

    assert KrakenConfig.from_exchange(kraken_rules, environ={}).base_url == "https://futures.kraken.com"
    demo = KrakenConfig.from_exchange(kraken_rules, environ={"KRAKEN_FUTURES_TESTNET": "1"})
    assert (demo.base_url, demo.demo) == ("https://demo-futures.kraken.com", True)
    env = KrakenConfig.from_exchange(kraken_rules, environ={"KRAKEN_FUTURES_BASE_URL": "http://127.0.0.1:9"})
    assert env.base_url == "http://127.0.0.1:9"
    assert KrakenConfig.from_exchange(kraken_rules, base_url="http://x/", environ={}).base_url == "http://x"


def test_rate_limit_pools_are_charged(client: KrakenFuturesClient) -> None:
    client.place_order(market())
    headroom = client.http.http.limits.headroom()  # type: ignore[union-attr]
    assert headroom["derivatives"] < 1.0 and headroom["client_guard"] < 1.0


def test_funding_payments_from_the_account_log(client: KrakenFuturesClient, venue: FakeKraken) -> None:
    venue.account_log = [
        {"id": 7, "date": "2026-01-01T01:00:00.000Z", "info": "funding rate change", "contract": "pf_xbtusd",
         "realized_funding": "-0.0123", "funding_rate": "0.6", "mark_price": "60000"},
        {"id": 8, "date": "2026-01-01T01:00:00.000Z", "info": "futures trade", "contract": "pf_xbtusd"},
    ]  # fmt: skip
    [payment] = client.funding_since(0)
    assert (payment.payment_id, payment.symbol, payment.amount) == ("kraken_futures:funding:7", "BTCUSDT", -0.0123)
    assert payment.rate == pytest.approx(0.00001)


def test_a_burst_waits_on_the_client_guard_through_the_injected_sleep(
    make_client: ClientFactory, clock: Clock, waits: list[float]
) -> None:
    clock.freeze()  # only the client's sleeps move time: the guard's refill is exact
    client = make_client()
    for _ in range(12):
        client.ticker("BTCUSDT")
    # rules: client_guard 10 per 1 s, so the 11th and 12th wait 0.1 s each (float crumbs aside)
    assert sum(waits) == pytest.approx(0.2, abs=1e-3) and len([w for w in waits if w > 1e-3]) == 2


def test_funding_pages_through_the_account_log_on_the_history_pool(client: KrakenFuturesClient, venue) -> None:
    venue.account_log = [
        {"id": i, "date": f"2026-01-{1 + i // 24:02d}T{i % 24:02d}:00:00.000Z", "info": "funding rate change",
         "contract": "pf_ethusd", "realized_funding": -0.5, "funding_rate": 0.03, "mark_price": 3000.0}
        for i in range(1, 601)
    ] + [{"id": 601, "date": "2026-02-01T00:00:00.000Z", "info": "funding rate change", "contract": None,
          "realized_funding": None, "funding_rate": None, "mark_price": None}]  # fmt: skip
    payments = client.funding_since(0)
    assert len(payments) == 600 and [p.ts for p in payments] == sorted(p.ts for p in payments)
    assert {(p.symbol, p.amount) for p in payments} == {("ETHUSDT", -0.5)}
    assert payments[0].rate == pytest.approx(0.00001)
    assert venue.calls.count(("GET", "/api/history/v3/account-log")) == 2  # 500, then the rest
    headroom = client.http.http.limits.headroom()  # type: ignore[union-attr]
    assert headroom["history"] == pytest.approx(0.8, abs=0.01)  # 2 × 10 of 100 tokens


def test_an_errors_list_envelope_on_an_order_is_a_rejection_and_frees_the_id(client, venue, monkeypatch) -> None:
    original = venue.send_order
    monkeypatch.setattr(
        venue,
        "send_order",
        lambda p, now: {"result": "error", "errors": [{"code": 92, "message": "INSUFFICIENT_MARGIN"}]},
    )
    with pytest.raises(VenueRejected, match="INSUFFICIENT_MARGIN"):
        client.place_order(market("margin"))
    monkeypatch.setattr(venue, "send_order", original)
    assert client.place_order(market("margin")).status == FILLED  # refused before acting: sending again is safe
    assert len(venue.orders) == 1


def test_a_cancel_that_lost_the_race_to_a_fill_answers_the_filled_order(client, venue: FakeKraken, clock) -> None:
    client.place_order(market("late", order_type="limit", limit_price=50000))
    with venue.lock:
        venue.execute(next(iter(venue.orders.values())), clock(), Decimal("0.01"))
    state = client.cancel_order("late")
    assert (state.status, state.filled_quantity) == (FILLED, 0.01)
    assert client.positions()[0].quantity == pytest.approx(0.01)


def test_unknown_error_on_an_order_is_an_unknown_outcome_looked_up_first(client, venue: FakeKraken) -> None:
    client.check_instruments()
    venue.fault(SEND, "unknownError")
    with pytest.raises(OrderOutcomeUnknown):
        client.place_order(market("unk"))
    assert venue.calls.count(("POST", V3 + "/orders/status")) == 1 and venue.sent_orders() == 1


def test_the_client_defines_no_error_classes_of_its_own() -> None:
    """Callers decide by the port's classes (docs/architecture.md lists every one)."""
    from engine.common.errors import RulebotError

    def tree(cls: type) -> list[type]:
        return [cls, *(c for sub in cls.__subclasses__() for c in tree(sub))]

    assert [c for c in tree(RulebotError) if c.__module__.startswith("adapters.venues.kraken_futures")] == []
