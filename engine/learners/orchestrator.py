"""The meta orchestrator (seed "Meta-Learning Orchestrator"): of one cycle's proposals, which
are applied and which are refused, and why. Pure: it writes nothing (the write-back turns
what it applies into a learned overlay; the cycle's audit line records both lists).

Rules, in order:

1. a proposal must name a learnable value of the plan, start from its current value and
   stay within its bounds and ``max_step`` (base.bounded) — else it is refused;
2. several proposals on one value: opposite directions refuse them all (the learners
   disagree); the same direction keeps the smallest move, the others are refused;
3. a group (proposals that only make sense together, such as weights summing to 1) is
   applied whole or not at all: one refused member refuses the group.

So at most one change per value per cycle. Rules 3 and 2 are repeated until nothing
changes: a group refused in rule 3 (say, for a member outside its bounds) no longer takes
part in rule 2, so another learner's proposal on the same value may then be applied;
learners that disagree on a value are refused for good.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from engine.learners.base import LearnerResult, Proposal, bounded
from engine.learners.common import SAME, STEP_TOLERANCE

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Refusal:
    proposal: Proposal
    reason: str


@dataclass(frozen=True, slots=True)
class Decision:
    """What one cycle applies (at most one proposal per value) and what it refuses, with why."""

    applied: tuple[Proposal, ...]
    refused: tuple[Refusal, ...]

    def values(self) -> dict[str, float]:
        """Parameter path → the new value, of what is applied."""
        return {p.path: p.new for p in self.applied}

    def audit(self) -> dict[str, Any]:
        """The applied and refused proposals as plain data (the audit line's content)."""
        return {
            "applied": [_plain(p) for p in self.applied],
            "refused": [{**_plain(r.proposal), "refused": r.reason} for r in self.refused],
        }


def _plain(p: Proposal) -> dict[str, Any]:
    return {
        "learner": p.learner,
        "path": p.path,
        "old": p.old,
        "new": p.new,
        "reason": p.reason,
        "evidence": p.evidence,
        "group": p.group,
    }


def _invalid(p: Proposal, learnables: Mapping[str, Mapping[str, Any]], values: Mapping[str, Any]) -> str | None:
    bounds = learnables.get(p.path)
    if bounds is None or p.path not in values:
        return f"{p.path} is not learnable (no `learn` bounds in the rules)"
    now = float(values[p.path])
    if abs(p.old - now) > SAME:
        return f"it starts from {p.old:g}, but {p.path} is {now:g} now"
    if abs(p.new - p.old) <= SAME:
        return "it does not change the value"
    lo, hi, step = float(bounds["min"]), float(bounds["max"]), float(bounds["max_step"])
    if not lo <= p.new <= hi:
        return f"{p.new:g} is outside the bounds {lo:g}…{hi:g}"
    if abs(p.new - now) > step + STEP_TOLERANCE or abs(bounded(p.new, now, bounds) - p.new) > STEP_TOLERANCE:
        return f"moving {now:g} → {p.new:g} exceeds max_step {step:g}"
    return None


def _refuse_groups(proposals: list[Proposal], reasons: dict[int, str]) -> bool:
    """Refuse every member of a group with a refused member; whether any was new."""
    dead: dict[str, tuple[str, str]] = {}
    for i, why in reasons.items():
        group = proposals[i].group
        if group is not None:
            dead.setdefault(group, (proposals[i].path, why))
    newly = False
    for i, p in enumerate(proposals):
        if i not in reasons and p.group in dead:
            path, why = dead[p.group]
            reasons[i] = f"its group {p.group} is applied whole or not at all, and {path} was refused: {why}"
            newly = True
    return newly


def _direction(p: Proposal) -> int:
    return 1 if p.new > p.old else -1


def decide(results: Iterable[LearnerResult], plan: Any) -> Decision:
    """The applied and refused proposals of one cycle over ``results`` (in the order given,
    which breaks ties between equal moves: the first wins)."""
    proposals = [p for r in results for p in r.proposals]
    reasons: dict[int, str] = {}  # index → why refused, for good (invalid, or its group refused)
    for i, p in enumerate(proposals):
        why = _invalid(p, plan.learnables, plan.learnable_values)
        if why is not None:
            reasons[i] = why
    while True:
        newly = _refuse_groups(proposals, reasons)
        lost: dict[int, str] = {}  # refused in this round by rule 2
        by_path: dict[str, list[int]] = {}
        for i, p in enumerate(proposals):
            if i not in reasons:
                by_path.setdefault(p.path, []).append(i)
        for path, members in by_path.items():
            if len(members) < 2:
                continue
            if len({_direction(proposals[i]) for i in members}) > 1:  # for good: they disagree
                who = ", ".join(f"{proposals[i].learner} {proposals[i].old:g} → {proposals[i].new:g}" for i in members)
                for i in members:
                    reasons[i] = f"learners disagree on the direction of {path} ({who})"
                newly = True
                continue
            winner = min(members, key=lambda i: abs(proposals[i].new - proposals[i].old))
            w = proposals[winner]
            for i in members:
                if i != winner:
                    lost[i] = f"a smaller move on {path} won ({w.learner}: {w.old:g} → {w.new:g})"
                    if proposals[i].group is not None:  # its group cannot be applied whole: for good
                        reasons[i] = lost[i]
                        newly = True
        if not newly:
            break
    final = {**lost, **reasons}  # the last round's losers are all outside groups
    applied = tuple(p for i, p in enumerate(proposals) if i not in final)
    refused = tuple(Refusal(proposals[i], final[i]) for i in sorted(final))
    for r in refused:
        log.info("learning: refused %s %s → %g: %s", r.proposal.learner, r.proposal.path, r.proposal.new, r.reason)
    return Decision(applied, refused)


def explain(decision: Decision) -> str:
    """The decision in words, one line per proposal."""
    lines = [f"{len(decision.applied)} applied, {len(decision.refused)} refused"]
    lines += [f"  applied {p.path}: {p.old:g} → {p.new:g} ({p.learner})" for p in decision.applied]
    lines += [
        f"  refused {r.proposal.path}: {r.proposal.old:g} → {r.proposal.new:g} ({r.proposal.learner}) — {r.reason}"
        for r in decision.refused
    ]
    return "\n".join(lines)
