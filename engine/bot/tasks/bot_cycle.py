"""Task ``bot_cycle``: one trading cycle, run by the bot's loop itself (``LOOP_TASK``).

It has no ``run()``: the cycle changes trading state, and the loop (engine/bot/loop.py) is the
one place that does, by stepping the Runner (engine/trading/runner.py) with the cycle's
snapshot. The seed's ordered steps ("Main Bot Cycle") and where each one lives:

1. portfolio reconciliation when due: its own hourly job (``portfolio_reconciliation``);
2. venue enforcement: the compiled plan only knows the execution venue (futures only);
3. heartbeats: the loop records a beat per subsystem (``loop`` and, while its thread
   lives, ``reloader`` at the start of each cycle, before its tasks; ``feed`` when a
   snapshot arrives); the ``watchdog`` task reads them;
4. kill-switch check: drawdown, win rate and reject rate against ``risk.yaml``'s kill
   switch, in the runner's risk state (the trading-state gate refuses entries);
5. metrics refresh: the runner's rolling metrics, updated by every closed trade;
6. risk check: margin and portfolio value before any order (``engine/trading/portfolio``);
7. regime: the regime features of the snapshot (``engine/trading/features``);
8. capital allocation: sizing per symbol (``engine/trading/sizing``);
9. signals per symbol: the vote, the gate chain and the entry (``engine/trading/pipeline``);
10. position monitoring: peaks, troughs and the exit ladder (``engine/trading/exits``).

The seed's step 11 (the 30-minute learning cycle) is a job of its own, ``learning_fast``, whose
task ``learn`` runs the learners. The cycle has no parameters of its own: its interval is the
job's ``every``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from engine.bot.tasks.base import BOT_CYCLE
from engine.bot.tasks.common import NoParams, no_params, task_schema
from engine.language.schemagen.dsl import Schema

if TYPE_CHECKING:
    from engine.language.kinds.base import BuildContext, Doc
    from engine.language.kinds.schedules import Job

NAME = BOT_CYCLE
SUMMARY = "One trading cycle: the runner steps the snapshot through the seed's ordered steps."
READS = ("the snapshot of the cycle", "the live plan", "the runner's positions and orders")
EFFECTS = ("orders, fills, positions and trades through the runner (the loop runs it)",)
#: The loop runs this task itself (it steps the Runner); the registry gives it no ``run()``.
LOOP_TASK = True


Params = NoParams  # the cycle's interval is its job's ``every``.


def schema() -> Schema:
    return task_schema(SUMMARY, {})


compile_params = no_params


def check(params: Params, doc: Doc, path: tuple[Any, ...], ctx: BuildContext, jobs: Sequence[Job]) -> None:
    """Nothing beyond RB351 (no job runs the cycle), which the schedules kind checks."""
