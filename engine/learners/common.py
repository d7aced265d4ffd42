"""Helpers the learner modules share: looking up a learnable value, turning a target into a
bounded proposal, smoothing small samples, words for numbers. Not a learner (it is not in
the registry)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from engine.learners.base import LearnerResult, Proposal, bounded

if TYPE_CHECKING:
    from engine.language.kinds.base import BuildContext, Doc
    from engine.language.kinds.learning import Learner, Spec

#: The check of a learner's ``horizon`` (the learners that read resolved signals list it in their CODES).
HORIZON_CODES = {"RB396": "a learner's horizon is not one of signal_resolution_horizons"}
#: The default scoring horizon of the learners that read resolved signals: the longest ≤ this.
LONGEST_DEFAULT_S = 3600.0
#: Values closer than this are the same value (a proposal that moves less is no proposal).
SAME = 1e-12
#: Tolerance of the compiler's max_step check (RB523); a tidied value never uses more.
STEP_TOLERANCE = 1e-12


def skipped(learner: Learner, inputs: Mapping[str, int], reason: str, notes: Sequence[str] = ()) -> LearnerResult:
    """A cycle in which ``learner`` proposes nothing, and why."""
    return LearnerResult(learner.id, learner.kind, MappingProxyType(dict(inputs)), (), reason, tuple(notes))


def result(
    learner: Learner,
    inputs: Mapping[str, int],
    proposals: Sequence[Proposal],
    none_reason: str,
    notes: Sequence[str] = (),
) -> LearnerResult:
    """The learner's answer: its proposals, or ``none_reason`` when every value stays put."""
    if not proposals:
        return skipped(learner, inputs, none_reason, notes)
    return LearnerResult(learner.id, learner.kind, MappingProxyType(dict(inputs)), tuple(proposals), None, tuple(notes))


def current(plan: Any, path: str) -> tuple[float, Mapping[str, Any]] | None:
    """(current value, bounds) of learnable ``path``, or None when the plan does not let a
    learner change it (no ``learn`` bounds on it in the human file)."""
    bounds = plan.learnables.get(path)
    if bounds is None or path not in plan.learnable_values:
        return None
    return float(plan.learnable_values[path]), bounds


def tidy(value: float, old: float, bounds: Mapping[str, Any], decimals: int = 10) -> float:
    """``value`` without float noise (0.030000000000000002 → 0.03) when rounding keeps it
    within the bounds and the step; else unchanged."""
    rounded = round(value, decimals)
    if (
        float(bounds["min"]) <= rounded <= float(bounds["max"])
        and abs(rounded - old) <= float(bounds["max_step"]) + STEP_TOLERANCE
    ):
        return rounded
    return value


def propose(
    learner: Learner,
    plan: Any,
    path: str,
    target: float,
    reason: str,
    evidence: int,
    *,
    decimals: int = 10,
    group: str | None = None,
) -> Proposal | None:
    """A proposal moving learnable ``path`` towards ``target``, bounded (base.bounded: at
    most ``max_step``, within ``min``…``max``); None when the path is not learnable or the
    bounded value equals the current one."""
    found = current(plan, path)
    if found is None or not math.isfinite(target):
        return None
    old, bounds = found
    new = tidy(bounded(round(target, decimals), old, bounds), old, bounds, decimals)
    if abs(new - old) <= SAME:
        return None
    return Proposal(learner.id, path, old, new, reason, evidence, group)


def confidence(n: int, prior: float) -> float:
    """How much ``n`` observations count against a prior of ``prior`` pseudo-observations:
    0 with none, ½ at ``prior``, → 1 with many. Few samples move a value little."""
    return n / (n + prior) if n + prior > 0 else 0.0


def shrunk_mean(total: float, n: int, prior: float) -> float:
    """A mean shrunk towards 0 by ``prior`` pseudo-observations of 0."""
    return total / (n + prior) if n + prior > 0 else 0.0


def duration_words(seconds: float) -> str:
    """1800 → '30m', 7200 → '2h', 5400 → '1h30m'."""
    minutes = round(seconds / 60)
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest}m"
    return f"{hours}h" + (f"{rest:02d}m" if rest else "")


def explain_proposals(result: LearnerResult, what: str, value: Callable[[float], str] = "{:g}".format) -> str:
    """The common explanation: what the learner read, one line per proposal (``value``
    writes a value), then its notes (what it found but could not propose)."""
    read = ", ".join(f"{n} {name}" for name, n in result.inputs.items()) or "nothing"
    head = f"{result.learner} ({result.kind}) read {read}"
    if result.skipped is not None:
        lines = [f"{head}: no change — {result.skipped}"]
    else:
        lines = [f"{head}: {len(result.proposals)} {what}"]
        lines += [f"  {p.path}: {value(p.old)} → {value(p.new)} — {p.reason}" for p in result.proposals]
    lines += [f"  note: {note}" for note in result.notes]
    return "\n".join(lines)


def horizon_of(learner: Learner, plan: Any) -> float:
    """The learner's ``horizon``, else the plan's longest resolution horizon ≤ 1 h (else its shortest)."""
    given = learner.params.get("horizon")
    if given is not None:
        return float(given)
    horizons = tuple(plan.learning.signal_resolution_horizons)
    within = [h for h in horizons if h <= LONGEST_DEFAULT_S]
    return float(max(within) if within else min(horizons))


def check_horizon(learner: Learner, doc: Doc, path: tuple[Any, ...], ctx: BuildContext, spec: Spec) -> None:
    """RB396 when the learner's ``horizon`` is not one at which signals are resolved."""
    horizon = learner.params.get("horizon")
    if horizon is not None and not any(abs(horizon - h) < 1e-6 for h in spec.signal_resolution_horizons):
        listed = ", ".join(duration_words(h) for h in spec.signal_resolution_horizons)
        ctx.report(
            doc,
            path + ("horizon",),
            "RB396",
            f"learner '{learner.id}' scores signals at {duration_words(horizon)}, but they are resolved only at {listed}",
            suggestion="use one of signal_resolution_horizons",
        )


def at_horizon(outcomes: Sequence[Any], horizon_s: float) -> list[Any]:
    """The resolved signals at ``horizon_s``."""
    return [o for o in outcomes if abs(o.horizon_s - horizon_s) <= 1e-6]
