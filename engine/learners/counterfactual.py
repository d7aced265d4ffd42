"""Learner ``counterfactual`` (seed "Counterfactual Learning"): what the blocked signals
would have earned, per gate, turned into proposals for the gates' learnable thresholds.

A resolved signal that a gate blocked (its ``blocker`` is one of the gate kind's reason
codes) would have earned its move in its direction at the horizon (the learner's
``horizon``, else the plan's longest ≤ 1 h) minus the round-trip fee (``round_trip_fee_pct``,
else twice the execution venue's taker fee). Per gate, with ``prior`` pseudo-signals that
earned nothing and were right half the time:

- *loosen* when the signals it blocked would have been right more often than not and
  profitable beyond fees;
- *tighten* when the trades it let through (signals that traded) lost after fees;
- neither when both or none hold.

Each of the gate's learnable thresholds moves by ``max_step`` scaled by the evidence
(``n / (n + prior)``): a ``min_…`` threshold loosens downwards, a ``max_…`` one upwards;
a threshold whose name says neither is reported in the notes and left alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from engine.language.schemagen.dsl import Schema, duration, num
from engine.learners.base import LONG, NEUTRAL, LearnerResult, LearningData, Proposal, SignalOutcome
from engine.learners.common import (
    HORIZON_CODES,
    at_horizon,
    check_horizon,
    confidence,
    current,
    duration_words,
    explain_proposals,
    horizon_of,
    propose,
    result,
    shrunk_mean,
    skipped,
)

if TYPE_CHECKING:
    from engine.language.kinds.base import BuildContext, Doc
    from engine.language.kinds.learning import Learner, Spec

KIND = "counterfactual"
SUMMARY = "Tunes gate thresholds from what blocked signals would have earned."
CODES = dict(HORIZON_CODES)
REQUIRED_PARAMS: tuple[str, ...] = ()
DEFAULT_PRIOR = 20.0
TRADED = "TRADE"


def params_schema() -> dict[str, Schema]:
    return {
        "horizon": duration(
            "Horizon at which blocked signals are scored; one of signal_resolution_horizons. Default: the longest ≤ 1h.",
            positive=True,
        ),
        "round_trip_fee_pct": num(
            "Fees of a round trip, taken off what a signal would have earned. Default: twice the execution "
            "venue's taker fee.",
            "%",
            minimum=0,
            maximum=10,
        ),
        "prior": num(
            "Pseudo-signals (earning nothing, right half the time) each gate's record starts with. Default 20.",
            "count",
            minimum=0,
            maximum=100000,
        ),
    }


def check(learner: Learner, doc: Doc, path: tuple[Any, ...], ctx: BuildContext, spec: Spec) -> None:
    """RB396: the horizon must be one at which signals are resolved."""
    check_horizon(learner, doc, path, ctx, spec)


def round_trip_fee(learner: Learner, plan: Any) -> float:
    given = learner.params.get("round_trip_fee_pct")
    if given is not None:
        return float(given)
    venues = plan.venues
    venue = next((e for e in venues.exchanges if e.id == venues.execution_venue), None)
    return 2 * float(venue.taker_fee_pct) if venue is not None else 0.0


def net_pct(outcome: SignalOutcome, fee_pct: float) -> float:
    """What the signal earned (or would have) at its horizon after fees, % of price."""
    move = outcome.move_pct if outcome.direction == LONG else -outcome.move_pct
    return move - fee_pct


def _record(outcomes: Sequence[SignalOutcome], fee_pct: float, prior: float) -> tuple[int, float, float]:
    """(signals, smoothed hit rate, shrunk mean net %)."""
    n = len(outcomes)
    hits = sum(1 for o in outcomes if o.right())
    return (
        n,
        (hits + prior / 2) / (n + prior) if n + prior else 0.5,
        shrunk_mean(sum(net_pct(o, fee_pct) for o in outcomes), n, prior),
    )


def learn(learner: Learner, data: LearningData, plan: Any) -> LearnerResult:
    from engine.trading.gates import GATES  # the trading side is imported only when a learner runs

    horizon = horizon_of(learner, plan)
    scored = [o for o in at_horizon(data.outcomes, horizon) if o.direction != NEUTRAL]
    blocked = [o for o in scored if o.outcome != TRADED and o.blocker]
    traded = [o for o in scored if o.outcome == TRADED]
    inputs = {"outcomes": len(data.outcomes), "blocked": len(blocked), "traded": len(traded)}
    if len(blocked) < learner.min_trades:
        return skipped(
            learner,
            inputs,
            f"{len(blocked)} blocked signals resolved at {duration_words(horizon)}, fewer than min_trades {learner.min_trades}",
        )
    fee = round_trip_fee(learner, plan)
    prior = float(learner.params.get("prior", DEFAULT_PRIOR))
    n_traded, _, traded_net = _record(traded, fee, prior)
    proposals: list[Proposal] = []
    notes: list[str] = []
    for gate in plan.gates.chain:
        paths = [p for p in plan.learnables if p.startswith(f"gates.chain.{gate.id}.")]
        if not paths:
            continue
        reasons = set(getattr(GATES.get(gate.kind), "REASONS", ()))
        mine = [o for o in blocked if o.blocker in reasons]
        n, hit_rate, net = _record(mine, fee, prior)
        loosen = n > 0 and hit_rate > 0.5 and net > 0
        tighten = n_traded > 0 and traded_net < 0
        said = (
            f"{n} signals it blocked would have been right {hit_rate:.0%} (smoothed), {net:+.3f} % after "
            f"{fee:g} % fees; the {n_traded} trades it let through made {traded_net:+.3f} %"
        )
        if loosen == tighten:
            notes.append(f"gate {gate.id}: " + ("both loosen and tighten hold" if loosen else "no case") + f" — {said}")
            continue
        evidence = n if loosen else n_traded
        share = confidence(evidence, prior)
        for path in sorted(paths):
            name = path.rsplit(".", 1)[-1]
            if not name.startswith(("min_", "max_")):
                notes.append(
                    f"{path}: its name says neither min_ nor max_, so which way loosens is unknown; left alone"
                )
                continue
            found = current(plan, path)
            if found is None:
                continue
            old, bounds = found
            down = name.startswith("min_") == loosen
            step = float(bounds["max_step"]) * share
            why = ("loosened" if loosen else "tightened") + f": {said}"
            proposal = propose(learner, plan, path, old - step if down else old + step, why, evidence)
            if proposal is not None:
                proposals.append(proposal)
    return result(learner, inputs, proposals, "no gate threshold has a case to move", notes)


def explain(result: LearnerResult) -> str:
    return explain_proposals(result, "gate threshold changes")
