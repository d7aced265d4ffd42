"""BloFin's answers parsed at the edge into frozen records (reference §2.3, §2.4).

Every answer is an envelope ``{"code": "0", "msg": …, "data": …}``; almost every error
arrives as HTTP 200 with a non-``"0"`` code, and order calls carry a code per item. All
numbers arrive as strings with up to 18 decimals and are parsed exactly (``Decimal``);
``""`` and ``null`` mean missing. Anything that does not have the documented shape raises
:class:`VenueAnswerMalformed` naming the venue, the endpoint and the field: a half-read
answer is never used. Prices must be positive and finite; sizes finite and not negative.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from engine.common.times import plausible_time
from engine.ports import (
    VenueAnswerMalformed,
    VenueError,
    VenueFatal,
    VenueRejected,
    VenueRetryable,
)

VENUE = "blofin"
SUCCESS = "0"
#: Body codes (reference §2.4, [B-DOC] errors.md) → what the caller may do.
RETRYABLE_CODES = frozenset({"429", "408", "152405", "152407"})
NONCE_OR_CLOCK_CODES = frozenset({"152405", "152407"})  # re-signed with a fresh timestamp and nonce
FATAL_CODES = frozenset(
    {"401", "152401", "152402", "152404", "152406", "152408", "152409", "152410", "152011", "152013"}
)
DUPLICATE_CLIENT_ORDER_ID = "102002"
CANCEL_FAILED = "102068"  # already filled, cancelled or unknown: reconcile, do not retry
BATCH_CODES = frozenset({"1", "2"})  # all / some items failed: the per-item codes say which


def error_class(code: str) -> type[VenueError]:
    """The port error for a non-zero body code: retryable, fatal (keys, permissions, a signing
    bug) or rejected (everything the venue refused on its merits, and codes not documented)."""
    if code in RETRYABLE_CODES or (code.isdigit() and len(code) == 3 and code.startswith("5")):
        return VenueRetryable
    if code in FATAL_CODES:
        return VenueFatal
    return VenueRejected


def error_for(code: str, msg: str, endpoint: str) -> VenueError:
    cls = error_class(code)
    return cls(f"blofin {endpoint}: code {code}: {msg or 'no message'}", venue=VENUE, endpoint=endpoint, status=200)


def malformed(endpoint: str, why: str) -> VenueAnswerMalformed:
    return VenueAnswerMalformed(f"blofin {endpoint}: {why}", venue=VENUE, endpoint=endpoint)


# ------------------------------------------------------------------ scalars


def decimal_or_none(value: Any, endpoint: str, field: str) -> Decimal | None:
    """A number sent as a string (or a JSON number); ``""``/``null`` are missing."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise malformed(endpoint, f"{field} is {type(value).__name__}, not a number")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise malformed(endpoint, f"{field} {str(value)[:40]!r} is not a number") from None
    if not number.is_finite():
        raise malformed(endpoint, f"{field} is not finite")
    return number


def decimal(value: Any, endpoint: str, field: str) -> Decimal:
    number = decimal_or_none(value, endpoint, field)
    if number is None:
        raise malformed(endpoint, f"{field} is missing")
    return number


def price(value: Any, endpoint: str, field: str) -> Decimal:
    number = decimal(value, endpoint, field)
    if number <= 0:
        raise malformed(endpoint, f"{field} {number} is not a positive price")
    return number


def price_or_none(value: Any, endpoint: str, field: str) -> Decimal | None:
    number = decimal_or_none(value, endpoint, field)
    if number is not None and number <= 0:
        return None  # BloFin writes 0 for "no average price yet"
    return number


def size(value: Any, endpoint: str, field: str) -> Decimal:
    number = decimal(value, endpoint, field)
    if number < 0:
        raise malformed(endpoint, f"{field} {number} is negative")
    return number


def millis(value: Any, endpoint: str, field: str) -> float:
    """A millisecond timestamp (string or number) as epoch seconds, inside rulebot's time range."""
    number = decimal(value, endpoint, field)
    seconds = float(number) / 1000.0
    if not plausible_time(seconds):
        raise malformed(endpoint, f"{field} {number} is not a millisecond time from 2009 to 2100")
    return seconds


def text(row: Mapping[str, Any], key: str, endpoint: str) -> str:
    value = row.get(key)
    if not isinstance(value, str) or not value:
        raise malformed(endpoint, f"{key} is missing or not text")
    return value


def optional_text(row: Mapping[str, Any], key: str) -> str:
    value = row.get(key)
    return value if isinstance(value, str) else ""


def flag(value: Any) -> bool:
    """``"true"``/``"false"`` strings (observed) or JSON booleans."""
    return value is True or (isinstance(value, str) and value.lower() == "true")


# ------------------------------------------------------------------ envelope


@dataclass(frozen=True, slots=True)
class Envelope:
    code: str
    msg: str
    data: Any


def envelope(payload: Any, endpoint: str, accept: frozenset[str] = frozenset()) -> Envelope:
    """The checked envelope: ``code == "0"`` (or one of ``accept``, which the caller handles
    itself), else the mapped port error carrying the venue's code and message."""
    if not isinstance(payload, dict):
        raise malformed(endpoint, f"the answer is {type(payload).__name__}, not an object")
    raw_code = payload.get("code")
    if isinstance(raw_code, bool) or not isinstance(raw_code, str | int):
        raise malformed(endpoint, "the answer has no code")
    code, msg = str(raw_code), payload.get("msg")
    msg = msg if isinstance(msg, str) else ""
    if code != SUCCESS and code not in accept:
        raise error_for(code, msg, endpoint)
    if code == SUCCESS and "data" not in payload:
        raise malformed(endpoint, "the answer has no data")
    return Envelope(code, msg, payload.get("data"))


def rows(data: Any, endpoint: str) -> list[Mapping[str, Any]]:
    """``data`` as a list of objects (an object alone counts as one row)."""
    if isinstance(data, dict):
        return [data]
    if not isinstance(data, list):
        raise malformed(endpoint, f"data is {type(data).__name__}, not a list")
    for index, row in enumerate(data):
        if not isinstance(row, dict):
            raise malformed(endpoint, f"data[{index}] is {type(row).__name__}, not an object")
    return data


# ------------------------------------------------------------------ market data


@dataclass(frozen=True, slots=True)
class VenueInstrument:
    inst_id: str
    contract_value: Decimal  # base units per contract
    lot_size: Decimal  # contracts
    tick_size: Decimal
    min_size: Decimal  # contracts
    max_leverage: Decimal
    live: bool


def instruments(data: Any, endpoint: str) -> list[VenueInstrument]:
    found = []
    for row in rows(data, endpoint):
        inst_id = text(row, "instId", endpoint)
        where = f"{inst_id} "
        found.append(
            VenueInstrument(
                inst_id=inst_id,
                contract_value=price(row.get("contractValue"), endpoint, where + "contractValue"),
                lot_size=price(row.get("lotSize"), endpoint, where + "lotSize"),
                tick_size=price(row.get("tickSize"), endpoint, where + "tickSize"),
                min_size=price(row.get("minSize"), endpoint, where + "minSize"),
                max_leverage=price(row.get("maxLeverage"), endpoint, where + "maxLeverage"),
                live=optional_text(row, "state") in ("", "live"),
            )
        )
    return found


@dataclass(frozen=True, slots=True)
class WireTicker:
    inst_id: str
    last: Decimal
    bid: Decimal | None
    ask: Decimal | None
    ts: float


def ticker(data: Any, endpoint: str, inst_id: str) -> WireTicker:
    row = _row_for(data, endpoint, inst_id)
    return WireTicker(
        inst_id=inst_id,
        last=price(row.get("last"), endpoint, "last"),
        bid=price_or_none(row.get("bidPrice"), endpoint, "bidPrice"),
        ask=price_or_none(row.get("askPrice"), endpoint, "askPrice"),
        ts=millis(row.get("ts"), endpoint, "ts"),
    )


def mark_price(data: Any, endpoint: str, inst_id: str) -> Decimal:
    return price(_row_for(data, endpoint, inst_id).get("markPrice"), endpoint, "markPrice")


def _row_for(data: Any, endpoint: str, inst_id: str) -> Mapping[str, Any]:
    for row in rows(data, endpoint):
        if str(row.get("instId", "")).upper() == inst_id.upper():
            return row
    raise malformed(endpoint, f"no row for {inst_id}")


Level = tuple[Decimal, Decimal]


@dataclass(frozen=True, slots=True)
class WireBook:
    bids: tuple[Level, ...]  # (price, contracts), best first
    asks: tuple[Level, ...]


def book(data: Any, endpoint: str) -> WireBook:
    found = rows(data, endpoint)
    if not found:
        raise malformed(endpoint, "no book in the answer")
    row = found[0]
    bids = _levels(row.get("bids"), endpoint, "bids")
    asks = _levels(row.get("asks"), endpoint, "asks")
    if bids and asks and bids[0][0] >= asks[0][0]:
        raise malformed(endpoint, f"crossed book: best bid {bids[0][0]} >= best ask {asks[0][0]}")
    return WireBook(tuple(sorted(bids, key=lambda lv: -lv[0])), tuple(sorted(asks, key=lambda lv: lv[0])))


def _levels(raw: Any, endpoint: str, side: str) -> list[Level]:
    if not isinstance(raw, list):
        raise malformed(endpoint, f"{side} is not a list")
    levels = []
    for index, level in enumerate(raw):
        if not isinstance(level, list) or len(level) < 2:
            raise malformed(endpoint, f"{side}[{index}] is not [price, size]")
        levels.append(
            (price(level[0], endpoint, f"{side}[{index}] price"), size(level[1], endpoint, f"{side}[{index}] size"))
        )
    return levels


@dataclass(frozen=True, slots=True)
class WireCandle:
    ts: float  # open time, epoch seconds
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal  # base units (volCurrency)
    closed: bool


def candles(data: Any, endpoint: str) -> list[WireCandle]:
    """Rows ``[ts, o, h, l, c, vol, volCurrency, volCurrencyQuote, confirm]``, newest first."""
    if not isinstance(data, list):
        raise malformed(endpoint, f"data is {type(data).__name__}, not a list")
    found = []
    for index, row in enumerate(data):
        if not isinstance(row, list) or len(row) < 7:
            raise malformed(endpoint, f"candle {index} is not [ts, o, h, l, c, vol, volCurrency, …]")
        where = f"candle {index} "
        o, h, lo, c = (
            price(row[i], endpoint, where + name) for i, name in enumerate(("open", "high", "low", "close"), 1)
        )
        if not (lo <= min(o, c) and h >= max(o, c)):
            raise malformed(endpoint, f"{where}has low {lo} / high {h} outside open {o} / close {c}")
        found.append(
            WireCandle(
                ts=millis(row[0], endpoint, where + "ts"),
                open=o,
                high=h,
                low=lo,
                close=c,
                volume=size(row[6], endpoint, where + "volCurrency"),
                closed=len(row) < 9 or str(row[8]) != "0",
            )
        )
    return found


def funding_rate(data: Any, endpoint: str, inst_id: str) -> Decimal | None:
    return decimal_or_none(_row_for(data, endpoint, inst_id).get("fundingRate"), endpoint, "fundingRate")


# ------------------------------------------------------------------ account


@dataclass(frozen=True, slots=True)
class WirePosition:
    inst_id: str
    contracts: Decimal  # signed: + long, − short
    average_price: Decimal
    leverage: Decimal
    liquidation_price: Decimal | None


def positions(data: Any, endpoint: str) -> list[WirePosition]:
    found = []
    for row in rows(data, endpoint):
        inst_id = text(row, "instId", endpoint)
        contracts = decimal(row.get("positions"), endpoint, f"{inst_id} positions")
        if contracts == 0:
            continue
        if optional_text(row, "positionSide") == "short" and contracts > 0:
            contracts = -contracts  # hedge mode reports a short as a positive quantity
        found.append(
            WirePosition(
                inst_id=inst_id,
                contracts=contracts,
                average_price=price(row.get("averagePrice"), endpoint, f"{inst_id} averagePrice"),
                leverage=decimal_or_none(row.get("leverage"), endpoint, f"{inst_id} leverage") or Decimal(1),
                liquidation_price=price_or_none(row.get("liquidationPrice"), endpoint, f"{inst_id} liquidationPrice"),
            )
        )
    return found


@dataclass(frozen=True, slots=True)
class WireBalance:
    cash: Decimal
    equity: Decimal
    available: Decimal


def balance(data: Any, endpoint: str, currency: str = "USDT") -> WireBalance:
    if not isinstance(data, dict):
        raise malformed(endpoint, "data is not an object")
    details = data.get("details")
    if not isinstance(details, list):
        raise malformed(endpoint, "details is not a list")
    for row in rows(details, endpoint):
        if row.get("currency") == currency:
            return WireBalance(
                cash=decimal(row.get("balance"), endpoint, f"{currency} balance"),
                equity=decimal(row.get("equity"), endpoint, f"{currency} equity"),
                available=decimal(row.get("available"), endpoint, f"{currency} available"),
            )
    # details lists only currencies with a non-zero balance: none means an empty account
    return WireBalance(Decimal(0), Decimal(0), Decimal(0))


# ------------------------------------------------------------------ orders and fills

REGULAR, TPSL = "regular", "tpsl"


@dataclass(frozen=True, slots=True)
class WireOrder:
    kind: str  # regular | tpsl
    order_id: str  # orderId, or tpslId for a TP/SL order
    client_order_id: str  # as sent to BloFin (may be empty)
    inst_id: str
    side: str
    order_type: str  # market | limit | … | stop | take_profit
    price: Decimal | None  # limit price, or the trigger price of a TP/SL
    size: Decimal | None  # contracts; None for a TP/SL on the entire position (-1)
    filled: Decimal
    state: str
    reduce_only: bool
    created_at: float
    reason: str = ""


def orders(data: Any, endpoint: str) -> list[WireOrder]:
    """Rows of orders-pending and orders-history."""
    found = []
    for row in rows(data, endpoint):
        order_id = text(row, "orderId", endpoint)
        where = f"order {order_id} "
        found.append(
            WireOrder(
                kind=REGULAR,
                order_id=order_id,
                client_order_id=optional_text(row, "clientOrderId"),
                inst_id=text(row, "instId", endpoint),
                side=_side(row, endpoint),
                order_type=optional_text(row, "orderType") or "limit",
                price=price_or_none(row.get("price"), endpoint, where + "price"),
                size=size(row.get("size"), endpoint, where + "size"),
                filled=size(row.get("filledSize") or "0", endpoint, where + "filledSize"),
                state=text(row, "state", endpoint),
                reduce_only=flag(row.get("reduceOnly")),
                created_at=_created(row, endpoint, where),
                reason=optional_text(row, "cancelSourceReason"),
            )
        )
    return found


def tpsl_orders(data: Any, endpoint: str) -> list[WireOrder]:
    """Rows of orders-tpsl-pending and orders-tpsl-history: a stop when it has an SL trigger."""
    found = []
    for row in rows(data, endpoint):
        tpsl_id = text(row, "tpslId", endpoint)
        where = f"tpsl {tpsl_id} "
        stop = price_or_none(row.get("slTriggerPrice"), endpoint, where + "slTriggerPrice")
        take = price_or_none(row.get("tpTriggerPrice"), endpoint, where + "tpTriggerPrice")
        raw_size = decimal_or_none(row.get("size"), endpoint, where + "size")
        state = text(row, "state", endpoint)
        actual = decimal_or_none(row.get("actualSize"), endpoint, where + "actualSize")
        found.append(
            WireOrder(
                kind=TPSL,
                order_id=tpsl_id,
                client_order_id=optional_text(row, "clientOrderId"),
                inst_id=text(row, "instId", endpoint),
                side=_side(row, endpoint),
                order_type="stop" if stop is not None else "take_profit",
                price=stop if stop is not None else take,
                size=raw_size if raw_size is not None and raw_size > 0 else None,
                filled=(actual or raw_size or Decimal(0)) if state == "effective" else Decimal(0),
                state=state,
                reduce_only=flag(row.get("reduceOnly")),
                created_at=_created(row, endpoint, where),
            )
        )
    return found


def _side(row: Mapping[str, Any], endpoint: str) -> str:
    side = row.get("side")
    if side not in ("buy", "sell"):
        raise malformed(endpoint, f"side {side!r} is neither buy nor sell")
    return str(side)


def _created(row: Mapping[str, Any], endpoint: str, where: str) -> float:
    value = row.get("createTime")
    return 0.0 if value in (None, "") else millis(value, endpoint, where + "createTime")


@dataclass(frozen=True, slots=True)
class WireFill:
    trade_id: str
    order_id: str
    inst_id: str
    side: str
    price: Decimal
    contracts: Decimal
    fee: Decimal  # positive = paid (the documented example charges a positive fee)
    ts: float


def fills(data: Any, endpoint: str) -> list[WireFill]:
    found = []
    for row in rows(data, endpoint):
        trade_id = text(row, "tradeId", endpoint)
        where = f"trade {trade_id} "
        found.append(
            WireFill(
                trade_id=trade_id,
                order_id=text(row, "orderId", endpoint),
                inst_id=text(row, "instId", endpoint),
                side=_side(row, endpoint),
                price=price(row.get("fillPrice"), endpoint, where + "fillPrice"),
                contracts=size(row.get("fillSize"), endpoint, where + "fillSize"),
                fee=decimal_or_none(row.get("fee"), endpoint, where + "fee") or Decimal(0),
                ts=millis(row.get("ts"), endpoint, where + "ts"),
            )
        )
    return found


@dataclass(frozen=True, slots=True)
class ItemResult:
    """One item of an order call's answer: ``code == "0"`` means this order was taken."""

    order_id: str
    client_order_id: str
    code: str
    msg: str

    @property
    def ok(self) -> bool:
        return self.code == SUCCESS


def item_results(data: Any, endpoint: str, id_field: str = "orderId") -> list[ItemResult]:
    """Per-item results of place-order (a list), order-tpsl and cancel (an object). An item
    without a code succeeded when the envelope did (the batch example omits it)."""
    found = []
    for row in rows(data, endpoint):
        code = row.get("code")
        found.append(
            ItemResult(
                order_id=str(row.get(id_field) or ""),
                client_order_id=optional_text(row, "clientOrderId"),
                code=SUCCESS if code in (None, "") else str(code),
                msg=optional_text(row, "msg"),
            )
        )
    if not found:
        raise malformed(endpoint, "the answer has no result item")
    return found
