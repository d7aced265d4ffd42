"""Task ``maintenance`` (seed: "Self-Governance — Maintenance", daily: data cleanup, log
rotation, system optimisation), as far as it can be decided from the records.

Log rotation is already done by the bot (each day's lines close into
``<log>.<day>.jsonl.gz``); this task asks the bot to delete the closed days older than
``learning.logs.keep`` (``PruneLogs``) and names the files due, and to tidy the state database
(``OptimizeState``: SQLite ``PRAGMA optimize``, and a WAL checkpoint so the write-ahead log of
a process that never exits does not grow without bound).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from engine.bot.tasks.base import OptimizeState, PruneLogs, TaskContext, TaskOutcome
from engine.bot.tasks.common import NoParams, no_checks, no_params, task_schema
from engine.language.durations import format_duration
from engine.language.schemagen.dsl import Schema

NAME = "maintenance"
SUMMARY = "Prunes closed log days past learning.logs.keep and tidies the state database."
READS = ("log_sizes", "plan.learning.logs_keep_s")
EFFECTS = ("PruneLogs (the closed days before the retention)", "OptimizeState")
#: A closed day of a log, as the bot's log files name it (adapters/store/outbox.py DAY_FILE).
DAY_FILE = re.compile(r"^(?P<stem>.+)\.(?P<day>\d{4}-\d{2}-\d{2})\.jsonl\.gz$")


Params = NoParams  # the retention is ``learning.logs.keep``, shared with ``rulebot paper``.


def schema() -> Schema:
    return task_schema(SUMMARY, {})


compile_params = no_params


check = no_checks


def oldest_kept(now: float, keep_s: float) -> str:
    """The first UTC day whose closed log files are kept (the same rule as ``rulebot paper``)."""
    return datetime.fromtimestamp(now - keep_s, UTC).strftime("%Y-%m-%d")


def run(params: Params, ctx: TaskContext) -> TaskOutcome:
    keep_s = ctx.plan.learning.logs_keep_s
    before = oldest_kept(ctx.now, keep_s)
    due = sorted(
        name for name in ctx.log_sizes if (match := DAY_FILE.match(name)) is not None and match["day"] < before
    )
    freed = sum(ctx.log_sizes[name] for name in due)
    actions = (
        PruneLogs(before, f"learning.logs.keep is {format_duration(keep_s)}"),
        OptimizeState("daily maintenance"),
    )
    summary = (
        f"{len(due)} closed log file(s) from before {before} due for pruning ({freed / 1e6:.1f} MB); state tidied"
        if due
        else f"no closed log file from before {before}; state tidied"
    )
    return TaskOutcome("ok", summary, details={"before_day": before, "due": due, "bytes": freed}, actions=actions)
