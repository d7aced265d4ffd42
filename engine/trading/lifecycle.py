"""Position lifecycle arithmetic: fills open, reduce and close positions; funding is
charged; a closed position becomes a TradeRecord. Pure functions over frozen data.

P&L: gross = Σ over closing fills of sign × (exit price − entry price) × quantity;
net = gross − every fee (entry and exits) − funding paid (received funding counts for).
"""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType

from engine.trading.positions import OpenPosition, TradeRecord

EPSILON = 1e-12


def open_position(
    intent, fill, *, conviction: str, confidence: float, alignment: float | None, trend: int, attribution
) -> OpenPosition:
    """A new position from the first fill of an entry order."""
    return OpenPosition(
        id=intent.client_order_id,
        symbol=intent.symbol,
        direction=intent.direction,
        venue=intent.venue,
        entry_price=fill.price,
        quantity=fill.quantity,
        initial_quantity=fill.quantity,
        leverage=intent.leverage,
        opened_at=fill.ts,
        entry_version=intent.version,
        conviction=conviction,
        confidence=confidence,
        grace_until=fill.ts + intent.grace_window_s,
        alignment_at_entry=alignment,
        trend_at_entry=trend,
        stop_price=intent.stop_price,
        fees_paid=fill.fee,
        attribution=MappingProxyType(dict(attribution)),
    )


def add_entry_fill(position: OpenPosition, fill) -> OpenPosition:
    """A further fill of the entry order: the entry price becomes the quantity-weighted mean."""
    quantity = position.quantity + fill.quantity
    price = (position.entry_price * position.quantity + fill.price * fill.quantity) / quantity
    return replace(
        position,
        entry_price=price,
        quantity=quantity,
        initial_quantity=position.initial_quantity + fill.quantity,
        fees_paid=position.fees_paid + fill.fee,
    )


def apply_exit_fill(position: OpenPosition, fill) -> OpenPosition:
    """Reduce the position by a closing fill (quantity clipped to what is open)."""
    quantity = min(fill.quantity, position.quantity)
    gross = position.sign * (fill.price - position.entry_price) * quantity
    return replace(
        position,
        quantity=max(0.0, position.quantity - quantity),
        realized_pnl=position.realized_pnl + gross,
        fees_paid=position.fees_paid + fill.fee,
        exit_fills_value=position.exit_fills_value + fill.price * quantity,
    )


def apply_funding(position: OpenPosition, payment) -> OpenPosition:
    """``payment.amount`` is positive when received; funding_paid counts what was paid."""
    return replace(position, funding_paid=position.funding_paid - payment.amount)


def is_closed(position: OpenPosition) -> bool:
    return position.quantity <= EPSILON * max(1.0, position.initial_quantity)


def close_trade(
    position: OpenPosition, *, exit_ts: float, reason: str, tier: str, exit_version: str, last_fill=None
) -> TradeRecord:
    """The trade record of a position its exit fills closed. Its exit price is the fills'
    quantity-weighted mean — or, when ``last_fill`` closed it all at once, that fill's price
    itself (p·q/q is not always p in floating point, and a one-fill exit is at one price)."""
    closed = position.initial_quantity - position.quantity
    exit_price = position.exit_fills_value / closed if closed > 0 else position.entry_price
    if last_fill is not None and last_fill.quantity >= closed > 0:
        exit_price = last_fill.price
    net = position.realized_pnl - position.fees_paid - position.funding_paid
    notional = position.entry_price * position.initial_quantity
    return TradeRecord(
        id=position.id,
        symbol=position.symbol,
        direction=position.direction,
        venue=position.venue,
        entry_ts=position.opened_at,
        exit_ts=exit_ts,
        entry_price=position.entry_price,
        exit_price=exit_price,
        quantity=position.initial_quantity,
        leverage=position.leverage,
        gross_pnl=position.realized_pnl,
        fees=position.fees_paid,
        funding=position.funding_paid,
        net_pnl=net,
        net_pnl_pct=net / notional * 100 if notional > 0 else 0.0,
        duration_s=exit_ts - position.opened_at,
        exit_reason=reason,
        exit_tier=tier,
        entry_version=position.entry_version,
        exit_version=exit_version,
        conviction=position.conviction,
        confidence=position.confidence,
        attribution=position.attribution,
        peak_pnl_pct=position.peak_pnl_pct,
    )
