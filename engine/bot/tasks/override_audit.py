"""Task ``override_audit`` (seed: scheduler "Override audit", every 10 minutes): the manual
overrides in force, each with its age and the time it has left.

An override set without an expiry (``rulebot halt|reduce`` without ``--for``) and older than
``max_override_age`` is a warning: a halt forgotten over the weekend costs every trade the
rules would have made. It changes nothing itself; ``expire_manual_overrides`` lifts the
overrides whose time is up.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.bot.tasks.base import TaskContext, TaskOutcome
from engine.bot.tasks.common import age, task_schema
from engine.language.schemagen.dsl import Schema, duration

if TYPE_CHECKING:
    from engine.language.kinds.base import BuildContext, Doc
    from engine.language.kinds.schedules import Job

NAME = "override_audit"
SUMMARY = "Lists the manual overrides with age and time left; warns on old ones without an expiry."
READS = ("overrides",)
EFFECTS = ("warning naming each override older than max_override_age without an expiry",)


@dataclass(frozen=True, slots=True, kw_only=True)
class Params:
    max_override_age_s: float = 86400.0


def schema() -> Schema:
    return task_schema(
        SUMMARY,
        {"max_override_age": duration("Warn about an override without expiry older than this.", default="24h")},
    )


def compile_params(raw: Mapping[str, Any], jobs: Sequence[Job]) -> Params:
    return Params(max_override_age_s=raw.get("max_override_age", 86400.0))


def check(params: Params, doc: Doc, path: tuple[Any, ...], ctx: BuildContext, jobs: Sequence[Job]) -> None:
    """None."""


def run(params: Params, ctx: TaskContext) -> TaskOutcome:
    listed: list[dict[str, Any]] = []
    words: list[str] = []
    old: list[str] = []
    in_force = (o for o in ctx.overrides if o.until is None or o.until > ctx.now)  # expired: expire_manual_overrides'
    for override in sorted(in_force, key=lambda o: (o.set_ts, o.id)):
        held = ctx.now - override.set_ts
        left = None if override.until is None else override.until - ctx.now
        listed.append(
            {
                "id": override.id,
                "state": override.state,
                "reason": override.reason,
                "source": override.source,
                "age_s": held,
                "left_s": left,
            }
        )
        words.append(
            f"{override.id} {override.state} for {age(held)}"
            + (", no expiry" if left is None else f", {age(left)} left")
        )
        if override.until is None and held > params.max_override_age_s:
            old.append(f"{override.id} ({override.state}: {override.reason}) set {age(held)} ago, no expiry")
    details = {"overrides": listed, "too_old": old}
    if old:
        return TaskOutcome(
            "warning", f"{len(old)} override(s) without expiry for too long: " + "; ".join(old), details=details
        )
    if not listed:
        return TaskOutcome("ok", "no manual override in force", details=details)
    return TaskOutcome("ok", f"{len(listed)} override(s): " + "; ".join(words), details=details)
