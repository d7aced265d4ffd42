"""Parsing BloFin's answers in their documented shapes (docs.blofin.com examples, reference
§2.3/§2.4), and refusing what is malformed, with a message naming endpoint and field."""

from __future__ import annotations

from decimal import Decimal

import pytest

from adapters.venues.blofin import wire
from engine.ports import VenueAnswerMalformed, VenueFatal, VenueRejected, VenueRetryable

INSTRUMENTS = {
    "code": "0",
    "msg": "success",
    "data": [
        {
            "instId": "BTC-USDT",
            "baseCurrency": "BTC",
            "quoteCurrency": "USDT",
            "contractValue": "0.001",
            "listTime": "1700000000000",
            "expireTime": "4070880000000",
            "maxLeverage": "150",
            "minSize": "0.1",
            "lotSize": "0.1",
            "tickSize": "0.1",
            "instType": "SWAP",
            "contractType": "linear",
            "maxLimitSize": "100000",
            "maxMarketSize": "10000",
            "state": "live",
            "settleCurrency": "USDT",
        }
    ],
}
# docs "GET Positions" example, both rows
POSITIONS = [
    {
        "positionId": "7982",
        "instId": "ETH-USDT",
        "instType": "SWAP",
        "marginMode": "isolated",
        "positionSide": "net",
        "adl": "5",
        "positions": "1",
        "availablePositions": "1",
        "averagePrice": "1591.800000000000000000",
        "margin": "53.060000000000000000",
        "markPrice": "1591.69",
        "marginRatio": "72.453752328329172684",
        "liquidationPrice": "1066.104078762306610407",
        "unrealizedPnl": "-0.011",
        "unrealizedPnlRatio": "-0.000207312476441764",
        "maintenanceMargin": "0.636676",
        "createTime": "1695352782370",
        "updateTime": "1695352782372",
        "leverage": "3",
    },
    {
        "positionId": "5483",
        "instId": "BCH-USDT",
        "instType": "SWAP",
        "marginMode": "cross",
        "positionSide": "net",
        "adl": "5",
        "positions": "-290",
        "availablePositions": "-290",
        "averagePrice": "1890.000000000000000000",
        "markPrice": "1889",
        "marginRatio": "172426.851188979265788635",
        "liquidationPrice": "",
        "unrealizedPnl": "2.9",
        "unrealizedPnlRatio": "0.001587301587301587",
        "initialMargin": "1826.033333333333333333",
        "maintenanceMargin": "54.781",
        "createTime": "1695090016933",
        "updateTime": "1695090016931",
        "leverage": "3",
    },
]
BALANCE = {
    "ts": "1697021343571",
    "totalEquity": "10011254.077985990315787910",
    "isolatedEquity": "861.763132108800000000",
    "details": [
        {
            "currency": "USDT",
            "equity": "10014042.988958415234430699548",
            "balance": "10013119.885958415234430699",
            "ts": "1697021343571",
            "isolatedEquity": "862.003200000000000000048",
            "available": "9996399.4708691159703362725",
            "availableEquity": "9996399.4708691159703362725",
            "frozen": "15805.149672632597427761",
            "orderFrozen": "14920.994472632597427761",
            "equityUsd": "10011254.077985990315787910",
            "isolatedUnrealizedPnl": "-22.151999999999999999952",
            "bonus": "0",
        }
    ],
}
PENDING = [
    {
        "orderId": "29531103",
        "clientOrderId": "",
        "instId": "ETH-USDT",
        "marginMode": "isolated",
        "positionSide": "net",
        "side": "buy",
        "orderType": "limit",
        "price": "1514.150000000000000000",
        "size": "1.000000000000000000",
        "reduceOnly": "false",
        "leverage": "3",
        "state": "live",
        "filledSize": "0.000000000000000000",
        "filled_amount": "0.000000000000000000",
        "averagePrice": "0.000000000000000000",
        "fee": "0.000000000000000000",
        "pnl": "0.000000000000000000",
        "createTime": "1697031292762",
        "updateTime": "1697031292788",
        "orderCategory": "normal",
        "tpTriggerPrice": "1688.000000000000000000",
        "slTriggerPrice": "1299.000000000000000000",
        "slOrderPrice": None,
        "tpOrderPrice": None,
        "algoClientOrderId": "aaa",
        "algoId": "11756185",
        "brokerId": "",
    }
]
TPSL_PENDING = [
    {
        "tpslId": "2411",
        "instId": "ETH-USDT",
        "marginMode": "cross",
        "positionSide": "net",
        "side": "sell",
        "tpTriggerPrice": "1666.000000000000000000",
        "tpOrderPrice": None,
        "slTriggerPrice": "1222.000000000000000000",
        "slOrderPrice": None,
        "size": "1",
        "state": "live",
        "leverage": "3",
        "reduceOnly": "false",
        "actualSize": None,
        "clientOrderId": "aabbc",
        "createTime": "1697016700775",
        "brokerId": "",
    }
]
FILLS = [
    {
        "instId": "ETH-USDT",
        "tradeId": "7772187",
        "orderId": "28697026",
        "fillPrice": "1587.800000000000000000",
        "fillSize": "2.000000000000000000",
        "fillPnl": "0.000000000000000000",
        "positionSide": "long",
        "side": "buy",
        "fee": "0.190536000000000000",
        "ts": "1696853354238",
        "brokerId": "",
    }
]


def test_envelope_success_and_instruments() -> None:
    env = wire.envelope(INSTRUMENTS, "/api/v1/market/instruments")
    (btc,) = wire.instruments(env.data, "/api/v1/market/instruments")
    assert btc.contract_value == Decimal("0.001") and btc.lot_size == Decimal("0.1")
    assert btc.max_leverage == Decimal(150) and btc.live


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        ("429", VenueRetryable),
        ("500", VenueRetryable),
        ("152405", VenueRetryable),
        ("152407", VenueRetryable),
        ("152409", VenueFatal),
        ("152401", VenueFatal),
        ("152408", VenueFatal),
        ("401", VenueFatal),
        ("152002", VenueRejected),
        ("102022", VenueRejected),
        ("103003", VenueRejected),
        ("999999", VenueRejected),
    ],
)
def test_http_200_error_envelopes_map_to_the_port_errors(code: str, cls: type) -> None:
    with pytest.raises(cls) as caught:
        wire.envelope({"code": code, "msg": "nope", "data": None}, "/api/v1/trade/order")
    assert type(caught.value) is cls
    assert code in str(caught.value) and "/api/v1/trade/order" in str(caught.value)
    assert caught.value.venue == "blofin"


def test_accepted_codes_are_returned_for_the_caller_to_inspect() -> None:
    env = wire.envelope(
        {"code": "1", "msg": "", "data": [{"orderId": "", "code": "102002", "msg": "dup"}]}, "/o", frozenset({"1"})
    )
    (item,) = wire.item_results(env.data, "/o")
    assert not item.ok and item.code == "102002"


@pytest.mark.parametrize(
    "payload",
    [[], "text", {"msg": "no code"}, {"code": None}, {"code": "0", "msg": "no data"}],
    ids=["list", "string", "no-code", "null-code", "no-data"],
)
def test_bad_envelopes_are_malformed(payload: object) -> None:
    with pytest.raises(VenueAnswerMalformed, match="/x"):
        wire.envelope(payload, "/x")


def test_positions_in_the_documented_shape() -> None:
    eth, bch = wire.positions(POSITIONS, "/p")
    assert eth.contracts == 1 and eth.average_price == Decimal("1591.8") and eth.leverage == 3
    assert bch.contracts == -290 and bch.liquidation_price is None  # "" is missing


def test_hedge_mode_short_is_negative() -> None:
    row = dict(POSITIONS[0], positionSide="short")
    assert wire.positions([row], "/p")[0].contracts == -1


def test_balance_is_exact() -> None:
    bal = wire.balance(BALANCE, "/b")
    assert bal.cash == Decimal("10013119.885958415234430699")
    assert bal.available == Decimal("9996399.4708691159703362725")


def test_orders_and_tpsl_orders() -> None:
    (order,) = wire.orders(PENDING, "/o")
    assert order.state == "live" and order.size == 1 and order.filled == 0 and not order.reduce_only
    assert order.created_at == pytest.approx(1697031292.762)
    (tpsl,) = wire.tpsl_orders(TPSL_PENDING, "/t")
    assert tpsl.order_type == "stop" and tpsl.price == Decimal(1222) and tpsl.client_order_id == "aabbc"


def test_fills() -> None:
    (fill,) = wire.fills(FILLS, "/f")
    assert fill.contracts == 2 and fill.fee == Decimal("0.190536") and fill.ts == pytest.approx(1696853354.238)


def test_book_and_candles() -> None:
    data = [{"asks": [["41006.8", "0.60038"], ["41007", "1"]], "bids": [["41006.3", "0.30178"]], "ts": "1700000000000"}]
    book = wire.book(data, "/b")
    assert book.asks[0] == (Decimal("41006.8"), Decimal("0.60038")) and book.bids[0][0] == Decimal("41006.3")
    rows = [
        ["1700000060000", "100", "110", "90", "105", "10", "0.5", "50", "0"],
        ["1700000000000", "99", "101", "98", "100", "3", "0.2", "20", "1"],
    ]
    new, old = wire.candles(rows, "/c")
    assert not new.closed and old.closed and old.volume == Decimal("0.2")


@pytest.mark.parametrize(
    ("data", "why"),
    [
        ([{"asks": [["100", "1"]], "bids": [["101", "1"]], "ts": "1"}], "crossed"),
        ([{"asks": [["0", "1"]], "bids": [], "ts": "1"}], "positive price"),
        ([{"asks": [["NaN", "1"]], "bids": [], "ts": "1"}], "not finite"),
        ([{"asks": [["1e12", "-1"]], "bids": [], "ts": "1"}], "negative"),
        ([{"asks": "x", "bids": [], "ts": "1"}], "not a list"),
    ],
)
def test_absurd_books_are_refused(data: object, why: str) -> None:
    with pytest.raises(VenueAnswerMalformed, match=why):
        wire.book(data, "/api/v1/market/books")


def test_candle_with_high_below_close_is_refused() -> None:
    with pytest.raises(VenueAnswerMalformed, match="outside"):
        wire.candles([["1700000000000", "100", "101", "99", "150", "1", "1", "1", "1"]], "/c")


def test_timestamps_in_seconds_are_refused() -> None:
    with pytest.raises(VenueAnswerMalformed, match="millisecond"):
        wire.fills([dict(FILLS[0], ts="1696853354")], "/f")


def test_number_fields_of_the_wrong_type() -> None:
    with pytest.raises(VenueAnswerMalformed, match="fillPrice"):
        wire.fills([dict(FILLS[0], fillPrice={"x": 1})], "/f")
    with pytest.raises(VenueAnswerMalformed, match="side"):
        wire.fills([dict(FILLS[0], side="long")], "/f")
