"""Task ``recovery_cycle`` (seed: scheduler "Recovery cycle", every 10 minutes): puts orders
back in step with the broker, and halts on positions it cannot explain.

* an order the bot still waits for but the broker does not have open was lost (or settled
  unseen): the bot forgets it (``ForgetPending``), so it stops blocking its symbol;
* an order open at the broker that the bot does not track would fill behind the bot's back:
  it is cancelled (``CancelOrder``);
* a position the broker holds and the bot does not, the reverse, or the two on opposite
  sides: trading is HALTED (protective exits still run) — which book is right is for a
  person to decide, and ``rulebot resume`` (after looking) lifts it.

Orders younger than ``order_grace`` are left alone: they may still be in flight. Quantity
differences on the same side are ``portfolio_reconciliation``'s (REDUCING).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.bot.tasks.base import Action, CancelOrder, ForgetPending, SetTradingState, TaskContext, TaskOutcome
from engine.bot.tasks.common import net_bot_positions, net_broker_positions, open_broker_orders, side, task_schema
from engine.language.schemagen.dsl import Schema, duration

if TYPE_CHECKING:
    from engine.language.kinds.base import BuildContext, Doc
    from engine.language.kinds.schedules import Job

NAME = "recovery_cycle"
SUMMARY = "Forgets orders the broker lost, cancels orders the bot does not track, halts on unexplained positions."
READS = ("pending_orders", "broker_open_orders", "open_positions", "broker_positions")
EFFECTS = ("ForgetPending", "CancelOrder", "SetTradingState HALTED (a person must look)")


@dataclass(frozen=True, slots=True, kw_only=True)
class Params:
    order_grace_s: float = 120.0


def schema() -> Schema:
    return task_schema(
        SUMMARY, {"order_grace": duration("Orders younger than this are left alone (in flight).", default="2m")}
    )


def compile_params(raw: Mapping[str, Any], jobs: Sequence[Job]) -> Params:
    return Params(order_grace_s=raw.get("order_grace", 120.0))


def check(params: Params, doc: Doc, path: tuple[Any, ...], ctx: BuildContext, jobs: Sequence[Job]) -> None:
    """None."""


def unexplained_positions(ctx: TaskContext) -> list[str]:
    """Symbols held on one side only, or on opposite sides, one sentence each."""
    bot, broker = net_bot_positions(ctx.open_positions), net_broker_positions(ctx.broker_positions)
    found = []
    for symbol in sorted(set(bot) | set(broker)):
        mine, theirs = side(bot.get(symbol, 0.0)), side(broker.get(symbol, 0.0))
        if mine != theirs:
            found.append(f"{symbol}: the bot is {mine}, the broker {theirs}")
    return found


def run(params: Params, ctx: TaskContext) -> TaskOutcome:
    settled = ctx.now - params.order_grace_s
    broker_orders = open_broker_orders(ctx)
    actions: list[Action] = []
    lost = [cid for cid, sent in sorted(ctx.pending_orders.items()) if sent <= settled and cid not in broker_orders]
    actions += [ForgetPending(cid, "recovery: the broker has no open order with this id") for cid in lost]
    untracked = [
        cid
        for cid, order in sorted(broker_orders.items())
        if order.created_at <= settled and cid not in ctx.pending_orders
    ]
    actions += [CancelOrder(cid, "recovery: open at the broker but not tracked by the bot") for cid in untracked]
    positions = unexplained_positions(ctx)
    if positions:
        reason = "recovery: positions out of step with the broker: " + "; ".join(positions)
        actions.append(SetTradingState("HALTED", reason, NAME))
    details = {"forgotten": lost, "cancelled": untracked, "positions": positions}
    if not actions:
        return TaskOutcome("ok", "nothing to recover", details=details)
    parts = [
        f"{len(lost)} lost order(s) forgotten" if lost else "",
        f"{len(untracked)} untracked order(s) cancelled" if untracked else "",
        "halted: " + "; ".join(positions) if positions else "",
    ]
    return TaskOutcome("warning", ", ".join(p for p in parts if p), details=details, actions=tuple(actions))
