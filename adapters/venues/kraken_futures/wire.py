"""Kraken Futures answers parsed at the edge into frozen records (reference/exchanges.md
§1.4–1.10). Numbers arrive as JSON numbers or strings (both occur): each is read exactly
with ``Decimal(str(x))``; ``""`` and ``null`` are missing. Symbols are compared upper case
(Kraken sends ``pf_xbtusd`` and ``PF_XBTUSD``). Anything that does not fit the published
shape, and finite but impossible values (a price of 0, a negative size), raise
:class:`VenueAnswerMalformed` naming the venue, the endpoint and the field: an answer is
never half-used.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from engine.ports import CANCELLED, FILLED, LIMIT, MARKET, OPEN, REJECTED, STOP, TAKE_PROFIT, VenueAnswerMalformed

logger = logging.getLogger(__name__)

#: sendStatus.status values that mean the venue took the order (§1.5).
ACCEPTED = {"placed": OPEN, "partiallyFilled": OPEN, "edited": OPEN, "filled": FILLED, "cancelled": CANCELLED}
#: Order-type outcomes: not an error, the order simply did not rest (§1.5).
NOT_EXECUTED = frozenset({"iocWouldNotExecute", "postWouldExecute"})
#: Venue states: try again later.
MARKET_CLOSED = frozenset({"marketSuspended", "marketInactive", "marketIsPostOnly"})
DUPLICATE = "clientOrderIdAlreadyExist"
ORDER_TYPES = {
    "mkt": MARKET,
    "lmt": LIMIT,
    "post": LIMIT,
    "ioc": LIMIT,
    "fok": LIMIT,
    "limit": LIMIT,
    "stp": STOP,
    "stop": STOP,
    "take_profit": TAKE_PROFIT,
    "takeprofit": TAKE_PROFIT,
}
#: orders/status ``status`` values.
STATUS_STATES = {
    "ENTERED_BOOK": OPEN,
    "TRIGGER_PLACED": OPEN,
    "TRIGGER_ACTIVATING": OPEN,
    "FULLY_EXECUTED": FILLED,
    "CANCELLED": CANCELLED,
    "REJECTED": REJECTED,
}


@dataclass(frozen=True, slots=True)
class At:
    """Where an answer came from, for the message of a malformed one."""

    venue: str
    endpoint: str

    def bad(self, why: str) -> VenueAnswerMalformed:
        return VenueAnswerMalformed(f"{self.venue} {self.endpoint}: {why}", venue=self.venue, endpoint=self.endpoint)


# ---------------------------------------------------------------------- scalars


def number(row: Mapping[str, Any], name: str, at: At, *, required: bool = True) -> Decimal | None:
    """``row[name]`` read exactly; None when missing and not required."""
    value = row.get(name)
    if value is None or value == "":
        if required:
            raise at.bad(f"field {name!r} is missing")
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise at.bad(f"field {name!r} is not a number: {str(value)[:40]!r}")
    try:
        result = Decimal(str(value).strip())
    except InvalidOperation:
        raise at.bad(f"field {name!r} is not a number: {str(value)[:40]!r}") from None
    if not result.is_finite():
        raise at.bad(f"field {name!r} is not finite: {value!r}")
    return result


def need(row: Mapping[str, Any], name: str, at: At) -> Decimal:
    value = number(row, name, at)
    assert value is not None
    return value


def positive(row: Mapping[str, Any], name: str, at: At, *, required: bool = True) -> Decimal | None:
    """A price or step: present values must be above zero."""
    value = number(row, name, at, required=required)
    if value is not None and value <= 0:
        raise at.bad(f"field {name!r} must be above zero, not {value}")
    return value


def size(row: Mapping[str, Any], name: str, at: At, *, required: bool = True) -> Decimal | None:
    """A size: present values must not be negative."""
    value = number(row, name, at, required=required)
    if value is not None and value < 0:
        raise at.bad(f"field {name!r} must not be negative, not {value}")
    return value


def word(row: Mapping[str, Any], name: str, at: At, *, required: bool = True) -> str:
    value = row.get(name)
    if value is None or value == "":
        if required:
            raise at.bad(f"field {name!r} is missing")
        return ""
    if not isinstance(value, str):
        raise at.bad(f"field {name!r} is not text: {str(value)[:40]!r}")
    return value


def timestamp(value: Any, at: At, name: str) -> float:
    """Epoch seconds from an ISO 8601 time or epoch milliseconds."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value) / 1000.0
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            pass
    raise at.bad(f"field {name!r} is not a time: {str(value)[:40]!r}")


def side(row: Mapping[str, Any], name: str, at: At) -> str:
    value = word(row, name, at).lower()
    if value not in ("buy", "sell"):
        raise at.bad(f"field {name!r} is not buy or sell: {value[:20]!r}")
    return value


def listed(data: Any, key: str, at: At) -> list[Mapping[str, Any]]:
    """``data[key]`` as a list of objects; its absence is malformed, never "empty"."""
    if not isinstance(data, Mapping) or not isinstance(data.get(key), list):
        raise at.bad(f"the answer has no {key!r} list")
    rows = data[key]
    if not all(isinstance(r, Mapping) for r in rows):
        raise at.bad(f"{key!r} holds something that is not an object")
    return rows


def obj(data: Any, key: str, at: At) -> Mapping[str, Any]:
    if not isinstance(data, Mapping) or not isinstance(data.get(key), Mapping):
        raise at.bad(f"the answer has no {key!r} object")
    return data[key]


# ---------------------------------------------------------------------- market data


@dataclass(frozen=True, slots=True)
class WireInstrument:
    symbol: str  # upper case
    kind: str  # flexible_futures | futures_inverse | ...
    tradeable: bool
    tick_size: Decimal
    size_step: Decimal  # 10^-contractValueTradePrecision, in contracts
    contract_size: Decimal
    max_leverage: Decimal | None  # 1 / the first margin tier's initialMargin


def instruments(data: Any, at: At) -> tuple[WireInstrument, ...]:
    result = []
    for row in listed(data, "instruments", at):
        symbol = word(row, "symbol", at).upper()
        where = At(at.venue, f"{at.endpoint} {symbol}")
        precision = number(row, "contractValueTradePrecision", where, required=False)
        if precision is not None and precision != precision.to_integral_value():
            raise where.bad(f"contractValueTradePrecision is not a whole number: {precision}")
        tick = positive(row, "tickSize", where, required=False)
        if tick is None or precision is None:  # index rows and spot entries carry no contract spec
            continue
        result.append(
            WireInstrument(
                symbol=symbol,
                kind=str(row.get("type", "")),
                tradeable=bool(row.get("tradeable", True)),
                tick_size=tick,
                size_step=Decimal(1).scaleb(-int(precision)),
                contract_size=positive(row, "contractSize", where, required=False) or Decimal(1),
                max_leverage=_max_leverage(row, where),
            )
        )
    return tuple(result)


def _max_leverage(row: Mapping[str, Any], at: At) -> Decimal | None:
    levels = row.get("marginLevels") or row.get("retailMarginLevels")
    if not isinstance(levels, list) or not levels or not isinstance(levels[0], Mapping):
        return None
    initial = positive(levels[0], "initialMargin", at)
    assert initial is not None
    return 1 / initial


@dataclass(frozen=True, slots=True)
class WireTicker:
    symbol: str
    last: Decimal | None
    mark: Decimal | None
    bid: Decimal | None
    ask: Decimal | None
    funding_rate: Decimal | None  # absolute: quote per unit of base, per hour (§1.8)
    open_interest: Decimal | None  # contracts
    suspended: bool
    ts: float | None


def ticker(row: Mapping[str, Any], at: At) -> WireTicker:
    symbol = word(row, "symbol", at).upper()
    lasttime = row.get("lastTime")
    return WireTicker(
        symbol=symbol,
        last=positive(row, "last", at, required=False),
        mark=positive(row, "markPrice", at, required=False),
        bid=positive(row, "bid", at, required=False),
        ask=positive(row, "ask", at, required=False),
        funding_rate=number(row, "fundingRate", at, required=False),
        open_interest=size(row, "openInterest", at, required=False),
        suspended=bool(row.get("suspended", False)),
        ts=timestamp(lasttime, at, "lastTime") if lasttime else None,
    )


def one_ticker(data: Any, at: At) -> WireTicker:
    return ticker(obj(data, "ticker", at), at)


Level = tuple[Decimal, Decimal]


def order_book(data: Any, at: At) -> tuple[tuple[Level, ...], tuple[Level, ...]]:
    """(bids best first, asks best first)."""
    book = obj(data, "orderBook", at)
    bids = _levels(book, "bids", at, descending=True)
    asks = _levels(book, "asks", at, descending=False)
    if bids and asks and bids[0][0] >= asks[0][0]:
        raise at.bad(f"the book is crossed: best bid {bids[0][0]} ≥ best ask {asks[0][0]}")
    return bids, asks


def _levels(book: Mapping[str, Any], key: str, at: At, *, descending: bool) -> tuple[Level, ...]:
    rows = book.get(key)
    if not isinstance(rows, list):
        raise at.bad(f"the book has no {key!r} list")
    levels = []
    for i, pair in enumerate(rows):
        if not isinstance(pair, list) or len(pair) < 2:
            raise at.bad(f"{key}[{i}] is not a [price, size] pair")
        level = positive({"price": pair[0]}, "price", at), size({"size": pair[1]}, "size", at)
        levels.append((level[0], level[1]))
    return tuple(sorted(levels, key=lambda lv: lv[0], reverse=descending))  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class WireCandle:
    ts: float
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal


def candles(data: Any, at: At) -> tuple[tuple[WireCandle, ...], bool]:
    """The candles of one page and whether more follow (``more_candles``)."""
    result = []
    for row in listed(data, "candles", at):
        values = {name: positive(row, name, at) for name in ("open", "high", "low", "close")}
        high, low = values["high"], values["low"]
        assert high is not None and low is not None
        if high < low or not all(low <= v <= high for v in values.values() if v is not None):
            raise at.bad(f"a candle's high/low do not bound its open/close: {dict(row)}"[:200])
        result.append(
            WireCandle(
                ts=timestamp(row.get("time"), at, "time"),
                open=values["open"] or Decimal(0),
                high=high,
                low=low,
                close=values["close"] or Decimal(0),
                volume=size(row, "volume", at) or Decimal(0),
            )
        )
    return tuple(result), bool(data.get("more_candles", False))


# ---------------------------------------------------------------------- orders


@dataclass(frozen=True, slots=True)
class WireOrder:
    order_id: str
    cli_ord_id: str
    symbol: str
    side: str
    order_type: str  # the port's: market | limit | stop | take_profit
    quantity: Decimal  # contracts
    filled: Decimal
    limit_price: Decimal | None
    status: str  # the port's: open | filled | cancelled | rejected
    reduce_only: bool
    ts: float


@dataclass(frozen=True, slots=True)
class SendStatus:
    """What ``sendorder`` answered: the venue's status word and what it says was filled."""

    status: str
    order_id: str
    filled: Decimal
    reason: str


def send_status(data: Any, at: At) -> SendStatus:
    status_row = obj(data, "sendStatus", at)
    status = word(status_row, "status", at)
    filled = Decimal(0)
    events = status_row.get("orderEvents") or []
    if not isinstance(events, list):
        raise at.bad("sendStatus.orderEvents is not a list")
    for event in events:
        if isinstance(event, Mapping) and event.get("type") == "EXECUTION":
            filled += size(event, "amount", at) or Decimal(0)
    reasons = [str(e.get("reason", "")) for e in events if isinstance(e, Mapping) and e.get("type") == "REJECT"]
    return SendStatus(
        status=status,
        order_id=str(status_row.get("order_id") or ""),
        filled=filled,
        reason=next((r for r in reasons if r), status),
    )


def cancel_status(data: Any, at: At) -> tuple[str, str]:
    """(``cancelStatus.status``: cancelled | filled | notFound, the venue order id)."""
    row = obj(data, "cancelStatus", at)
    return word(row, "status", at), str(row.get("order_id") or "")


def open_orders(data: Any, at: At) -> tuple[WireOrder, ...]:
    result = []
    for row in listed(data, "openOrders", at):
        filled = size(row, "filledSize", at, required=False) or Decimal(0)
        unfilled = size(row, "unfilledSize", at, required=False) or Decimal(0)
        result.append(
            WireOrder(
                order_id=word(row, "order_id", at),
                cli_ord_id=str(row.get("cliOrdId") or ""),
                symbol=word(row, "symbol", at).upper(),
                side=side(row, "side", at),
                order_type=ORDER_TYPES.get(str(row.get("orderType", "")).lower(), LIMIT),
                quantity=filled + unfilled,
                filled=filled,
                limit_price=positive(row, "limitPrice", at, required=False),
                status=OPEN,
                reduce_only=bool(row.get("reduceOnly", False)),
                ts=timestamp(row.get("receivedTime"), at, "receivedTime") if row.get("receivedTime") else 0.0,
            )
        )
    return tuple(result)


def order_statuses(data: Any, at: At) -> tuple[WireOrder, ...]:
    """``orders/status``: orders open, or closed within the last few seconds."""
    result = []
    for entry in listed(data, "orders", at):
        order = obj(entry, "order", at)
        status = STATUS_STATES.get(str(entry.get("status", "")))
        if status is None:
            raise at.bad(f"unknown order status {str(entry.get('status'))[:30]!r}")
        kind = str(order.get("orderType") or order.get("type") or "").lower()
        triggered = isinstance(order.get("priceTriggerOptions"), Mapping) or kind == "trigger_order"
        result.append(
            WireOrder(
                order_id=word(order, "orderId", at),
                cli_ord_id=str(order.get("cliOrdId") or ""),
                symbol=word(order, "symbol", at).upper(),
                side=side(order, "side", at),
                order_type=ORDER_TYPES.get(kind, STOP if triggered else LIMIT),
                quantity=size(order, "quantity", at) or Decimal(0),
                filled=size(order, "filled", at, required=False) or Decimal(0),
                limit_price=positive(order, "limitPrice", at, required=False),
                status=status,
                reduce_only=bool(order.get("reduceOnly", False)),
                ts=timestamp(order.get("timestamp"), at, "timestamp") if order.get("timestamp") else 0.0,
            )
        )
    return tuple(result)


# ---------------------------------------------------------------------- account


@dataclass(frozen=True, slots=True)
class WirePosition:
    symbol: str
    signed_size: Decimal  # contracts, + long, − short
    price: Decimal
    max_fixed_leverage: Decimal | None  # present: isolated margin


def positions(data: Any, at: At) -> tuple[WirePosition, ...]:
    """Open positions; an answer without the list is "unknown", never "flat" (§1.7)."""
    result = []
    for row in listed(data, "openPositions", at):
        direction = word(row, "side", at).lower()
        if direction not in ("long", "short"):
            raise at.bad(f"position side is not long or short: {direction[:20]!r}")
        amount = size(row, "size", at) or Decimal(0)
        result.append(
            WirePosition(
                symbol=word(row, "symbol", at).upper(),
                signed_size=amount if direction == "long" else -amount,
                price=positive(row, "price", at) or Decimal(0),
                max_fixed_leverage=positive(row, "maxFixedLeverage", at, required=False),
            )
        )
    return tuple(result)


@dataclass(frozen=True, slots=True)
class WireBalance:
    balance_value: Decimal  # USD, collateral without unrealised P&L
    portfolio_value: Decimal  # USD, with it
    available_margin: Decimal


def flex_balance(data: Any, at: At) -> WireBalance:
    """The multi-collateral (``flex``) account that margins the PF_ contracts."""
    flex = obj(obj(data, "accounts", at), "flex", At(at.venue, f"{at.endpoint} accounts"))
    return WireBalance(
        balance_value=need(flex, "balanceValue", at),
        portfolio_value=need(flex, "portfolioValue", at),
        available_margin=need(flex, "availableMargin", at),
    )


@dataclass(frozen=True, slots=True)
class WireFill:
    fill_id: str
    symbol: str
    side: str
    order_id: str
    cli_ord_id: str
    size: Decimal  # contracts
    price: Decimal
    ts: float
    fill_type: str  # maker | taker | liquidation | ...


def fills(data: Any, at: At) -> tuple[WireFill, ...]:
    result = []
    for row in listed(data, "fills", at):
        result.append(
            WireFill(
                fill_id=word(row, "fill_id", at),
                symbol=word(row, "symbol", at).upper(),
                side=side(row, "side", at),
                order_id=str(row.get("order_id") or ""),
                cli_ord_id=str(row.get("cliOrdId") or ""),
                size=positive(row, "size", at) or Decimal(0),
                price=positive(row, "price", at) or Decimal(0),
                ts=timestamp(row.get("fillTime"), at, "fillTime"),
                fill_type=str(row.get("fillType", "")),
            )
        )
    return tuple(result)


@dataclass(frozen=True, slots=True)
class WireFunding:
    entry_id: str
    symbol: str
    amount: Decimal  # quote currency, + received
    rate: Decimal | None  # absolute, as logged
    mark_price: Decimal | None
    ts: float


FUNDING_INFO = "funding rate change"


def funding_log(data: Any, at: At) -> tuple[tuple[WireFunding, ...], int | None]:
    """The funding entries of one account-log page (``info == "funding rate change"``) and
    the page's highest entry id (None for an empty page), to page on with ``from``.

    Shape from krakenfx/api-specs ``futures-rest/history/_schemas.yml`` ``AccountLogEntry``
    (``id`` integer, ``date`` RFC 3339, ``contract`` string or null, ``realized_funding`` /
    ``funding_rate`` / ``mark_price`` number or null); no live answer was available to confirm
    it, so numbers are also accepted as strings and entries without a contract or an amount
    are skipped with a warning rather than failing the whole page."""
    result, last_id = [], None
    for row in listed(data, "logs", at):
        entry_id = row.get("id")
        if isinstance(entry_id, int) and not isinstance(entry_id, bool):
            last_id = entry_id if last_id is None else max(last_id, entry_id)
        if str(row.get("info", "")).lower() != FUNDING_INFO:
            continue
        amount = number(row, "realized_funding", at, required=False)
        contract = row.get("contract")
        if amount is None or not isinstance(contract, str) or not contract:
            logger.warning(
                "%s %s: funding entry %s without a contract or an amount skipped", at.venue, at.endpoint, entry_id
            )
            continue
        result.append(
            WireFunding(
                entry_id=str(entry_id if entry_id is not None else row.get("booking_uid") or ""),
                symbol=contract.upper(),
                amount=amount,
                rate=number(row, "funding_rate", at, required=False),
                mark_price=positive(row, "mark_price", at, required=False),
                ts=timestamp(row.get("date"), at, "date"),
            )
        )
    return tuple(result), last_id


def log_size(data: Any) -> int:
    """How many entries an account-log page held (all kinds)."""
    logs = data.get("logs") if isinstance(data, Mapping) else None
    return len(logs) if isinstance(logs, list) else 0


def symbols_of(rows: Sequence[WireInstrument]) -> set[str]:
    return {r.symbol for r in rows}
