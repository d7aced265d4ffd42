"""Reconciliation of the state database with the venue, before live mode's first trade.

Live mode trades only when its book and the venue's agree: the same signed position per
symbol (within the reconciliation task's tolerance), every order open at the venue known to
the state (an entry or exit pending, or a protective stop the live broker placed), every
pending order known to the venue, and a balance that can be traded on. Fills the venue made
while rulebot was down count as applied (the first cycle applies them), so an order that
filled during a restart is no difference. Anything else refuses the start (LiveRefused)
with each difference said; the hourly task (engine/bot/tasks/portfolio_reconciliation.py)
compares the same books while running and reduces trading instead.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass

from engine.bot.tasks.common import net_bot_positions, net_broker_positions, side
from engine.bot.tasks.portfolio_reconciliation import in_step
from engine.ports import BUY, OPEN, Balance, Fill, LiveRefused, OrderState, VenuePosition

#: The balance the state last saw and the venue's may differ this much without a note (funding, fees).
CASH_NOTE_PCT = 1.0


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """What a comparison found: differences refuse a start, notes are only said."""

    venue: str
    differences: tuple[str, ...]
    notes: tuple[str, ...] = ()

    @property
    def in_step(self) -> bool:
        return not self.differences

    def refusal(self) -> LiveRefused:
        listed = "; ".join(self.differences)
        return LiveRefused(
            f"live start refused: the state database and {self.venue} differ ({len(self.differences)} "
            f"difference(s)): {listed}. Nothing was traded; make the two agree (close or adopt the position, "
            "cancel the order) and start again",
            venue=self.venue,
            endpoint="reconciliation",
        )


def _with_fills(net: dict[str, float], fills: Iterable[Fill]) -> dict[str, float]:
    """The state's positions with the venue's fills it has not applied yet."""
    out = dict(net)
    for fill in fills:
        out[fill.symbol] = out.get(fill.symbol, 0.0) + (fill.quantity if fill.side == BUY else -fill.quantity)
    return out


def _positions(bot: dict[str, float], venue: dict[str, float], tolerance_pct: float) -> list[str]:
    found = []
    for symbol in sorted(set(bot) | set(venue)):
        mine, theirs = bot.get(symbol, 0.0), venue.get(symbol, 0.0)
        if abs(mine) < 1e-12 and abs(theirs) < 1e-12:
            continue
        if not in_step(mine, theirs, tolerance_pct):
            found.append(
                f"{symbol}: the state holds {side(mine)} {abs(mine):g}, the venue {side(theirs)} {abs(theirs):g}"
            )
    return found


def _orders(
    pending: Collection[str],
    own: Collection[str],
    venue_orders: Sequence[OrderState],
    lookup: Callable[[str], OrderState | None],
) -> list[str]:
    found = []
    open_ids = {o.client_order_id for o in venue_orders if o.status == OPEN}
    for order in sorted(venue_orders, key=lambda o: o.client_order_id):
        if order.status == OPEN and order.client_order_id not in pending and order.client_order_id not in own:
            found.append(
                f"order {order.client_order_id or order.venue_order_id}: open at the venue "
                f"({order.symbol} {order.side} {order.quantity:g} {order.order_type}), unknown to the state"
            )
    for client_id in sorted(set(pending) - open_ids):
        if lookup(client_id) is None:
            found.append(f"order {client_id}: pending in the state, unknown to the venue")
    return found


def _balance(balance: Balance | None, known_cash: float | None) -> tuple[list[str], list[str]]:
    if balance is None:
        return ["balance: the venue did not answer it"], []
    values = (balance.cash, balance.equity, balance.available_margin)
    if not all(math.isfinite(v) for v in values) or balance.equity <= 0:
        return [f"balance: the venue reports equity {balance.equity!r}, cash {balance.cash!r}: nothing to trade on"], []
    notes = []
    if known_cash is not None and known_cash > 0:
        moved = abs(balance.cash - known_cash) / known_cash * 100
        if moved > CASH_NOTE_PCT:
            notes.append(
                f"balance: cash {balance.cash:,.2f} at the venue, {known_cash:,.2f} when the state last saw it "
                f"({moved:.2f} % apart: deposits, withdrawals or funding while rulebot was down)"
            )
    return [], notes


def reconcile(
    venue: str,
    *,
    positions: Iterable[object],
    pending: Collection[str],
    own_orders: Collection[str],
    unapplied_fills: Iterable[Fill],
    venue_positions: Sequence[VenuePosition],
    venue_orders: Sequence[OrderState],
    lookup: Callable[[str], OrderState | None],
    balance: Balance | None,
    known_cash: float | None,
    tolerance_pct: float,
) -> Reconciliation:
    """Compare the state's book (``positions``: OpenPosition; ``pending``: client ids of the
    orders it waits on; ``own_orders``: the live broker's protective stops) with the venue's."""
    bot = _with_fills(net_bot_positions(positions), unapplied_fills)
    found = _positions(bot, net_broker_positions(venue_positions), tolerance_pct)
    found += _orders(pending, own_orders, venue_orders, lookup)
    problems, notes = _balance(balance, known_cash)
    return Reconciliation(venue, tuple(found + problems), tuple(notes))
