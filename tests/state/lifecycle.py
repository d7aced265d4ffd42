"""A deterministic position lifecycle for the state-store tests: step N's transition is a
pure function of N, so a test (or the crash test's parent) can recompute what the
database must hold after any step, and a reference model applies transitions to dicts.

Every 4 steps one position lives and dies: open (entry order + fill), partial close
(exit order + fill, position updated), funding payment, full close (exit order + fill,
trade recorded, position deleted). Every step also advances the cursor ``step``.
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from engine.ports import FILLED, MARKET, Fill, FundingPayment, OrderState, Transition
from engine.trading.positions import OpenPosition, TradeRecord

PHASES = 4
T0 = 1_700_000_000.0
FEE_RATE = 0.0005


def _cycle(step: int) -> tuple[int, int]:
    return (step - 1) // PHASES, (step - 1) % PHASES


def _symbol(k: int) -> str:
    return ("BTCUSDT", "ETHUSDT", "SOLUSDT")[k % 3]


def _direction(k: int) -> str:
    return "SHORT" if k % 4 == 3 else "LONG"


def _side(k: int, closing: bool) -> str:
    opening = "buy" if _direction(k) == "LONG" else "sell"
    return ({"buy", "sell"} - {opening}).pop() if closing else opening


def _qty(k: int) -> float:
    return 0.5 + (k % 5) * 0.125


def _price(k: int, leg: int) -> float:
    """Entry (leg 0) and exit prices (legs 1, 2); awkward binary fractions on purpose."""
    return 100.0 + k * 0.37 + leg * (0.1 if k % 2 else -0.3)


def _ts(k: int, phase: int) -> float:
    return T0 + k * 3600.0 + phase * 600.5


def position_id(k: int) -> str:
    return f"pos-{k}"


def _order(k: int, leg: int, quantity: float) -> OrderState:
    coid = position_id(k) if leg == 0 else f"{position_id(k)}-x{leg}"
    return OrderState(
        coid,
        f"venue-{k}-{leg}",
        _symbol(k),
        _side(k, leg > 0),
        quantity,
        quantity,
        MARKET,
        None,
        FILLED,
        reduce_only=leg > 0,
        created_at=_ts(k, leg),
    )


def _fill(k: int, leg: int, quantity: float) -> Fill:
    order = _order(k, leg, quantity)
    price = _price(k, leg)
    return Fill(
        f"fill-{k}-{leg}",
        order.client_order_id,
        order.symbol,
        order.side,
        quantity,
        price,
        price * quantity * FEE_RATE,
        "maker" if leg == 1 else "taker",
        order.created_at + 0.25,
    )


def _funding(k: int) -> FundingPayment:
    rate = 0.0001 * (k % 7 - 3)
    return FundingPayment(f"fund-{k}", _symbol(k), rate, -rate * _price(k, 0) * _qty(k) / 2, _ts(k, 2))


def _position(k: int, phase: int) -> OpenPosition:
    """The open position after phase 0 (opened), 1 (half closed) or 2 (funding applied)."""
    q, sign = _qty(k), 1 if _direction(k) == "LONG" else -1
    entry = _fill(k, 0, q)
    opened = OpenPosition(
        position_id(k),
        _symbol(k),
        _direction(k),
        "paper",
        entry.price,
        q,
        q,
        3.0,
        entry.ts,
        "rs-0123456789abcdef",
        conviction="HIGH",
        confidence=0.25 + k % 3 / 10,
        grace_until=entry.ts + 900,
        alignment_at_entry=None if k % 2 else 0.7,
        trend_at_entry=(k % 3) - 1,
        stop_price=entry.price * 0.97,
        fees_paid=entry.fee,
        attribution=MappingProxyType({"trend": 0.4, "funding_rate": 0.1 * k}) if k % 2 else MappingProxyType({}),
    )
    if phase == 0:
        return opened
    exit1 = _fill(k, 1, q / 2)
    half = replace(
        opened,
        quantity=q / 2,
        fees_paid=entry.fee + exit1.fee,
        realized_pnl=sign * (exit1.price - entry.price) * exit1.quantity,
        exit_fills_value=exit1.price * exit1.quantity,
        peak_pnl_pct=1.5,
        ladder_done=(1,),
        hold_multiplier=1.5,
    )
    if phase == 1:
        return half
    return replace(half, funding_paid=-_funding(k).amount)


def _trade(k: int) -> TradeRecord:
    last = _position(k, 2)
    exit2 = _fill(k, 2, last.quantity)
    gross = last.realized_pnl + last.sign * (exit2.price - last.entry_price) * exit2.quantity
    fees = last.fees_paid + exit2.fee
    net = gross - fees - last.funding_paid
    exit_price = (last.exit_fills_value + exit2.price * exit2.quantity) / last.initial_quantity
    return TradeRecord(
        last.id,
        last.symbol,
        last.direction,
        last.venue,
        last.opened_at,
        exit2.ts,
        last.entry_price,
        exit_price,
        last.initial_quantity,
        last.leverage,
        gross,
        fees,
        last.funding_paid,
        net,
        net / (last.entry_price * last.initial_quantity) * 100,
        exit2.ts - last.opened_at,
        "TAKE_PROFIT",
        "tp2",
        last.entry_version,
        "rs-fedcba9876543210",
        last.conviction,
        last.confidence,
        last.attribution,
        peak_pnl_pct=last.peak_pnl_pct,
    )


def transition(step: int) -> Transition:
    """Everything step ``step`` (1-based) writes."""
    k, phase = _cycle(step)
    cursor = (("step", float(step)),)
    pid = position_id(k)
    if phase == 0:
        order = _order(k, 0, _qty(k))
        return Transition(
            orders=(order,),
            fills=(_fill(k, 0, _qty(k)),),
            positions=(_position(k, 0),),
            order_positions=((order.client_order_id, pid),),
            cursors=cursor,
        )
    if phase == 1:
        order = _order(k, 1, _qty(k) / 2)
        return Transition(
            orders=(order,),
            fills=(_fill(k, 1, _qty(k) / 2),),
            positions=(_position(k, 1),),
            order_positions=((order.client_order_id, pid),),
            cursors=cursor,
        )
    if phase == 2:
        return Transition(funding=(_funding(k),), positions=(_position(k, 2),), cursors=cursor)
    quantity = _position(k, 2).quantity
    order = _order(k, 2, quantity)
    return Transition(
        orders=(order,),
        fills=(_fill(k, 2, quantity),),
        trades=(_trade(k),),
        closed_positions=(pid,),
        order_positions=((order.client_order_id, pid),),
        cursors=cursor,
    )


def expected_fill_count(steps: int) -> int:
    """Fills written by steps 1..steps: one per phase except funding."""
    full, rest = divmod(steps, PHASES)
    return full * 3 + min(rest, 2)


@dataclass
class Model:
    """What the store must hold: Transition semantics applied to plain dicts."""

    orders: dict = field(default_factory=dict)
    links: dict = field(default_factory=dict)
    fills: dict = field(default_factory=dict)
    funding: dict = field(default_factory=dict)
    positions: dict = field(default_factory=dict)
    trades: dict = field(default_factory=dict)
    cursors: dict = field(default_factory=dict)
    steps: int = 0

    def apply(self, t: Transition) -> None:
        self.orders.update((o.client_order_id, o) for o in t.orders)
        self.links.update(t.order_positions)
        for f in t.fills:
            self.fills.setdefault(f.fill_id, f)
        for p in t.funding:
            self.funding.setdefault(p.payment_id, p)
        self.positions.update((p.id, p) for p in t.positions)
        for pid in t.closed_positions:
            self.positions.pop(pid, None)
        for tr in t.trades:
            self.trades.setdefault(tr.id, tr)
        self.cursors.update(t.cursors)

    def advance_to(self, steps: int) -> None:
        assert steps >= self.steps, f"the cursor went back from {self.steps} to {steps}"
        for step in range(self.steps + 1, steps + 1):
            self.apply(transition(step))
        self.steps = steps

    def assert_matches(self, store) -> None:
        assert {o.client_order_id: o for o in store.orders()} == self.orders
        assert {f.fill_id: f for f in store.fills()} == self.fills
        assert {p.payment_id: p for p in store.funding()} == self.funding
        assert {p.id: p for p in store.open_positions()} == self.positions
        assert {t.id: t for t in store.trades()} == self.trades
        assert {name: store.cursor(name) for name in self.cursors} == self.cursors
        with raw(store.path) as conn:
            links = conn.execute("SELECT client_order_id, position_id FROM orders WHERE position_id IS NOT NULL")
            assert dict(links.fetchall()) == self.links


@contextmanager
def raw(path):
    """A plain sqlite3 connection for checks that bypass the store (closed afterwards)."""
    conn = sqlite3.connect(path)
    try:
        yield conn
    finally:
        conn.close()
