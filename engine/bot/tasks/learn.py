"""Task ``learn`` (seed: "Learning Engine", the continuous learning controller's cycles: fast
every 30 minutes, daily, weekly): runs the learners of learning.yaml whose ``schedule`` is the
job this task runs on.

Learning changes what the bot trades, so it is opt-in: without ``rulebot run --learn`` the task
only says that learning is off. With it, the task asks the bot for one learning cycle
(``RunLearning``); the bot reads the cycle's data window from its own store, runs the learners
(engine/learners/cycle.py) and puts each learner's applied proposals through the promotion
gate into rules/learned/, where the hot reload picks them up (engine/cli/learning_apply.py).
"""

from __future__ import annotations

from engine.bot.tasks.base import RunLearning, TaskContext, TaskOutcome
from engine.bot.tasks.common import NoParams, no_checks, no_params, task_schema
from engine.language.schemagen.dsl import Schema

NAME = "learn"
SUMMARY = "Runs the learners scheduled on this job (only with `rulebot run --learn`)."
READS = ("job_id", "learning", "plan.learning.learners")
EFFECTS = ("RunLearning (the learners whose schedule is this job)",)
#: The summary of a run without ``--learn``.
OFF = "learning is off (run with --learn)"


Params = NoParams  # the learners and their schedules are learning.yaml's.


def schema() -> Schema:
    return task_schema(SUMMARY, {})


compile_params = no_params


check = no_checks  # every learner's schedule naming a job that runs this task: crosscheck RB391


def run(params: Params, ctx: TaskContext) -> TaskOutcome:
    from engine.learners.cycle import due_learners

    learners = tuple(learner.id for learner in due_learners(ctx.plan, job=ctx.job_id))
    details = {"job": ctx.job_id, "learners": list(learners), "learning": ctx.learning}
    if not learners:
        return TaskOutcome("ok", f"no learner is scheduled on job {ctx.job_id}", details=details)
    if not ctx.learning:
        return TaskOutcome("ok", OFF, details=details)
    return TaskOutcome(
        "ok",
        f"learning cycle of {', '.join(learners)} asked",
        details=details,
        actions=(RunLearning(ctx.job_id, learners, f"job {ctx.job_id}"),),
    )
