"""An in-process venue behind ``ExchangePort`` for the live broker's unit tests: an order
book of orders, positions, fills and funding, and faults on demand (the next call of a
method raises the error given). Market orders fill at once at ``price``; stop orders rest.
The HTTP fakes of the venue clients (tests/venues/fakes/) test the wire; this one tests
what the live broker does with each answer."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from engine.ports import (
    BUY,
    CANCELLED,
    FILLED,
    MARKET,
    OPEN,
    Balance,
    Fill,
    FundingPayment,
    OrderRequest,
    OrderState,
    Ticker,
    VenuePosition,
    VenueRejected,
)


@dataclass
class FakeExchange:
    price: float = 100.0
    now: float = 1_000.0
    cash: float = 10_000.0
    orders: dict[str, OrderState] = field(default_factory=dict)
    fills: list[Fill] = field(default_factory=list)
    funding: list[FundingPayment] = field(default_factory=list)
    held: dict[str, float] = field(default_factory=dict)  # symbol → signed base quantity
    faults: dict[str, list[Exception]] = field(default_factory=dict)  # method → errors raised, in turn
    accept_then_fail: list[Exception] = field(default_factory=list)  # place_order: accepted, then this raised
    calls: list[str] = field(default_factory=list)
    placed: list[str] = field(default_factory=list)  # every client order id the venue accepted, in order
    stop_prices: dict[str, float] = field(default_factory=dict)  # client order id → trigger of a stop order
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def fail(self, method: str, *errors: Exception) -> None:
        self.faults.setdefault(method, []).extend(errors)

    def _enter(self, method: str) -> None:
        self.calls.append(method)
        waiting = self.faults.get(method)
        if waiting:
            raise waiting.pop(0)

    # ---------------------------------------------------------------- ExchangePort

    def ticker(self, symbol: str) -> Ticker:
        self._enter("ticker")
        return Ticker(symbol, self.price, self.price, self.price, self.price, self.now)

    def place_order(self, request: OrderRequest) -> OrderState:
        self._enter("place_order")
        if request.client_order_id in self.orders:
            raise VenueRejected(f"duplicate client order id {request.client_order_id}", venue="fake")
        state = OrderState(
            request.client_order_id,
            f"v{next(self._ids)}",
            request.symbol,
            request.side,
            request.quantity,
            0.0,
            request.order_type,
            request.limit_price,
            OPEN,
            request.reduce_only,
            "",
            self.now,
        )
        self.orders[request.client_order_id] = state
        self.placed.append(request.client_order_id)
        if request.stop_price is not None:
            self.stop_prices[request.client_order_id] = request.stop_price
        if request.order_type == MARKET:
            state = self.fill(request.client_order_id, request.quantity, self.price)
        if self.accept_then_fail:
            raise self.accept_then_fail.pop(0)
        return state

    def fill(self, client_order_id: str, quantity: float, price: float) -> OrderState:
        """The venue fills (part of) an order: a fill, the position, the order's state."""
        order = self.orders[client_order_id]
        self.now += 1
        fill = Fill(
            f"f{len(self.fills) + 1}",
            client_order_id,
            order.symbol,
            order.side,
            quantity,
            price,
            0.05,
            "taker",
            self.now,
        )
        self.fills.append(fill)
        sign = 1 if order.side == BUY else -1
        self.held[order.symbol] = self.held.get(order.symbol, 0.0) + sign * quantity
        if abs(self.held[order.symbol]) < 1e-12:
            del self.held[order.symbol]
        filled = order.filled_quantity + quantity
        self.orders[client_order_id] = replace(
            order, filled_quantity=filled, status=FILLED if filled >= order.quantity - 1e-12 else OPEN
        )
        return self.orders[client_order_id]

    def cancel_order(self, client_order_id: str) -> OrderState:
        self._enter("cancel_order")
        order = self.orders.get(client_order_id)
        if order is None:
            raise VenueRejected(f"unknown order {client_order_id}", venue="fake")
        if order.status == OPEN:
            self.orders[client_order_id] = replace(order, status=CANCELLED)
        return self.orders[client_order_id]

    def open_orders(self) -> Sequence[OrderState]:
        self._enter("open_orders")
        return [o for o in self.orders.values() if o.status == OPEN]

    def order(self, client_order_id: str) -> OrderState | None:
        self._enter("order")
        return self.orders.get(client_order_id)

    def positions(self) -> Sequence[VenuePosition]:
        self._enter("positions")
        return [VenuePosition(s, q, self.price, 2.0, None) for s, q in sorted(self.held.items())]

    def balance(self) -> Balance:
        self._enter("balance")
        return Balance(self.cash, self.cash, self.cash)

    def fills_since(self, ts: float) -> Sequence[Fill]:
        self._enter("fills_since")
        return [f for f in self.fills if f.ts >= ts]

    def funding_since(self, ts: float) -> Sequence[FundingPayment]:
        self._enter("funding_since")
        return [p for p in self.funding if p.ts >= ts]
