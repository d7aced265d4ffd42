"""Task ``expire_manual_overrides`` (seed: nightly "Expire manual overrides"): lifts every
manual override whose ``until`` has come (an override expires at its ``until``, not after).
Overrides without an expiry stay until ``rulebot resume``; ``override_audit`` warns about old ones.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.bot.tasks.base import ExpireOverride, TaskContext, TaskOutcome
from engine.bot.tasks.common import age, task_schema
from engine.language.schemagen.dsl import Schema

if TYPE_CHECKING:
    from engine.language.kinds.base import BuildContext, Doc
    from engine.language.kinds.schedules import Job

NAME = "expire_manual_overrides"
SUMMARY = "Lifts the manual overrides whose expiry has come."
READS = ("overrides",)
EFFECTS = ("ExpireOverride for each override whose until has passed",)


@dataclass(frozen=True, slots=True, kw_only=True)
class Params:
    """None: each override carries its own expiry."""


def schema() -> Schema:
    return task_schema(SUMMARY, {})


def compile_params(raw: Mapping[str, Any], jobs: Sequence[Job]) -> Params:
    return Params()


def check(params: Params, doc: Doc, path: tuple[Any, ...], ctx: BuildContext, jobs: Sequence[Job]) -> None:
    """None."""


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
