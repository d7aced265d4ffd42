"""Kraken Futures answers in their documented shapes (reference/exchanges.md §1.5–1.10, from
Kraken's OpenAPI examples and observed answers quoted there) parsed exactly, and every way an
answer can be wrong refused with the venue, endpoint and field named."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from adapters.venues.kraken_futures import wire
from adapters.venues.kraken_futures.http import _error_name
from engine.ports import VenueAnswerMalformed
from tests.venues.fakes.kraken_futures import authent as fake_authent

AT = wire.At("kraken_futures", "/derivatives/api/v3/test")


def test_send_status_placed_as_in_the_spec_example() -> None:
    answer = {"result": "success", "serverTime": "2019-09-05T16:33:50.734Z",
              "sendStatus": {"order_id": "179f9af8-e45e-469d-b3e9-2fd4675cb7d0", "status": "placed",
                             "receivedTime": "2019-09-05T16:33:50.734Z",
                             "orderEvents": [{"type": "PLACE", "order": {
                                 "orderId": "179f9af8-e45e-469d-b3e9-2fd4675cb7d0", "cliOrdId": None, "type": "lmt",
                                 "symbol": "PF_XBTUSD", "side": "buy", "quantity": 0.001, "filled": 0,
                                 "limitPrice": 50000, "reduceOnly": False, "timestamp": "2019-09-05T16:33:50.734Z",
                                 "lastUpdateTimestamp": "2019-09-05T16:33:50.734Z"}}]}}  # fmt: skip
    status = wire.send_status(answer, AT)
    assert (status.status, status.order_id, status.filled) == ("placed", "179f9af8-e45e-469d-b3e9-2fd4675cb7d0", 0)
    assert status.status in wire.ACCEPTED


def test_send_status_executions_add_up_exactly_from_strings() -> None:
    answer = {"result": "success", "sendStatus": {"order_id": "o", "status": "placed", "orderEvents": [
        {"type": "EXECUTION", "executionId": "e1", "price": "68.54", "amount": "0.10000000000",
         "orderPriorExecution": {"type": "ioc", "filled": "0E-11"}},
        {"type": "EXECUTION", "executionId": "e2", "price": 68.55, "amount": 0.2}]}}  # fmt: skip
    assert wire.send_status(answer, AT).filled == Decimal("0.3")


def test_a_rejected_ioc_carries_its_reason_and_is_not_accepted() -> None:
    answer = {"result": "success", "sendStatus": {"status": "iocWouldNotExecute", "orderEvents": [
        {"type": "REJECT", "uid": "u", "reason": "IOC_WOULD_NOT_EXECUTE"}]}}  # fmt: skip
    status = wire.send_status(answer, AT)
    assert status.status in wire.NOT_EXECUTED and status.reason == "IOC_WOULD_NOT_EXECUTE"
    assert status.status not in wire.ACCEPTED


def test_success_without_send_status_is_malformed() -> None:
    with pytest.raises(VenueAnswerMalformed, match=r"kraken_futures /derivatives/api/v3/test: .*'sendStatus'"):
        wire.send_status({"result": "success", "serverTime": "2019-09-05T16:33:50.734Z"}, AT)


def test_cancel_status_as_in_the_spec() -> None:
    answer = {"result": "success", "cancelStatus": {"status": "filled", "order_id": "cb4e34f6",
              "receivedTime": "2020-07-22T13:26:20.806Z"}, "serverTime": "2020-07-22T13:26:20.806Z"}  # fmt: skip
    assert wire.cancel_status(answer, AT) == ("filled", "cb4e34f6")


def test_open_positions_observed_shape_with_strings_and_lower_case_symbols() -> None:
    answer = {"result": "success", "openPositions": [
        {"side": "short", "symbol": "pf_ltcusd", "price": "68.54", "fillTime": "2024-03-03T22:51:16.566Z",
         "size": "0.1", "unrealizedFunding": "-0.0018", "pnlCurrency": "USD", "maxFixedLeverage": "1.0"},
        {"side": "long", "symbol": "PF_XBTUSD", "price": 60000, "size": 0.0123}], "serverTime": "x"}  # fmt: skip
    short, long = wire.positions(answer, AT)
    assert (short.symbol, short.signed_size, short.price, short.max_fixed_leverage) == (
        "PF_LTCUSD", Decimal("-0.1"), Decimal("68.54"), Decimal("1.0"),
    )  # fmt: skip
    assert (long.signed_size, long.max_fixed_leverage) == (Decimal("0.0123"), None)


@pytest.mark.parametrize("answer", [{"result": "success"}, {"result": "success", "openPositions": None}])
def test_positions_missing_are_unknown_never_flat(answer: dict) -> None:
    with pytest.raises(VenueAnswerMalformed, match="openPositions"):
        wire.positions(answer, AT)


@pytest.mark.parametrize(
    "row,why",
    [
        ({"side": "flat", "symbol": "PF_XBTUSD", "price": "1", "size": "1"}, "side"),
        ({"side": "long", "symbol": "PF_XBTUSD", "price": "0", "size": "1"}, "'price' must be above zero"),
        ({"side": "long", "symbol": "PF_XBTUSD", "price": "1", "size": "-1"}, "'size' must not be negative"),
        ({"side": "long", "symbol": "PF_XBTUSD", "price": "Infinity", "size": "1"}, "'price' is not finite"),
        ({"side": "long", "symbol": "PF_XBTUSD", "price": "abc", "size": "1"}, "'price' is not a number"),
        ({"side": "long", "symbol": "PF_XBTUSD", "price": True, "size": "1"}, "'price' is not a number"),
        ({"side": "long", "symbol": "PF_XBTUSD", "price": "", "size": "1"}, "'price' is missing"),
    ],
)
def test_impossible_position_values_are_refused_by_name(row: dict, why: str) -> None:
    with pytest.raises(VenueAnswerMalformed, match=why):
        wire.positions({"openPositions": [row]}, AT)


def test_flex_account_as_in_the_spec() -> None:
    answer = {"result": "success", "accounts": {
        "cash": {"type": "cashAccount", "balances": {"xbt": 141.31756797}},
        "fi_xbtusd": {"type": "marginAccount", "currency": "xbt", "auxiliary": {"pv": "0.1", "af": "0.1"}},
        "flex": {"type": "multiCollateralMarginAccount",
                 "currencies": {"USD": {"quantity": "8000.0", "value": "8000.0", "collateral": "8000.0",
                                        "available": "8000.0"}},
                 "balanceValue": "8000.00", "portfolioValue": "8012.5", "collateralValue": "8000.0",
                 "initialMargin": "100", "maintenanceMargin": "50", "pnl": "12.5", "unrealizedFunding": "0",
                 "totalUnrealized": "12.5", "marginEquity": "8012.5", "availableMargin": "7912.5"}},
        "serverTime": "2022-03-31T20:38:53.677Z"}  # fmt: skip
    balance = wire.flex_balance(answer, AT)
    assert (balance.balance_value, balance.portfolio_value, balance.available_margin) == (
        Decimal("8000.00"), Decimal("8012.5"), Decimal("7912.5"),
    )  # fmt: skip


def test_an_account_answer_without_flex_is_malformed() -> None:
    with pytest.raises(VenueAnswerMalformed, match="'flex'"):
        wire.flex_balance({"result": "success", "accounts": {"cash": {}}}, AT)


def test_ticker_with_strings_numbers_and_a_lower_case_symbol() -> None:
    row = wire.one_ticker({"result": "success", "ticker": {
        "symbol": "pf_enjusd", "tag": "perpetual", "markPrice": "0.0434", "bid": 0.0433, "ask": "0.0435",
        "last": "", "fundingRate": "-0.000000756414717067", "openInterest": "1000", "suspended": False,
        "lastTime": "2025-01-01T00:00:00.000Z"}}, AT)  # fmt: skip
    assert (row.symbol, row.last, row.mark, row.bid) == ("PF_ENJUSD", None, Decimal("0.0434"), Decimal("0.0433"))
    assert row.funding_rate == Decimal("-0.000000756414717067")
    assert float(row.funding_rate / row.mark) == pytest.approx(-1.7429e-5, rel=1e-3)  # §1.8: per hour


def test_order_book_sorted_best_first_and_a_crossed_book_refused() -> None:
    bids, asks = wire.order_book({"result": "success", "orderBook": {
        "bids": [[40000, "0.5"], ["40001.5", 1]], "asks": [["40003", "2"], [40002, 0.25]]}}, AT)  # fmt: skip
    assert bids == ((Decimal("40001.5"), Decimal(1)), (Decimal(40000), Decimal("0.5")))
    assert asks[0] == (Decimal(40002), Decimal("0.25"))
    with pytest.raises(VenueAnswerMalformed, match="crossed"):
        wire.order_book({"orderBook": {"bids": [[2, 1]], "asks": [[1, 1]]}}, AT)
    with pytest.raises(VenueAnswerMalformed, match=r"bids\[0\] is not a \[price, size\] pair"):
        wire.order_book({"orderBook": {"bids": [[2]], "asks": []}}, AT)


def test_candles_as_in_the_charts_spec() -> None:
    answer = {"candles": [{"time": 1620816960000, "open": "56294.00000000000", "high": "56475.00000000000",
                           "low": "55935.00000000000", "close": "56250.00000000000", "volume": 10824}],
              "more_candles": False}  # fmt: skip
    (candle,), more = wire.candles(answer, AT)
    assert (candle.ts, candle.open, candle.high, candle.volume, more) == (
        1620816960.0, Decimal("56294"), Decimal("56475"), Decimal(10824), False,
    )  # fmt: skip
    bad = {"candles": [{"time": 1, "open": "10", "high": "9", "low": "8", "close": "9", "volume": 1}]}
    with pytest.raises(VenueAnswerMalformed, match="high/low"):
        wire.candles(bad, AT)


def test_instruments_with_negative_precision_and_index_rows() -> None:
    answer = {"result": "success", "instruments": [
        {"symbol": "PF_XBTUSD", "type": "flexible_futures", "tradeable": True, "tickSize": 1, "contractSize": 1,
         "contractValueTradePrecision": 4,
         "marginLevels": [{"numNonContractUnits": 0, "initialMargin": 0.02, "maintenanceMargin": 0.01}]},
        {"symbol": "PF_PEPEUSD", "type": "flexible_futures", "tradeable": True, "tickSize": "1e-10",
         "contractSize": "1", "contractValueTradePrecision": "-3",
         "marginLevels": [{"numNonContractUnits": "0", "initialMargin": "0.1", "maintenanceMargin": "0.05"}]},
        {"symbol": "in_xbtusd", "type": "spot index", "tradeable": False},
    ]}  # fmt: skip
    xbt, pepe = wire.instruments(answer, AT)
    assert (xbt.size_step, xbt.tick_size, xbt.max_leverage) == (Decimal("0.0001"), 1, 50)
    assert (pepe.size_step, pepe.tick_size, pepe.max_leverage) == (Decimal(1000), Decimal("1e-10"), 10)
    with pytest.raises(VenueAnswerMalformed, match="contractValueTradePrecision is not a whole number"):
        wire.instruments({"instruments": [{"symbol": "PF_X", "tickSize": 1, "contractValueTradePrecision": 1.5}]}, AT)


def test_order_status_and_open_orders_rows() -> None:
    statuses = wire.order_statuses({"result": "success", "orders": [{"order": {
        "type": "TRIGGER_ORDER", "orderId": "2ce038ae", "cliOrdId": "rb-7", "symbol": "pf_xbtusd", "side": "sell",
        "quantity": "0.5", "filled": "0", "limitPrice": None, "reduceOnly": True,
        "timestamp": "2023-03-28T14:21:08.497Z", "priceTriggerOptions": {"triggerPrice": 58000}},
        "status": "TRIGGER_PLACED", "updateReason": None, "error": None}]}, AT)  # fmt: skip
    assert [(o.cli_ord_id, o.order_type, o.status, o.quantity, o.reduce_only) for o in statuses] == [
        ("rb-7", "stop", "open", Decimal("0.5"), True)
    ]
    with pytest.raises(VenueAnswerMalformed, match="unknown order status"):
        wire.order_statuses({"orders": [{"order": {}, "status": "SOMETHING_NEW"}]}, AT)
    (row,) = wire.open_orders({"openOrders": [{"order_id": "59302619", "symbol": "pi_xbtusd", "side": "buy",
        "orderType": "lmt", "limitPrice": 10640, "unfilledSize": 304, "receivedTime": "2019-09-05T17:01:17.410Z",
        "status": "untouched", "filledSize": 0, "reduceOnly": True, "lastUpdateTime": "2019-09-05T17:01:17.410Z"}]}, AT)  # fmt: skip
    assert (row.order_id, row.cli_ord_id, row.quantity, row.limit_price) == ("59302619", "", 304, 10640)


def test_fills_as_in_the_spec() -> None:
    (fill,) = wire.fills({"result": "success", "fills": [{"fill_id": "3d57ed09", "symbol": "pi_xbtusd",
        "side": "buy", "order_id": "693af756", "size": 5490, "price": 9400, "fillTime": "2020-07-22T13:37:27.077Z",
        "fillType": "maker", "cliOrdId": "d427f920"}]}, AT)  # fmt: skip
    assert (fill.symbol, fill.size, fill.price, fill.cli_ord_id, fill.fill_type) == (
        "PI_XBTUSD", 5490, 9400, "d427f920", "maker",
    )  # fmt: skip


def test_the_account_log_in_the_spec_schema() -> None:
    entry = {"asset": "usd", "booking_uid": "f3d7a7c1", "collateral": "USD", "contract": "pf_xbtusd",
             "date": "2026-01-01T01:00:00.000Z", "execution": None, "fee": None, "funding_rate": 0.6, "id": 42,
             "info": "funding rate change", "margin_account": "flex", "mark_price": 60000.0,
             "new_average_entry_price": None, "new_balance": 9999.98, "old_average_entry_price": None,
             "old_balance": 10000.0, "realized_funding": -0.0123, "realized_pnl": None, "trade_price": None,
             "conversion_spread_percentage": None, "liquidation_fee": None}  # fmt: skip
    trade = entry | {"id": 43, "info": "futures trade", "realized_funding": 0.5}
    rows, last_id = wire.funding_log({"accountUid": "a1", "logs": [entry, trade]}, AT)
    assert last_id == 43
    assert [(r.entry_id, r.symbol, r.amount, r.rate, r.mark_price) for r in rows] == [
        ("42", "PF_XBTUSD", Decimal("-0.0123"), Decimal("0.6"), Decimal("60000.0"))
    ]
    with pytest.raises(VenueAnswerMalformed, match="'logs'"):
        wire.funding_log({"accountUid": "a1"}, AT)


@pytest.mark.parametrize(
    "answer,name",
    [
        (
            {"result": "error", "serverTime": "2016-02-25T09:45:53.818Z", "error": "apiLimitExceeded"},
            "apiLimitExceeded",
        ),
        ({"result": "error", "errors": [{"code": 92, "message": "INSUFFICIENT_MARGIN"}]}, "INSUFFICIENT_MARGIN"),
        ({"error": "Json Parse Error"}, "Json Parse Error"),
        ({"result": "success", "sendStatus": {"status": "placed"}}, None),
    ],
)
def test_error_envelopes_are_named(answer: dict, name: str | None) -> None:
    assert _error_name(answer) == name


def test_the_fake_venue_checks_signatures_with_the_published_algorithm() -> None:
    """The fake's own Authent (written independently of the client) agrees with every vector."""
    vectors = json.loads((Path(__file__).parent / "kraken_futures_auth.json").read_text())
    for case in vectors["ccxt_cases"]:
        path = "/derivatives" + case["endpoint_path"]
        got = fake_authent(vectors["secret_ccxt_cases"], case["post_data"], case["nonce"], path)
        assert got == case["expected_authent"], case["name"]
    for case in vectors["nonce_cases"]:
        assert (
            fake_authent(case["secret"], case["post_data"], case["nonce"], case["url_path_as_sent"])
            == case["expected_authent"]
        )
