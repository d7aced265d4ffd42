"""The meta orchestrator: conflicting proposals on one value, at most one change per value,
groups applied whole or not at all, and proposals outside the plan's bounds refused."""

from __future__ import annotations

from engine.learners import orchestrator
from engine.learners.base import LearnerResult, Proposal

FEE = "gates.chain.fee.min_edge_after_fees_pct"  # 0.05, bounds 0…0.30, step 0.02
HOLD = "exits.optimal_hold.default"  # 7200 s, step 900
W1, W2 = "signals.components.hurst.weight", "signals.components.lead_lag.weight"  # 0.08 each, step 0.01


def res(learner: str, *proposals: Proposal) -> LearnerResult:
    return LearnerResult(learner, "test", proposals=proposals)


def p(learner: str, path: str, old: float, new: float, group: str | None = None) -> Proposal:
    return Proposal(learner, path, old, new, "test", 10, group)


def test_opposite_directions_refuse_both(plan):
    d = orchestrator.decide([res("a", p("a", FEE, 0.05, 0.04)), res("b", p("b", FEE, 0.05, 0.06))], plan)
    assert d.applied == ()
    assert [r.proposal.learner for r in d.refused] == ["a", "b"]
    assert all("learners disagree on the direction" in r.reason for r in d.refused)


def test_same_direction_the_smallest_move_wins(plan):
    d = orchestrator.decide([res("a", p("a", FEE, 0.05, 0.03)), res("b", p("b", FEE, 0.05, 0.04))], plan)
    assert [(x.learner, x.new) for x in d.applied] == [("b", 0.04)]
    (refused,) = d.refused
    assert refused.proposal.learner == "a" and "a smaller move on" in refused.reason
    assert d.values() == {FEE: 0.04}


def test_a_group_is_applied_whole_or_not_at_all(plan):
    group = [p("w", W1, 0.08, 0.09, "w.weights"), p("w", W2, 0.08, 0.07, "w.weights")]
    other = p("x", W2, 0.08, 0.09)  # disagrees with the group on W2
    d = orchestrator.decide([res("w", *group), res("x", other)], plan)
    assert d.applied == ()
    reasons = {(r.proposal.learner, r.proposal.path): r.reason for r in d.refused}
    assert "disagree" in reasons[("w", W2)] and "disagree" in reasons[("x", W2)]
    assert "applied whole or not at all" in reasons[("w", W1)]


def test_a_value_freed_by_a_refused_group_goes_to_the_other_learner(plan):
    group = [p("w", W1, 0.08, 0.09, "g"), p("w", HOLD, 7200.0, 99999.0, "g")]  # HOLD out of bounds
    other = p("x", W1, 0.08, 0.07)
    d = orchestrator.decide([res("w", *group), res("x", other)], plan)
    assert d.applied == (other,)
    assert len(d.refused) == 2


def test_invalid_proposals_are_refused_with_the_reason(plan):
    d = orchestrator.decide(
        [
            res(
                "a",
                p("a", "risk.max_leverage", 3, 4),
                p("a", FEE, 0.06, 0.07),
                p("a", HOLD, 7200.0, 9000.0),
                p("a", FEE.replace("fee", "fee"), 0.05, 0.05),
            )
        ],
        plan,
    )
    assert d.applied == ()
    reasons = [r.reason for r in d.refused]
    assert "risk.max_leverage is not learnable" in reasons[0]
    assert reasons[1] == f"it starts from 0.06, but {FEE} is 0.05 now"
    assert reasons[2] == "moving 7200 → 9000 exceeds max_step 900"
    assert reasons[3] == "it does not change the value"


def test_the_audit_lists_both(plan):
    d = orchestrator.decide([res("a", p("a", FEE, 0.05, 0.04)), res("b", p("b", "nope", 1, 2))], plan)
    audit = d.audit()
    assert [x["path"] for x in audit["applied"]] == [FEE]
    assert audit["refused"][0]["refused"].startswith("nope is not learnable")
    assert "1 applied, 1 refused" in orchestrator.explain(d)
