"""Exchange-side protective stops (rules/exits.yaml, a stop tier with ``placement: exchange``).

In live mode every open position rests a reduce-only stop order at the venue at the stop
tier's price, so a position stays protected while the bot is down or cut off; the bot-side
stop tier keeps running every cycle as the backup. This module says which stop a position
needs (pure: the live broker places, replaces and cancels them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.ports import BUY, SELL, STOP, OrderRequest
from engine.trading.sizing import round_down, round_up

EXCHANGE = "exchange"


@dataclass(frozen=True, slots=True)
class StopNeed:
    """The resting stop one position needs: the order to place and the tier it serves."""

    position_id: str
    tier: str
    request: OrderRequest


def exchange_stop_tier(plan: Any) -> tuple[str, float] | None:
    """(tier id, loss %) of the first stop tier placed at the exchange, None when every stop is bot-side."""
    for stop in plan.exits.stops():
        if getattr(stop.tier.params, "placement", "bot") == EXCHANGE:
            return stop.tier.id, float(stop.loss_pct)
    return None


def stop_price(plan: Any, position: Any, loss_pct: float, tick_size: float | None = None) -> float:
    """The trigger price at which ``position`` has lost ``loss_pct`` on the plan's pnl_basis,
    rounded to the tick away from the entry (the stop never triggers before the loss)."""
    move = loss_pct / 100 / (position.leverage if plan.exits.pnl_basis == "margin" else 1)
    long = position.direction == "LONG"
    price = position.entry_price * (1 - move if long else 1 + move)
    if tick_size:
        price = round_down(price, tick_size) if long else round_up(price, tick_size)
    return float(price)


def stop_client_id(position_id: str, price: float) -> str:
    """Deterministic per position and price: a stop re-sent after a restart is the same order."""
    return f"{position_id}-stop-{price:.10g}"


def needed_stop(plan: Any, position: Any, tick_size: float | None = None) -> StopNeed | None:
    """The resting stop ``position`` needs, None when the rules keep stops bot-side or the
    position has nothing left open."""
    tier = exchange_stop_tier(plan)
    if tier is None or position.quantity <= 0 or position.entry_price <= 0:
        return None
    tier_id, loss_pct = tier
    price = stop_price(plan, position, loss_pct, tick_size)
    request = OrderRequest(
        client_order_id=stop_client_id(position.id, price),
        symbol=position.symbol,
        side=SELL if position.direction == "LONG" else BUY,
        quantity=position.quantity,
        order_type=STOP,
        reduce_only=True,
        leverage=position.leverage,
        stop_price=price,
    )
    return StopNeed(position.id, tier_id, request)
