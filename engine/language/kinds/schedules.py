"""Rule kind ``schedules``: jobs that run at an interval or at a time of day (UTC), the tasks
they run (each resolved through the registry of engine/bot/tasks) and those tasks' parameters."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from engine.bot import tasks
from engine.language.diagnostics import Severity, did_you_mean
from engine.language.kinds.base import BuildContext, Doc, check_unique_ids
from engine.language.schemagen.dsl import arr, document, duration, identifier, obj, ref

KIND = "schedules"
CODES = {
    "RB350": "a job interval is shorter than one second",
    "RB351": "no job runs the `bot_cycle` task, so nothing would ever trade",
    "RB352": "a job names a task that does not exist",
    "RB353": "parameters for a task that no job runs (a warning: they have no effect)",
    "RB354": "the watchdog's heartbeat_stale_after is not longer than the bot cycle",
}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True, kw_only=True)
class Job:
    id: str
    every_s: float | None  # interval jobs
    at_minute: int | None  # minute of the UTC day, for time-of-day jobs
    weekdays: tuple[int, ...]  # 0 = Monday; empty = every day
    tasks: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Spec:
    jobs: tuple[Job, ...]
    task_params: Mapping[str, Any]  # every registered task -> its Params (module defaults unless set)

    def job(self, job_id: str) -> Job | None:
        return next((j for j in self.jobs if j.id == job_id), None)


def _minute_of_day(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def build(doc: Doc, ctx: BuildContext) -> Spec:
    jobs = tuple(
        Job(
            id=raw["id"],
            every_s=raw.get("every"),
            at_minute=_minute_of_day(raw["at"]) if "at" in raw else None,
            weekdays=tuple(WEEKDAYS.index(d) for d in raw.get("weekdays", ())),
            tasks=tuple(raw["tasks"]),
        )
        for raw in doc.frozen["jobs"]
    )
    given = doc.frozen.get("tasks", {})
    task_params = {name: module.compile_params(given.get(name, {}), jobs) for name, module in tasks.TASKS.items()}
    return Spec(jobs=jobs, task_params=MappingProxyType(task_params))


def check(spec: Spec, doc: Doc, ctx: BuildContext) -> None:
    check_unique_ids(doc, ("jobs",), ctx, "job")
    for index, job in enumerate(spec.jobs):
        if job.every_s is not None and job.every_s < 1:
            ctx.report(
                doc,
                ("jobs", index, "every"),
                "RB350",
                f"job {job.id} would run every {job.every_s:g} s; the shortest interval is 1s",
            )
    _check_tasks(spec, doc, ctx)
    if not any(tasks.base.BOT_CYCLE in job.tasks for job in spec.jobs):
        ctx.report(
            doc,
            ("jobs",),
            "RB351",
            "no job runs the bot_cycle task, so rulebot would never trade",
            key=True,
            suggestion="add `{id: bot_cycle, every: 60s, tasks: [bot_cycle]}`",
        )


def _check_tasks(spec: Spec, doc: Doc, ctx: BuildContext) -> None:
    """Every task a job names must be registered (RB352: each unknown name is its own error);
    parameters for a task no job runs do nothing (RB353, a warning); then each task's own checks."""
    known = list(tasks.TASKS)
    for index, job in enumerate(spec.jobs):
        for position, name in enumerate(job.tasks):
            if name not in tasks.TASKS:
                ctx.report(
                    doc,
                    ("jobs", index, "tasks", position),
                    "RB352",
                    f"job {job.id}: no task '{name}'; the tasks are {', '.join(known)}",
                    suggestion=did_you_mean(name, known),
                )
    scheduled = {name for job in spec.jobs for name in job.tasks}
    given = doc.frozen.get("tasks", {})
    for name in given:
        if name not in scheduled:
            ctx.report(
                doc,
                ("tasks", name),
                "RB353",
                f"parameters for task {name}, which no job runs: they have no effect",
                suggestion=f"add {name} to a job's tasks, or remove its entry",
                key=True,
                severity=Severity.WARNING,
            )
    for name, params in spec.task_params.items():
        tasks.TASKS[name].check(params, doc, ("tasks", name), ctx, spec.jobs)


def schema() -> dict:
    """The JSON Schema of a `schedules` rule file (written to schemas/schedules.schema.json)."""
    job = obj(
        "One job: either `every` or `at`.",
        {
            "id": identifier("Name of this job."),
            "every": duration("Run at this interval.", default=None),
            "at": ref("time_of_day", "Run daily at this UTC time.", "time"),
            "weekdays": arr(
                "Only on these days (with `at`).", ref("weekday", "Day.", "enum"), unique=True, min_items=1
            ),
            "tasks": arr(
                "Tasks this job runs (docs/reference/tasks.md); may be empty for a job that only "
                "learners name (learning.yaml `schedule`).",
                identifier("Task name."),
                unique=True,
            ),
        },
        required=["id", "tasks"],
    )
    job["oneOf"] = [
        {"required": ["every"], "not": {"anyOf": [{"required": ["at"]}, {"required": ["weekdays"]}]}},
        {"required": ["at"], "not": {"required": ["every"]}},
    ]
    return document(
        "schedules",
        "schedules",
        "When jobs run (seed: Timing & Update Cycles).",
        {
            "jobs": arr("The jobs.", job, min_items=1),
            "tasks": tasks_schema(),
        },
    )


def tasks_schema() -> dict:
    """``tasks:``: each registered task's parameters under its name, all optional."""
    schema = obj(
        "Parameters of the tasks, by task name; a task left out (or a field) takes its defaults.",
        {name: module.schema() for name, module in tasks.TASKS.items()},
        required=[],
    )
    schema["default"] = {}
    return schema
