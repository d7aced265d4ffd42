"""Helpers the task modules share: their schema shape, the net position per symbol, lifting
a state a task set, ages in words. Not a task (it is not in the registry)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.bot.tasks.base import BOT_CYCLE, SetTradingState, TaskContext
from engine.language.schemagen.dsl import Schema, obj

if TYPE_CHECKING:  # the rule language imports the tasks, not the other way round
    from engine.language.kinds.base import BuildContext, Doc
    from engine.language.kinds.schedules import Job

#: The bot cycle's interval when no job runs it (validate reports that as RB351 anyway).
DEFAULT_CYCLE_S = 60.0


@dataclass(frozen=True, slots=True)
class NoParams:
    """The parameters of a task that has none (its rules are elsewhere, or it needs none)."""


def no_params(raw: Mapping[str, Any], jobs: Sequence[Job]) -> NoParams:
    """``compile_params`` of a task without parameters."""
    return NoParams()


def no_checks(params: object, doc: Doc, path: tuple[Any, ...], ctx: BuildContext, jobs: Sequence[Job]) -> None:
    """``check`` of a task with nothing to check beyond its schema."""


def task_schema(summary: str, properties: dict[str, Schema]) -> Schema:
    """A task's parameters: every field optional (each has its module default)."""
    return obj(summary, properties, required=[])


def cycle_interval(jobs: Sequence[Job]) -> float:
    """Seconds between two bot cycles: the shortest interval of the jobs that run ``bot_cycle``."""
    intervals = [j.every_s for j in jobs if BOT_CYCLE in j.tasks and j.every_s is not None]
    return min(intervals) if intervals else DEFAULT_CYCLE_S


def net_bot_positions(positions: Iterable[Any]) -> dict[str, float]:
    """Signed base quantity per symbol of the runner's open positions (+ long, − short)."""
    net: dict[str, float] = {}
    for pos in positions:
        sign = 1.0 if pos.direction == "LONG" else -1.0
        net[pos.symbol] = net.get(pos.symbol, 0.0) + sign * pos.quantity
    return net


def net_broker_positions(positions: Iterable[Any]) -> dict[str, float]:
    """Signed base quantity per symbol of the broker's positions (one-way mode)."""
    net: dict[str, float] = {}
    for pos in positions:
        net[pos.symbol] = net.get(pos.symbol, 0.0) + pos.quantity
    return net


def side(quantity: float) -> str:
    """``long``, ``short`` or ``flat`` for a signed quantity."""
    return "long" if quantity > 0 else "short" if quantity < 0 else "flat"


def open_broker_orders(ctx: TaskContext) -> dict[str, Any]:
    """The broker's orders still open, by client order id."""
    return {o.client_order_id: o for o in ctx.broker_open_orders if o.status == "open"}


def lift(ctx: TaskContext, source: str, reason: str) -> tuple[SetTradingState, ...]:
    """Back to ACTIVE when trading is restricted: the bot applies it only when ``source`` set
    the current state, so a task never lifts an operator's halt or another task's."""
    if ctx.trading_state[0] == "ACTIVE":
        return ()
    return (SetTradingState("ACTIVE", reason, source),)


_AGE_UNITS = (("d", 86400.0), ("h", 3600.0), ("m", 60.0))


def age(seconds: float) -> str:
    """A duration a person reads, in its largest unit to a tenth (``1d``, ``1.5m``, ``42s``):
    ``86401s`` says less to an operator than ``1d``."""
    seconds = max(seconds, 0.0)
    for unit, size in _AGE_UNITS:
        if seconds >= size:
            return f"{math.floor(seconds / size * 10) / 10:g}{unit}"
    return f"{math.floor(seconds):d}s"


def last_run_ts(ctx: TaskContext, task: str) -> float | None:
    """When ``task`` last ran (the clock's time), from the runs the bot kept; None if never."""
    runs = [r.started_ts for r in ctx.recent_runs if r.task == task]
    return max(runs) if runs else None


def plain(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON-ready copy of a mapping (details must serialise)."""
    return {str(k): v for k, v in mapping.items()}
