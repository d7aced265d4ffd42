"""Property tests over random outcome sets and random bounds: signal_weight never leaves a
weight's bounds, never moves one more than its max_step, never goes under min_weight where
the step allows reaching it, and the weights keep summing to 1; the orchestrator applies at
most one change per value and only whole groups."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.language.kinds.learning import Learner
from engine.learners import orchestrator, signal_weight
from engine.learners.base import LearningData
from tests.learners.conftest import HOUR, outcome

DIRECTIONS = ("LONG", "SHORT", "NEUTRAL")


@st.composite
def weighted_plans(draw):
    """3–10 components, weights summing to 1, each with bounds around it (some not learnable)."""
    n = draw(st.integers(3, 10))
    raw = draw(st.lists(st.floats(0.05, 1.0), min_size=n, max_size=n))
    weights = [r / sum(raw) for r in raw]
    learnables, values, components = {}, {}, []
    for i, w in enumerate(weights):
        cid = f"c{i}"
        components.append(SimpleNamespace(id=cid, weight=w))
        if draw(st.booleans()) or i < 2:
            lo = w * draw(st.floats(0.0, 1.0))
            hi = w + draw(st.floats(0.0, 0.5))
            if hi - lo <= 1e-6:
                continue
            step = (hi - lo) * draw(st.floats(0.01, 1.0))
            path = f"signals.components.{cid}.weight"
            learnables[path] = {"min": lo, "max": hi, "max_step": step}
            values[path] = w
    return SimpleNamespace(
        learnables=learnables,
        learnable_values=values,
        signals=SimpleNamespace(components=tuple(components)),
        learning=SimpleNamespace(signal_resolution_horizons=(60.0, 300.0, HOUR)),
    )


@st.composite
def outcome_sets(draw, n_components):
    signals = draw(
        st.lists(
            st.tuples(
                st.floats(-3.0, 3.0),
                st.lists(st.sampled_from(DIRECTIONS), min_size=n_components, max_size=n_components),
                st.sampled_from((300.0, HOUR)),
            ),
            min_size=0,
            max_size=60,
        )
    )
    return tuple(
        outcome(move, {f"c{i}": d for i, d in enumerate(calls)}, horizon_s=horizon) for move, calls, horizon in signals
    )


def _total(plan, values):
    return sum(values.get(f"signals.components.{c.id}.weight", c.weight) for c in plan.signals.components)


@settings(max_examples=200, deadline=None)
@given(data=st.data(), plan=weighted_plans(), min_weight=st.floats(0.0, 0.2), prior=st.floats(0.0, 50.0))
def test_weights_stay_in_bounds_within_a_step_and_sum_to_one(data, plan, min_weight, prior):
    outcomes = data.draw(outcome_sets(len(plan.signals.components)))
    learner = Learner(
        id="w",
        kind="signal_weight",
        schedule="s",
        min_trades=1,
        params={"min_weight": min_weight, "renormalise": True, "prior": prior},
    )
    for _ in range(3):  # a few cycles, each from where the last left the weights
        result = signal_weight.learn(learner, LearningData(0, 1, outcomes), plan)
        assert len({p.path for p in result.proposals}) == len(result.proposals)
        assert len({p.group for p in result.proposals}) <= 1
        for p in result.proposals:
            b = plan.learnables[p.path]
            assert p.old == plan.learnable_values[p.path]
            assert b["min"] <= p.new <= b["max"]
            assert abs(p.new - p.old) <= b["max_step"] + 1e-12
            if p.new < p.old:  # it never pushes a weight under the floor it could stay above
                assert p.new >= min(min_weight, p.old) - 1e-12 or p.new == pytest.approx(
                    max(b["min"], p.old - b["max_step"])
                )
        values = {**plan.learnable_values, **{p.path: p.new for p in result.proposals}}
        assert _total(plan, values) == pytest.approx(1.0, abs=1e-9)
        decision = orchestrator.decide([result], plan)
        assert decision.refused == ()  # its own group is valid as a whole
        plan = SimpleNamespace(**{**vars(plan), "learnable_values": values})


@settings(max_examples=300, deadline=None)
@given(
    n=st.integers(1, 8),
    data=st.data(),
)
def test_project_keeps_bounds_and_the_sum(n, data):
    lows = data.draw(st.lists(st.floats(0.0, 0.3), min_size=n, max_size=n))
    highs = [lo + data.draw(st.floats(0.0, 0.5)) for lo in lows]
    targets = data.draw(st.lists(st.floats(-1.0, 2.0), min_size=n, max_size=n))
    shares = data.draw(st.none() | st.lists(st.floats(0.0, 1.0), min_size=n, max_size=n))
    values = signal_weight.project(targets, lows, highs, 1.0, shares)
    if sum(lows) > 1.0 + 1e-12 or sum(highs) < 1.0 - 1e-12:
        assert values is None
        return
    assert values is not None
    assert all(lo <= v <= hi for v, lo, hi in zip(values, lows, highs, strict=True))
    assert sum(values) == pytest.approx(1.0, abs=1e-9)
