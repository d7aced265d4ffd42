"""Learner ``signal_weight`` (seed "Signal Weight Learner"): moves the signal components'
weights towards what called the market.

From the resolved signals at one horizon (the learner's ``horizon``, else the plan's longest
≤ 1 h), each component's calls (its own direction, NEUTRAL ones not counted) are scored:
hit rate and P&L per call (the move in the direction it called, %). The hit rate is
smoothed by ``prior`` pseudo-calls, half right, so a component with few calls looks like a
coin. Its skill is its edge over a coin, ``2·p − 1`` (0 when it lost money per call or did
no better than a coin). The learnable weights' share of 1 is split in proportion to skill;
each weight's target blends that share with its current weight by how much evidence it has
(``n / (n + prior)``). The new weights are the targets projected onto what is allowed: each
within its bounds, at most ``max_step`` from its current value, at least ``min_weight``
(as far as the step allows) and, with ``renormalise``, summing to 1 with the weights that
do not move. All weight proposals of one cycle share one group: applied all or none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.language.schemagen.dsl import Schema, boolean, duration, num
from engine.learners.base import LearnerResult, LearningData, Proposal, bounded
from engine.learners.common import (
    HORIZON_CODES,
    STEP_TOLERANCE,
    at_horizon,
    check_horizon,
    confidence,
    duration_words,
    explain_proposals,
    horizon_of,
    result,
    skipped,
)

if TYPE_CHECKING:
    from engine.language.kinds.base import BuildContext, Doc
    from engine.language.kinds.learning import Learner, Spec

KIND = "signal_weight"
SUMMARY = "Moves component weights towards what worked (hit rate and P&L per call)."
CODES = dict(HORIZON_CODES)
REQUIRED_PARAMS = ("min_weight", "renormalise")
DEFAULT_PRIOR = 20.0
DECIMALS = 6  # weights are proposed on a 1e-6 grid (what a person reads in the overlay)


def params_schema() -> dict[str, Schema]:
    return {
        "min_weight": num(
            "No weight goes below this (as far as max_step allows per update).", "fraction", minimum=0, maximum=1
        ),
        "renormalise": boolean("Keep the weights summing to 1 (the signals file requires it)."),
        "horizon": duration(
            "Horizon at which calls are scored; one of signal_resolution_horizons. Default: the longest ≤ 1h.",
            positive=True,
        ),
        "prior": num(
            "Pseudo-calls (half right) each component starts with: with this many real calls its record counts half. Default 20.",
            "count",
            minimum=0,
            maximum=100000,
        ),
    }


def check(learner: Learner, doc: Doc, path: tuple[Any, ...], ctx: BuildContext, spec: Spec) -> None:
    """RB396: the horizon must be one at which signals are resolved (else nothing is scored)."""
    check_horizon(learner, doc, path, ctx, spec)


@dataclass(frozen=True, slots=True)
class Record:
    """One component's calls at the horizon."""

    calls: int
    hits: int
    pnl_pct: float  # sum of the moves in the called direction, %

    def hit_rate(self, prior: float) -> float:
        return (self.hits + prior / 2) / (self.calls + prior) if self.calls + prior else 0.5

    def skill(self, prior: float) -> float:
        if self.pnl_pct <= 0:
            return 0.0
        return max(0.0, 2 * self.hit_rate(prior) - 1)


def records(outcomes: Sequence[Any], horizon_s: float) -> dict[str, Record]:
    calls: dict[str, list[float]] = {}
    hits: dict[str, int] = {}
    for outcome in at_horizon(outcomes, horizon_s):
        for call in outcome.components:
            right = outcome.right(call.direction)
            if right is None:
                continue
            move = outcome.move_pct if call.direction == "LONG" else -outcome.move_pct
            calls.setdefault(call.component, []).append(move)
            hits[call.component] = hits.get(call.component, 0) + int(right)
    return {c: Record(len(moves), hits[c], sum(moves)) for c, moves in calls.items()}


def project(
    targets: Sequence[float],
    lows: Sequence[float],
    highs: Sequence[float],
    total: float,
    shares: Sequence[float] | None = None,
    decimals: int = DECIMALS,
) -> list[float] | None:
    """Values near ``targets`` with ``lows[i] ≤ x[i] ≤ highs[i]`` and ``sum(x) == total``
    (to float precision), on a ``10**-decimals`` grid where the bounds allow; None when no
    such values exist (the bounds cannot reach ``total``).

    ``x[i] = clip(targets[i] + λ·v[i])`` for the one λ that makes the sum right (found by
    bisection: the sum grows with λ), where ``v`` is ``shares`` (each component's share of
    the skill) plus a little for everyone: what the bounds leave over goes to the skilled
    components first, not to the ones without skill (equal ``v`` when ``shares`` is None:
    the least-squares projection). Rounding's remainder goes to the values with room."""
    n = len(targets)
    if sum(lows) > total + 1e-12 or sum(highs) < total - 1e-12:
        return None
    v = [1.0] * n if shares is None else [max(0.0, s) / (sum(shares) or 1.0) + 1e-3 for s in shares]

    def at(shift: float) -> list[float]:
        return [min(highs[i], max(lows[i], targets[i] + shift * v[i])) for i in range(n)]

    span = max(max(abs(highs[i] - targets[i]), abs(lows[i] - targets[i])) for i in range(n)) / min(v) + 1.0
    lo, hi = -span, span
    for _ in range(200):
        mid = (lo + hi) / 2
        if sum(at(mid)) < total:
            lo = mid
        else:
            hi = mid
    exact = at(hi)
    values = [min(highs[i], max(lows[i], round(exact[i], decimals))) for i in range(n)]
    for _ in range(3):  # the remainder, largest room first; twice more for float crumbs
        remainder = total - sum(values)
        if remainder == 0:
            break
        up = remainder > 0  # one direction per pass
        room = [(highs[i] - values[i]) if up else (values[i] - lows[i]) for i in range(n)]
        for i in sorted(range(n), key=lambda i: (-room[i], i)):
            move = min(abs(remainder), room[i])
            if move <= 0:
                break
            if move == room[i]:  # to the bound exactly (adding the room may miss it by an ulp)
                values[i] = highs[i] if up else lows[i]
            else:
                values[i] += move if up else -move
            remainder = total - sum(values)
            if remainder == 0 or (remainder > 0) != up:
                break
    return [min(highs[i], max(lows[i], values[i])) for i in range(n)]  # an ulp over a bound is over it


def learn(learner: Learner, data: LearningData, plan: Any) -> LearnerResult:
    horizon = horizon_of(learner, plan)
    scored = at_horizon(data.outcomes, horizon)
    inputs = {"outcomes": len(data.outcomes), f"signals at {duration_words(horizon)}": len(scored)}
    if len(scored) < learner.min_trades:
        return skipped(
            learner,
            inputs,
            f"{len(scored)} resolved signals at {duration_words(horizon)}, fewer than min_trades {learner.min_trades}",
        )
    prior = float(learner.params.get("prior", DEFAULT_PRIOR))
    floor = float(learner.params.get("min_weight", 0.0))
    by_component = records(scored, horizon)
    ids, olds, bounds = [], [], []
    fixed = 0.0
    for component in plan.signals.components:
        path = f"signals.components.{component.id}.weight"
        if path in plan.learnables and path in plan.learnable_values and component.id in by_component:
            ids.append(component.id)
            olds.append(float(plan.learnable_values[path]))
            bounds.append(plan.learnables[path])
        else:  # not learnable, or no call to judge it by: it keeps its weight
            fixed += float(plan.learnable_values.get(path, component.weight))
    if not ids:
        return skipped(learner, inputs, f"no learnable component weight made a call at {duration_words(horizon)}")
    skills = [by_component[c].skill(prior) for c in ids]
    budget = 1.0 - fixed if learner.params.get("renormalise", True) else sum(olds)
    if sum(skills) <= 0:
        return skipped(
            learner,
            inputs,
            f"no component called the moves at {duration_words(horizon)} better than a coin; weights unchanged",
        )
    shares = [budget * s / sum(skills) for s in skills]
    targets = [
        confidence(by_component[c].calls, prior) * share + (1 - confidence(by_component[c].calls, prior)) * old
        for c, share, old in zip(ids, shares, olds, strict=True)
    ]
    lows, highs = [], []
    for old, b in zip(olds, bounds, strict=True):
        reach_lo = max(float(b["min"]), old - float(b["max_step"]))
        reach_hi = min(float(b["max"]), old + float(b["max_step"]))
        lows.append(min(max(reach_lo, floor), reach_hi))
        highs.append(reach_hi)
    if learner.params.get("renormalise", True):
        news = project(targets, lows, highs, budget, skills)
        if news is None:
            return skipped(
                learner,
                inputs,
                f"the weights cannot sum to 1 within their bounds, max_step and min_weight {floor:g} this cycle",
            )
    else:
        news = [min(h, max(lo, round(t, DECIMALS))) for t, lo, h in zip(targets, lows, highs, strict=True)]
    group = f"{learner.id}.weights"
    proposals = []
    for c, old, b, new, target in zip(ids, olds, bounds, news, targets, strict=True):
        new = bounded(new, old, b)  # already inside: the projection stays within reach
        if abs(new - old) <= STEP_TOLERANCE:
            continue
        r = by_component[c]
        reason = (
            f"hit rate {r.hits / r.calls:.0%} over {r.calls} calls at {duration_words(horizon)} "
            f"(smoothed {r.hit_rate(prior):.0%}), {r.pnl_pct / r.calls:+.3f} % per call; target {target:.4f}"
        )
        proposals.append(Proposal(learner.id, f"signals.components.{c}.weight", old, new, reason, r.calls, group))
    return result(learner, inputs, proposals, "every weight is already where its record puts it")


def explain(result: LearnerResult) -> str:
    return explain_proposals(result, "weight changes, applied together or not at all")
