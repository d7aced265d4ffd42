"""Template task — copy this file to add a scheduled task (it is not registered).

A working minimal task: it warns when the equity is below ``min_equity_usd``. To make your own:

1. copy this file to ``engine/bot/tasks/<your_task>.py`` and replace ``template_task``
   everywhere (NAME below, this docstring) by your task's name;
2. change SUMMARY, READS, EFFECTS, Params, schema(), compile_params(), check(), run();
3. add the module to the list in ``engine/bot/tasks/__init__.py`` (one line);
4. run ``python -m engine.language.schemagen`` (schemas/schedules.schema.json gains your
   ``tasks:`` entry) and ``python -m engine.docgen`` (docs/reference/tasks.md), add tests
   with the fake context of tests/bot/fakes.py, and schedule it in rules/schedules.yaml.

``run`` must be pure: read ``params`` and ``ctx`` only (the clock is ``ctx.now``), never the
wall clock, files or the network, and answer with a ``TaskOutcome``; the bot applies its
``actions`` and writes its ``files``. A task the loop runs itself sets ``LOOP_TASK = True``
and has no ``run`` (see bot_cycle.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.bot.tasks.base import TaskContext, TaskOutcome
from engine.bot.tasks.common import task_schema
from engine.language.schemagen.dsl import Schema, num

if TYPE_CHECKING:  # the rule language imports the tasks, not the other way round
    from engine.language.kinds.base import BuildContext, Doc
    from engine.language.kinds.schedules import Job

# CHANGE: the name a job lists under `tasks:` (unique among the tasks).
NAME = "template_task"
# CHANGE: one line, what the task does (the schema entry's description and the docs' summary).
SUMMARY = "Warns when the equity is below a minimum."
# CHANGE: the TaskContext fields (and plan parts) run() reads, and what it can answer.
READS = ("equity_usd",)
EFFECTS = ("warning",)


# CHANGE: the typed parameters with their defaults (durations in seconds, named ``*_s``).
@dataclass(frozen=True, slots=True, kw_only=True)
class Params:
    min_equity_usd: float = 100.0


def schema() -> Schema:
    """CHANGE: one entry per Params field, each with the same default (every one is optional)."""
    return task_schema(SUMMARY, {"min_equity_usd": num("Warn below this equity.", "USD", minimum=0, default=100)})


def compile_params(raw: Mapping[str, Any], jobs: Sequence[Job]) -> Params:
    """``raw`` is this task's schema-checked entry (defaults filled, durations in seconds), or
    ``{}`` when schedules.yaml does not mention the task; ``jobs`` are the compiled jobs."""
    return Params(min_equity_usd=raw.get("min_equity_usd", 100.0))


def check(params: Params, doc: Doc, path: tuple[Any, ...], ctx: BuildContext, jobs: Sequence[Job]) -> None:
    """CHANGE: semantic checks the schema cannot express: ``ctx.report(doc, path + (field,),
    "RB3xx", message, suggestion=...)``, with a new code in engine/language/kinds/schedules.py's
    CODES. This task has none."""


def run(params: Params, ctx: TaskContext) -> TaskOutcome:
    """CHANGE: pure — the same ``params`` and ``ctx`` always give the same outcome."""
    if ctx.equity_usd < params.min_equity_usd:
        return TaskOutcome("warning", f"equity {ctx.equity_usd:.2f} USD below {params.min_equity_usd:g} USD")
    return TaskOutcome("ok", f"equity {ctx.equity_usd:.2f} USD")
