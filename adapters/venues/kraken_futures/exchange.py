"""The Kraken Futures client: rulebot's ``ExchangePort`` and ``MarketDataPort`` over the
linear ``PF_`` perpetuals (sizes in base units on both sides; specs from ``/instruments``).

An order is never sent twice. Every order carries the engine's client order id as
``cliOrdId`` and a ``processBefore`` deadline, after which Kraken refuses to act on it. When
its answer is lost (timeout, 5xx, an unreadable answer) it is looked up by ``cliOrdId``
(``orders/status``, then ``fills``); found, its state is returned; not found, the call raises
:class:`OrderOutcomeUnknown`, and a repeated ``place_order`` looks it up again and only sends
it afresh once the deadline has passed (and a duplicate ``cliOrdId`` is answered with the
existing order). ``sendStatus`` is read on every order answer: ``result: "success"`` alone
does not mean the order was accepted (reference/exchanges.md §1.5).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from adapters.venues.kraken_futures import wire
from adapters.venues.kraken_futures.config import KrakenConfig
from adapters.venues.kraken_futures.http import HISTORY_POOL, KrakenHttp
from adapters.venues.kraken_futures.instruments import InstrumentBook, plain
from adapters.venues.kraken_futures.wire import At, WireOrder
from engine.market.snapshot import Book, Candle
from engine.ports import (
    BUY,
    CANCELLED,
    FILLED,
    LIMIT,
    MARKET,
    OPEN,
    REJECTED,
    SELL,
    STOP,
    TAKE_PROFIT,
    Balance,
    Fill,
    FundingPayment,
    Instrument,
    OrderOutcomeUnknown,
    OrderRequest,
    OrderState,
    Ticker,
    VenueAnswerMalformed,
    VenueError,
    VenuePosition,
    VenueRejected,
    VenueRetryable,
)

logger = logging.getLogger(__name__)

V3 = "/derivatives/api/v3"
INSTRUMENTS = V3 + "/instruments"
TICKERS = V3 + "/tickers"
ORDERBOOK = V3 + "/orderbook"
SENDORDER = V3 + "/sendorder"
CANCELORDER = V3 + "/cancelorder"
OPENORDERS = V3 + "/openorders"
OPENPOSITIONS = V3 + "/openpositions"
ACCOUNTS = V3 + "/accounts"
FILLS = V3 + "/fills"
ORDER_STATUS = V3 + "/orders/status"
ACCOUNT_LOG = "/api/history/v3/account-log"
CHARTS = "/api/charts/v1/trade"

#: Costs on the /derivatives pool (reference §1.13).
ORDER_COST, READ_COST, STATUS_COST, PAGED_FILLS_COST = 10.0, 2.0, 1.0, 25.0
#: Kraken refuses an order that reaches its engine after this (``processBefore``); a lost
#: order is sent afresh only once it has passed, plus a margin for the two clocks' skew.
ORDER_DEADLINE_S = 30.0
SKEW_MARGIN_S = 15.0
TIMEFRAMES = ("1m", "5m", "15m", "30m", "1h", "4h", "12h", "1d", "1w")
MAX_PAGES = 50
#: The account log (history pool, 100 tokens per 10 min) costs 1 to 10 tokens by ``count``
#: (reference §1.13 gives only the range): charged the most, so the pool is never overdrawn.
ACCOUNT_LOG_PAGE, ACCOUNT_LOG_COST = 500, 10.0
FILLS_PAGE = 100
WIRE_TYPES = {MARKET: "mkt", LIMIT: "lmt", STOP: "stp", TAKE_PROFIT: "take_profit"}


@dataclass(frozen=True, slots=True)
class _Sent:
    """An order this client sent: what it asked, until when Kraken could accept it, and
    whether its answer was lost."""

    request: OrderRequest
    deadline: float
    unknown: bool = False
    state: OrderState | None = None


class KrakenFuturesClient:
    """ExchangePort and MarketDataPort for Kraken Futures; build it with ``build``."""

    def __init__(self, config: KrakenConfig, http: KrakenHttp, *, clock: Callable[[], float] = time.time):
        self.config, self.http, self._clock = config, http, clock
        self._book: InstrumentBook | None = None
        self._checked = False
        self._sent: dict[str, _Sent] = {}
        self._by_venue_id: dict[str, str] = {}  # Kraken order id → the engine's client order id

    def __repr__(self) -> str:
        return f"KrakenFuturesClient({self.config.base_url})"

    def close(self) -> None:
        self.http.http.close()

    def _at(self, endpoint: str) -> At:
        return At(self.config.venue_id, endpoint)

    # ================================================================ instruments

    def instrument_book(self) -> InstrumentBook:
        """The venue's contract specs, loaded on first use and cached for the client's life."""
        if self._book is None:
            rows = wire.instruments(self.http.public(INSTRUMENTS), self._at(INSTRUMENTS))
            self._book = InstrumentBook(self.config, rows)
        return self._book

    def check_instruments(self) -> None:
        """Raise InstrumentMismatch naming every difference from rules/venues.yaml."""
        self.instrument_book().check()
        self._checked = True

    def instruments(self) -> Sequence[Instrument]:
        return self.instrument_book().port_instruments()

    # ================================================================ market data

    def _ticker(self, symbol: str) -> wire.WireTicker:
        venue_symbol = self.config.venue_symbol(symbol)
        path = f"{TICKERS}/{venue_symbol}"
        return wire.one_ticker(self.http.public(path), self._at(path))

    def ticker(self, symbol: str) -> Ticker:
        row = self._ticker(symbol)
        last = row.last if row.last is not None else row.mark
        if last is None:
            raise self._at(TICKERS).bad(f"{symbol}: the ticker has neither a last nor a mark price")
        return Ticker(
            symbol=symbol,
            last=float(last),
            mark=_float(row.mark),
            bid=_float(row.bid),
            ask=_float(row.ask),
            ts=row.ts if row.ts is not None else self._clock(),
        )

    def order_book(self, symbol: str, depth: int = 20) -> Book:
        venue_symbol = self.config.venue_symbol(symbol)
        bids, asks = wire.order_book(self.http.public(ORDERBOOK, {"symbol": venue_symbol}), self._at(ORDERBOOK))
        book = self.instrument_book() if self._book is not None else None

        def level(price: Decimal, contracts: Decimal) -> tuple[float, float]:
            return float(price), book.base(venue_symbol, contracts) if book is not None else float(contracts)

        return Book(
            bids=tuple(level(p, s) for p, s in bids[:depth]),
            asks=tuple(level(p, s) for p, s in asks[:depth]),
        )

    def candles(self, symbol: str, timeframe: str, since: float, until: float | None = None) -> Sequence[Candle]:
        """Trade candles from the charts API, paged while ``more_candles`` says so."""
        if timeframe not in TIMEFRAMES:
            raise VenueRejected(
                f"{self.config.venue_id}: no {timeframe!r} candles (one of {', '.join(TIMEFRAMES)})",
                venue=self.config.venue_id,
                endpoint=CHARTS,
            )
        path = f"{CHARTS}/{self.config.venue_symbol(symbol)}/{timeframe}"
        end = int(until if until is not None else self._clock())
        start, result = int(since), dict[float, Candle]()
        for _ in range(MAX_PAGES):
            rows, more = wire.candles(self.http.public(path, {"from": start, "to": end}), self._at(path))
            for row in rows:
                if since <= row.ts <= end:
                    result[row.ts] = Candle(
                        row.ts, float(row.open), float(row.high), float(row.low), float(row.close), float(row.volume)
                    )
            if not more or not rows or int(rows[-1].ts) + 1 <= start:
                break
            start = int(rows[-1].ts) + 1
        return tuple(result[ts] for ts in sorted(result))

    def funding_rate(self, symbol: str) -> float | None:
        """The relative funding rate per hour: Kraken's absolute rate over the mark price (§1.8)."""
        row = self._ticker(symbol)
        if row.funding_rate is None or row.mark is None:
            return None
        return float(row.funding_rate / row.mark)

    def open_interest_usd(self, symbol: str) -> float | None:
        row = self._ticker(symbol)
        if row.open_interest is None or row.mark is None:
            return None
        venue_symbol = self.config.venue_symbol(symbol)
        return self.instrument_book().base(venue_symbol, row.open_interest) * float(row.mark)

    # ================================================================ orders

    def place_order(self, request: OrderRequest) -> OrderState:
        """Send one order (looked up instead when its client order id was sent before)."""
        self._validate(request)
        sent = self._sent.get(request.client_order_id)
        if sent is not None:
            if not sent.unknown and sent.state is not None:
                return self.order(request.client_order_id) or sent.state
            found = self._find(request.client_order_id)
            if found is not None:
                return self._remember(request, found)
            if self._clock() < sent.deadline + SKEW_MARGIN_S:
                raise self._still_unknown(request, sent.deadline)
            logger.warning(
                "%s: order %s was never accepted and can no longer be; sending it again",
                self.config.venue_id,
                request.client_order_id,
            )
        if not self._checked:
            self.check_instruments()
        return self._send(request)

    def _send(self, request: OrderRequest) -> OrderState:
        deadline = self._clock() + ORDER_DEADLINE_S
        params = self._order_params(request, deadline)
        self._sent[request.client_order_id] = _Sent(request, deadline, unknown=True)
        try:
            data = self.http.private("POST", SENDORDER, params, cost=ORDER_COST, idempotent=False)
            answer = wire.send_status(data, self._at(SENDORDER))
        except (OrderOutcomeUnknown, VenueAnswerMalformed) as error:
            logger.warning("%s: %s; looking order %s up", self.config.venue_id, error, request.client_order_id)
            found = self._find(request.client_order_id)
            if found is None:
                raise self._still_unknown(request, deadline) from None
            return self._remember(request, found)
        except VenueError:
            del self._sent[request.client_order_id]  # refused before acting: free to send again
            raise
        return self._answered(request, answer)

    def _answered(self, request: OrderRequest, answer: wire.SendStatus) -> OrderState:
        status = answer.status
        if status in wire.ACCEPTED:
            contracts = self.instrument_book().contracts(self.config.venue_symbol(request.symbol), request.quantity)
            state = wire.ACCEPTED[status]
            filled = answer.filled
            if status == "filled" and filled == 0:
                filled = contracts
            if state == OPEN and filled >= contracts:
                state = FILLED
            return self._remember(request, self._state(request, answer.order_id, filled, state))
        if status in wire.NOT_EXECUTED:
            return self._remember(request, self._state(request, answer.order_id, Decimal(0), REJECTED, answer.reason))
        if status == wire.DUPLICATE:
            found = self._find(request.client_order_id)
            if found is not None:
                return self._remember(request, found)
            raise OrderOutcomeUnknown(
                f"{self.config.venue_id} sendorder: cliOrdId {request.client_order_id} already exists "
                "but the order was not found",
                venue=self.config.venue_id,
                endpoint=SENDORDER,
            )
        del self._sent[request.client_order_id]
        where: dict[str, Any] = {"venue": self.config.venue_id, "endpoint": SENDORDER}
        text = f"{self.config.venue_id} sendorder {request.symbol} {request.client_order_id}: {status}"
        if status in wire.MARKET_CLOSED or status == "wouldProcessAfterSpecifiedTime":
            raise VenueRetryable(text + " (not placed; try again later)", **where)
        raise VenueRejected(text, **where)

    def _order_params(self, request: OrderRequest, deadline: float) -> dict[str, object]:
        venue_symbol = self.config.venue_symbol(request.symbol)
        book = self.instrument_book()
        params: dict[str, object] = {
            "orderType": WIRE_TYPES[request.order_type],
            "symbol": venue_symbol,
            "side": request.side,
            "size": plain(book.contracts(venue_symbol, request.quantity)),
        }
        if request.order_type != MARKET and request.limit_price is not None:
            side = request.side if request.order_type == LIMIT else None
            params["limitPrice"] = plain(book.price(venue_symbol, request.limit_price, side))
        if request.order_type in (STOP, TAKE_PROFIT):
            assert request.stop_price is not None
            params["stopPrice"] = plain(book.price(venue_symbol, request.stop_price))
            params["triggerSignal"] = "mark"
        params["reduceOnly"] = request.reduce_only
        params["cliOrdId"] = request.client_order_id
        params["processBefore"] = _iso(deadline)
        return params

    def _validate(self, request: OrderRequest) -> None:
        problems = []
        if request.side not in (BUY, SELL):
            problems.append(f"side {request.side!r}")
        if request.order_type not in WIRE_TYPES:
            problems.append(f"order type {request.order_type!r}")
        if not (math.isfinite(request.quantity) and request.quantity > 0):
            problems.append(f"quantity {request.quantity!r}")
        if not 0 < len(request.client_order_id) <= 100:
            problems.append("a client order id of 1 to 100 characters")
        if request.order_type == LIMIT and request.limit_price is None:
            problems.append("a limit order without a limit price")
        if request.order_type in (STOP, TAKE_PROFIT) and request.stop_price is None:
            problems.append(f"a {request.order_type} order without a stop price")
        for name in ("limit_price", "stop_price"):
            value = getattr(request, name)
            if value is not None and not (math.isfinite(value) and value > 0):
                problems.append(f"{name} {value!r}")
        if problems:
            raise VenueRejected(
                f"{self.config.venue_id}: order {request.client_order_id!r} not sent: bad " + ", ".join(problems),
                venue=self.config.venue_id,
                endpoint=SENDORDER,
            )

    def _state(
        self, request: OrderRequest, venue_id: str, filled: Decimal, status: str, reason: str = ""
    ) -> OrderState:
        venue_symbol = self.config.venue_symbol(request.symbol)
        return OrderState(
            client_order_id=request.client_order_id,
            venue_order_id=venue_id,
            symbol=request.symbol,
            side=request.side,
            quantity=request.quantity,
            filled_quantity=self.instrument_book().base(venue_symbol, filled),
            order_type=request.order_type,
            limit_price=request.limit_price,
            status=status,
            reduce_only=request.reduce_only,
            reason=reason,
            created_at=self._clock(),
        )

    def _remember(self, request: OrderRequest, state: OrderState) -> OrderState:
        sent = self._sent.get(request.client_order_id)
        deadline = sent.deadline if sent is not None else self._clock()
        self._sent[request.client_order_id] = _Sent(request, deadline, unknown=False, state=state)
        if state.venue_order_id:
            self._by_venue_id[state.venue_order_id] = request.client_order_id
        return state

    def _still_unknown(self, request: OrderRequest, deadline: float) -> OrderOutcomeUnknown:
        return OrderOutcomeUnknown(
            f"{self.config.venue_id}: the answer to order {request.client_order_id} was lost and it is not found "
            f"by cliOrdId; it is not sent again before {_iso(deadline + SKEW_MARGIN_S)} (Kraken refuses it after "
            f"{_iso(deadline)})",
            venue=self.config.venue_id,
            endpoint=SENDORDER,
        )

    # ---------------------------------------------------------------- lookups

    def order(self, client_order_id: str) -> OrderState | None:
        """The order's state at the venue, or the last one this client saw; None if unknown."""
        found = self._find(client_order_id)
        if found is not None:
            sent = self._sent.get(client_order_id)
            return self._remember(sent.request, found) if sent is not None else found
        sent = self._sent.get(client_order_id)
        return sent.state if sent is not None else None

    def _find(self, client_order_id: str) -> OrderState | None:
        """Look an order up by cliOrdId: ``orders/status`` (open, or closed in the last
        seconds), then ``fills`` (a filled order's executions carry it)."""
        data = self.http.private(
            "POST", ORDER_STATUS, {"cliOrdIds": [client_order_id]}, cost=STATUS_COST, idempotent=True
        )
        for row in wire.order_statuses(data, self._at(ORDER_STATUS)):
            if row.cli_ord_id == client_order_id:
                return self._port_order(row)
        executions = [f for f in self._fills(None) if f.cli_ord_id == client_order_id]
        if not executions:
            return None
        sent = self._sent.get(client_order_id)
        first = executions[0]
        filled = sum((f.size for f in executions), Decimal(0))
        request = sent.request if sent is not None else None
        symbol = self.config.rulebot_symbol(first.symbol) or first.symbol
        return OrderState(
            client_order_id=client_order_id,
            venue_order_id=first.order_id,
            symbol=symbol,
            side=first.side,
            quantity=request.quantity if request is not None else self._base(first.symbol, filled),
            filled_quantity=self._base(first.symbol, filled),
            order_type=request.order_type if request is not None else MARKET,
            limit_price=request.limit_price if request is not None else None,
            status=FILLED,
            reduce_only=request.reduce_only if request is not None else False,
            created_at=min(f.ts for f in executions),
        )

    def _port_order(self, row: WireOrder) -> OrderState:
        cid = row.cli_ord_id or self._by_venue_id.get(row.order_id) or f"kraken:{row.order_id}"
        sent = self._sent.get(cid)
        request = sent.request if sent is not None else None
        return OrderState(
            client_order_id=cid,
            venue_order_id=row.order_id,
            symbol=self.config.rulebot_symbol(row.symbol) or row.symbol,
            side=row.side,
            quantity=self._base(row.symbol, row.quantity),
            filled_quantity=self._base(row.symbol, row.filled),
            order_type=request.order_type if request is not None else row.order_type,
            limit_price=float(row.limit_price) if row.limit_price is not None else None,
            status=row.status,
            reduce_only=row.reduce_only,
            created_at=row.ts,
        )

    def _base(self, venue_symbol: str, contracts: Decimal) -> float:
        book = self._book
        return book.base(venue_symbol, contracts) if book is not None else float(contracts)

    def cancel_order(self, client_order_id: str) -> OrderState:
        """Cancel by cliOrdId (repeating a cancel is harmless, so it is retried); a cancel that
        lost the race to a fill answers the filled order."""
        data = self.http.private("POST", CANCELORDER, {"cliOrdId": client_order_id}, cost=ORDER_COST, idempotent=True)
        status, _ = wire.cancel_status(data, self._at(CANCELORDER))
        found = self.order(client_order_id)
        if status == "cancelled":
            if found is not None and found.status == OPEN:
                found = replace(found, status=CANCELLED)
            if found is not None:
                return (
                    self._remember(self._sent[client_order_id].request, found)
                    if client_order_id in self._sent
                    else found
                )
        if found is not None:
            return found
        raise VenueRejected(
            f"{self.config.venue_id} cancelorder: no order with cliOrdId {client_order_id} ({status})",
            venue=self.config.venue_id,
            endpoint=CANCELORDER,
        )

    def open_orders(self) -> Sequence[OrderState]:
        data = self.http.private("GET", OPENORDERS, cost=READ_COST, idempotent=True)
        if self._book is None:
            self.instrument_book()
        return tuple(self._port_order(row) for row in wire.open_orders(data, self._at(OPENORDERS)))

    # ================================================================ account

    def positions(self) -> Sequence[VenuePosition]:
        """Open positions in base units; cross margin reports leverage 1.0 (Kraken gives a
        position's leverage only under isolated margin, as ``maxFixedLeverage``)."""
        data = self.http.private("GET", OPENPOSITIONS, cost=READ_COST, idempotent=True)
        rows = wire.positions(data, self._at(OPENPOSITIONS))
        if rows:
            self.instrument_book()
        result = []
        for row in rows:
            symbol = self.config.rulebot_symbol(row.symbol)
            if symbol is None:
                logger.warning("%s: a position in %s, which the rules do not map", self.config.venue_id, row.symbol)
            result.append(
                VenuePosition(
                    symbol=symbol or row.symbol,
                    quantity=self._base(row.symbol, row.signed_size),
                    entry_price=float(row.price),
                    leverage=float(row.max_fixed_leverage) if row.max_fixed_leverage is not None else 1.0,
                    liquidation_price=None,
                )
            )
        return tuple(result)

    def balance(self) -> Balance:
        """The multi-collateral (``flex``) account in USD."""
        if self.config.demo:
            return self._demo_balance()
        data = self.http.private("GET", ACCOUNTS, cost=READ_COST, idempotent=True)
        return _balance(wire.flex_balance(data, self._at(ACCOUNTS)))

    def _demo_balance(self) -> Balance:
        """The demo environment does not serve balances (the seed's "Testnet Support": "not
        supported on testnet"). It is asked once, not retried, and a refusal or an unreadable
        answer is reported as that known limit rather than as a venue fault."""
        try:
            data = self.http.private("GET", ACCOUNTS, cost=READ_COST, idempotent=True, retry=False)
            return _balance(wire.flex_balance(data, self._at(ACCOUNTS)))
        except (VenueRejected, VenueAnswerMalformed) as error:
            raise VenueRejected(
                f"{self.config.venue_id}: the demo environment ({self.config.base_url}) does not serve "
                f"balances (a known limit of Kraken's demo; use production keys to read the account): {error}",
                venue=self.config.venue_id,
                endpoint=ACCOUNTS,
                status=error.status,
            ) from None

    def _fills(self, since: float | None) -> list[wire.WireFill]:
        """Fills newest first, paged back with ``lastFillTime`` until ``since`` (one page when None)."""
        data = self.http.private("GET", FILLS, cost=READ_COST, idempotent=True)
        rows = list(wire.fills(data, self._at(FILLS)))
        pages = 1
        while since is not None and len(rows) >= FILLS_PAGE * pages and pages < MAX_PAGES:
            oldest = min(r.ts for r in rows)
            if oldest < since:
                break
            data = self.http.private(
                "GET", FILLS, {"lastFillTime": _iso(oldest)}, cost=PAGED_FILLS_COST, idempotent=True
            )
            page = wire.fills(data, self._at(FILLS))
            if not page:
                break
            rows.extend(page)
            pages += 1
        unique = {r.fill_id: r for r in rows}
        return sorted(unique.values(), key=lambda r: r.ts, reverse=True)

    def fills_since(self, ts: float) -> Sequence[Fill]:
        """Fills at or after ``ts``, oldest first; fees from the rules (Kraken's fills carry none)."""
        rows = [r for r in self._fills(ts) if r.ts >= ts]
        if rows:
            self.instrument_book()
        result = []
        for row in reversed(rows):
            quantity = self._base(row.symbol, row.size)
            liquidity = (
                "maker" if row.fill_type == "maker" else "liquidation" if row.fill_type == "liquidation" else "taker"
            )
            fee_pct = self.config.maker_fee_pct if liquidity == "maker" else self.config.taker_fee_pct
            result.append(
                Fill(
                    fill_id=row.fill_id,
                    client_order_id=row.cli_ord_id or self._by_venue_id.get(row.order_id, f"kraken:{row.order_id}"),
                    symbol=self.config.rulebot_symbol(row.symbol) or row.symbol,
                    side=row.side,
                    quantity=quantity,
                    price=float(row.price),
                    fee=quantity * float(row.price) * fee_pct / 100.0,
                    liquidity=liquidity,
                    ts=row.ts,
                )
            )
        return tuple(result)

    def funding_since(self, ts: float) -> Sequence[FundingPayment]:
        """Funding booked in the account log at or after ``ts``, oldest first, paged by entry id.
        ``rate`` is the relative rate per hour (the entry's absolute ``funding_rate`` over its
        ``mark_price``), 0 when the entry lacks either. Shape: krakenfx/api-specs
        ``futures-rest/history`` ``AccountLogEntry``; only ``funding rate change`` entries are
        read (funding realised on a trade is part of that trade's entry and not reported here)."""
        params: dict[str, object] = {
            "since": int(ts * 1000),
            "sort": "asc",
            "info": wire.FUNDING_INFO,
            "count": ACCOUNT_LOG_PAGE,
        }
        rows: dict[str, wire.WireFunding] = {}
        for _ in range(MAX_PAGES):
            data = self.http.private(
                "GET", ACCOUNT_LOG, params, cost=ACCOUNT_LOG_COST, idempotent=True, pool=HISTORY_POOL
            )
            page, last_id = wire.funding_log(data, self._at(ACCOUNT_LOG))
            rows.update((row.entry_id, row) for row in page)
            if last_id is None or wire.log_size(data) < ACCOUNT_LOG_PAGE:
                break
            params["from"] = last_id + 1
        result = []
        for row in rows.values():
            if row.ts < ts:
                continue
            rate = row.rate / row.mark_price if row.rate is not None and row.mark_price is not None else Decimal(0)
            result.append(
                FundingPayment(
                    payment_id=f"kraken_futures:funding:{row.entry_id}",
                    symbol=self.config.rulebot_symbol(row.symbol) or row.symbol,
                    rate=float(rate),
                    amount=float(row.amount),
                    ts=row.ts,
                )
            )
        return tuple(sorted(result, key=lambda p: p.ts))


def _balance(row: wire.WireBalance) -> Balance:
    return Balance(
        cash=float(row.balance_value), equity=float(row.portfolio_value), available_margin=float(row.available_margin)
    )


def _float(value: Decimal | None) -> float | None:
    return float(value) if value is not None else None


def _iso(ts: float) -> str:
    """An ISO 8601 UTC time with milliseconds, as Kraken writes them."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(ts * 1000) % 1000:03d}Z"
