"""Rule kind ``schedules``: jobs that run at an interval or at a time of day (UTC)."""

from __future__ import annotations

from dataclasses import dataclass

from engine.language.kinds.base import BuildContext, Doc, check_unique_ids
from engine.language.schemagen.dsl import arr, document, duration, identifier, obj, ref

KIND = "schedules"
CODES = {
    "RB350": "a job interval is shorter than one second",
    "RB351": "no job runs the `bot_cycle` task, so nothing would ever trade",
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
    return Spec(jobs=jobs)


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
    if not any("bot_cycle" in job.tasks for job in spec.jobs):
        ctx.report(
            doc,
            ("jobs",),
            "RB351",
            "no job runs the bot_cycle task, so rulebot would never trade",
            key=True,
            suggestion="add `{id: bot_cycle, every: 60s, tasks: [bot_cycle]}`",
        )


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
            "tasks": arr("Tasks this job runs.", identifier("Task name."), min_items=1, unique=True),
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
        },
    )
