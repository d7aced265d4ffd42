"""Task ``portfolio_reconciliation`` (seed: "Portfolio Reconciliation", hourly): the bot's book
against the broker's.

Positions are compared per symbol as one signed quantity (one-way mode: long +, short −),
within ``quantity_tolerance_pct`` of the larger side; pending orders against the broker's open
orders by client order id. Orders younger than ``order_grace`` are left out on both sides: an
order sent this cycle may not have reached the broker, nor its fill the bot. Any discrepancy
moves trading to REDUCING (exits only) until a later run finds the book in step again and
lifts the state it set (the bot lifts only a state set by the same source).

In live mode the broker is the venue (adapters/venues/broker.py): its positions are asked of
the venue at each run, its open orders are the venue's of the cycle (the protective stops it
rests are its own and not compared), and the bot also runs this task at once when the venue
answers again after failing (engine/bot/loop.py). Before the first live trade the same books
are compared with no grace, and any difference refuses the start (engine/trading/reconcile.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.bot.tasks.base import SetTradingState, TaskContext, TaskOutcome
from engine.bot.tasks.common import lift, net_bot_positions, net_broker_positions, open_broker_orders, side, task_schema
from engine.language.schemagen.dsl import Schema, duration, num

if TYPE_CHECKING:
    from engine.language.kinds.base import BuildContext, Doc
    from engine.language.kinds.schedules import Job

NAME = "portfolio_reconciliation"
SUMMARY = "Compares the bot's positions and pending orders with the broker's; any difference reduces trading."
READS = ("open_positions", "pending_orders", "broker_positions", "broker_open_orders")
EFFECTS = ("warning listing each discrepancy", "SetTradingState REDUCING", "SetTradingState ACTIVE (lifts its own)")


@dataclass(frozen=True, slots=True, kw_only=True)
class Params:
    quantity_tolerance_pct: float = 0.5
    order_grace_s: float = 120.0


def schema() -> Schema:
    return task_schema(
        SUMMARY,
        {
            "quantity_tolerance_pct": num(
                "Largest quantity difference per symbol still in step, of the larger of the two.",
                "%",
                minimum=0,
                maximum=100,
                default=0.5,
            ),
            "order_grace": duration("Orders younger than this are not compared (in flight).", default="2m"),
        },
    )


def compile_params(raw: Mapping[str, Any], jobs: Sequence[Job]) -> Params:
    return Params(
        quantity_tolerance_pct=raw.get("quantity_tolerance_pct", 0.5),
        order_grace_s=raw.get("order_grace", 120.0),
    )


def check(params: Params, doc: Doc, path: tuple[Any, ...], ctx: BuildContext, jobs: Sequence[Job]) -> None:
    """None: the schema bounds the tolerance."""


def in_step(bot: float, broker: float, tolerance_pct: float) -> bool:
    """Whether two signed quantities agree within ``tolerance_pct`` of the larger (exactly at
    the tolerance is in step, float rounding included; opposite sides never are)."""
    if bot == broker:
        return True
    if bot * broker < 0:
        return False
    return abs(bot - broker) <= tolerance_pct / 100 * max(abs(bot), abs(broker)) * (1 + 1e-9)


def discrepancies(params: Params, ctx: TaskContext) -> list[str]:
    """Every difference between the two books, one sentence each (symbols and ids sorted)."""
    found = []
    bot, broker = net_bot_positions(ctx.open_positions), net_broker_positions(ctx.broker_positions)
    for symbol in sorted(set(bot) | set(broker)):
        mine, theirs = bot.get(symbol, 0.0), broker.get(symbol, 0.0)
        if not in_step(mine, theirs, params.quantity_tolerance_pct):
            found.append(
                f"{symbol}: the bot holds {side(mine)} {abs(mine):g}, the broker {side(theirs)} {abs(theirs):g}"
            )
    settled = ctx.now - params.order_grace_s
    broker_orders = open_broker_orders(ctx)
    for cid, sent in sorted(ctx.pending_orders.items()):
        if sent <= settled and cid not in broker_orders:
            found.append(f"order {cid}: pending in the bot, not open at the broker")
    for cid, order in sorted(broker_orders.items()):
        if order.created_at <= settled and cid not in ctx.pending_orders:
            found.append(f"order {cid}: open at the broker ({order.symbol} {order.side}), not tracked by the bot")
    return found


def run(params: Params, ctx: TaskContext) -> TaskOutcome:
    found = discrepancies(params, ctx)
    if not found:
        return TaskOutcome(
            "ok",
            "positions and orders in step with the broker",
            actions=lift(ctx, NAME, "reconciliation found the book in step with the broker"),
        )
    reason = f"{len(found)} discrepancy(ies) with the broker: {found[0]}"
    return TaskOutcome(
        "warning",
        reason,
        details={"discrepancies": found},
        actions=(SetTradingState("REDUCING", reason, NAME),),
    )
