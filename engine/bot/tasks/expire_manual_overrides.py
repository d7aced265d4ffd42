"""Task ``expire_manual_overrides`` (seed: nightly "Expire manual overrides"): lifts every
manual override whose ``until`` has come (an override expires at its ``until``, not after).
Overrides without an expiry stay until ``rulebot resume``; ``override_audit`` warns about old ones.
"""

from __future__ import annotations

from engine.bot.tasks.base import ExpireOverride, TaskContext, TaskOutcome
from engine.bot.tasks.common import NoParams, age, no_checks, no_params, task_schema
from engine.language.schemagen.dsl import Schema

NAME = "expire_manual_overrides"
SUMMARY = "Lifts the manual overrides whose expiry has come."
READS = ("overrides",)
EFFECTS = ("ExpireOverride for each override whose until has passed",)


Params = NoParams  # each override carries its own expiry.


def schema() -> Schema:
    return task_schema(SUMMARY, {})


compile_params = no_params


check = no_checks


def run(params: Params, ctx: TaskContext) -> TaskOutcome:
    due = sorted(
        (o for o in ctx.overrides if o.until is not None and o.until <= ctx.now), key=lambda o: (o.until, o.id)
    )
    actions = tuple(
        ExpireOverride(o.id, f"expired {age(ctx.now - o.until)} ago ({o.state}: {o.reason})")
        for o in due
        if o.until is not None
    )
    if not actions:
        return TaskOutcome("ok", "no override has expired", details={"expired": []})
    return TaskOutcome(
        "ok",
        f"{len(actions)} expired override(s) lifted: " + ", ".join(a.override_id for a in actions),
        details={"expired": [a.override_id for a in actions]},
        actions=actions,
    )
