"""One learning cycle, pure: which learners run, what each proposes, what the orchestrator
applies and refuses, and the audit line that records it all. The same function serves the
bot's scheduled ``learn`` task, ``rulebot learn`` and ``dry-run --learn`` (walk-forward on
simulated time): what differs is only where the data comes from and who writes the result.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from engine.learners import learner_module
from engine.learners.base import LearnerResult, LearningData, Proposal
from engine.learners.orchestrator import Decision, decide
from engine.versions.audit import cycle_record

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Cycle:
    """What one learning cycle found: every learner's result and the orchestrator's decision."""

    ts: float  # the clock's time of the cycle
    version: str  # the rule-set version the learners read
    job: str | None  # the schedule job that ran it (None: `rulebot learn`, or --learner)
    data: LearningData
    results: tuple[LearnerResult, ...]
    decision: Decision

    def by_learner(self) -> list[tuple[str, tuple[Proposal, ...]]]:
        """The applied proposals grouped per learner, in the order the learners ran: each
        becomes one learned overlay (one author per version)."""
        out: dict[str, list[Proposal]] = {}
        for p in self.decision.applied:
            out.setdefault(p.learner, []).append(p)
        order = [r.learner for r in self.results]
        return [(learner, tuple(out[learner])) for learner in order if learner in out]

    def audit(self, outcomes: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
        """The audit line (logs/learning_audit.jsonl, event ``cycle``): inputs counted, each
        learner's proposals or why none, what the orchestrator applied or refused and why, and
        ``outcomes``: what became of each learner's write (promotion gate, write-back)."""
        extra = {
            "job": self.job,
            "version": self.version,
            "inputs": {"outcomes": len(self.data.outcomes), "trades": len(self.data.trades)},
            **self.decision.audit(),
            "outcomes": [dict(o) for o in outcomes],
        }
        return cycle_record(self.ts, self.data.window_from, self.data.window_to, self.results, extra)


def due_learners(plan: Any, *, job: str | None = None, only: str | None = None) -> tuple[Any, ...]:
    """The learners of ``plan`` a cycle runs: those scheduled on ``job``, or the one named
    ``only``, or (neither given) all of them. KeyError names an unknown ``only``."""
    learners = tuple(plan.learning.learners)
    if only is not None:
        chosen = tuple(learner for learner in learners if learner.id == only)
        if not chosen:
            raise KeyError(only)
        return chosen
    if job is not None:
        return tuple(learner for learner in learners if learner.schedule == job)
    return learners


def window(plan: Any, now: float) -> tuple[float, float]:
    """The data window a cycle at ``now`` reads: the rules' ``trade_lookback`` up to now."""
    return now - plan.learning.trade_lookback_s, now


def run_cycle(plan: Any, data: LearningData, learners: Sequence[Any], *, now: float, job: str | None = None) -> Cycle:
    """Run ``learners`` (in order) on ``data`` and decide what is applied. A learner that
    raises is a bug: it is logged and counted as skipped, the others still run."""
    results = []
    for learner in learners:
        try:
            results.append(learner_module(learner.kind).learn(learner, data, plan))
        except Exception as exc:  # one learner's bug must not stop the others (audited)
            logger.exception("learner %s failed", learner.id)
            results.append(LearnerResult(learner.id, learner.kind, skipped=f"failed: {type(exc).__name__}: {exc}"))
    decision = decide(results, plan)
    cycle = Cycle(now, plan.version, job, data, tuple(results), decision)
    logger.info(
        "learning cycle at %s on %s: %d learner(s), %d proposal(s) applied, %d refused",
        now,
        plan.version,
        len(results),
        len(decision.applied),
        len(decision.refused),
    )
    return cycle
