"""Template learner — copy this file to add a learner kind (it is not registered).

A working minimal learner: it nudges the fee gate's ``min_edge_after_fees_pct`` one step
down when most closed trades won. To make your own:

1. copy this file to ``engine/learners/<your_kind>.py`` and replace ``template`` everywhere
   (KIND below, this docstring) by your learner's kind;
2. change SUMMARY, CODES, REQUIRED_PARAMS, params_schema(), check(), learn(), explain();
3. add the module to the list in ``engine/learners/__init__.py`` (one line);
4. run ``python -m engine.language.schemagen`` (schemas/learning.schema.json gains your
   variant) and ``python -m engine.docgen`` (docs/reference/learning.md), add known-answer
   tests under tests/learners/, say in docs/learning.md what it changes and from what, and
   declare it in rules/learning.yaml.

``learn`` must be pure: read ``learner``, ``data`` and ``plan`` only — no clock, files or
network — and propose only values in ``plan.learnables``, through ``common.propose`` (which
applies base.bounded: at most ``max_step``, within ``min``…``max``). Below ``min_trades`` it
answers ``common.skipped`` with the reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.language.schemagen.dsl import Schema, num
from engine.learners.base import LearnerResult, LearningData
from engine.learners.common import explain_proposals, propose, result, skipped

if TYPE_CHECKING:
    from engine.language.kinds.base import BuildContext, Doc
    from engine.language.kinds.learning import Learner, Spec

# CHANGE: the `kind:` of the learner in rules/learning.yaml (unique among the learners).
KIND = "template"
# CHANGE: one line, what it learns (the schema variant's description).
SUMMARY = "Loosens the fee gate one step when most trades won."
# CHANGE: the codes check() can report (a new RB39x, described once).
CODES: dict[str, str] = {}
# CHANGE: the fields of params_schema() a learner entry must give.
REQUIRED_PARAMS: tuple[str, ...] = ()
PATH = "gates.chain.fee.min_edge_after_fees_pct"


def params_schema() -> dict[str, Schema]:
    """CHANGE: the learner's own fields (id, kind, schedule and min_trades are common)."""
    return {
        "win_rate": num(
            "Share of winning trades above which the gate loosens. Default 0.6.", "fraction", minimum=0, maximum=1
        )
    }


def check(learner: Learner, doc: Doc, path: tuple[Any, ...], ctx: BuildContext, spec: Spec) -> None:
    """CHANGE: semantic checks the schema cannot express: ``ctx.report(doc, path + (field,),
    "RB39x", message, suggestion=...)``. This learner has none."""


def learn(learner: Learner, data: LearningData, plan: Any) -> LearnerResult:
    """CHANGE: pure — the same inputs always give the same proposals."""
    inputs = {"trades": len(data.trades)}
    if len(data.trades) < learner.min_trades:
        return skipped(learner, inputs, f"{len(data.trades)} closed trades, fewer than min_trades {learner.min_trades}")
    won = sum(1 for t in data.trades if t.net_pnl > 0) / len(data.trades)
    if won < float(learner.params.get("win_rate", 0.6)) or PATH not in plan.learnables:
        return skipped(learner, inputs, f"{won:.0%} of trades won; nothing to loosen")
    step = float(plan.learnables[PATH]["max_step"])
    proposal = propose(
        learner, plan, PATH, float(plan.learnable_values[PATH]) - step, f"{won:.0%} of trades won", len(data.trades)
    )
    return result(learner, inputs, [proposal] if proposal else [], "already at its bound")


def explain(result: LearnerResult) -> str:
    return explain_proposals(result, "changes")
