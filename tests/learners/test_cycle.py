"""One learning cycle (engine/learners/cycle.py): which learners run, what is applied, and
the audit line that records it."""

from __future__ import annotations

import json

import pytest

from engine.learners.base import LearningData
from engine.learners.cycle import due_learners, run_cycle, window
from tests.learners.conftest import HOUR
from tests.learners.test_signal_weight import known_outcomes


def _always_right_data() -> LearningData:
    return LearningData(0.0, 400 * 60.0, outcomes=known_outcomes())


def test_due_learners_follow_the_schedule_job(plan):
    assert [lr.id for lr in due_learners(plan, job="learning_fast")] == ["signal_weights"]
    assert [lr.id for lr in due_learners(plan, only="hold_time")] == ["hold_time"]
    assert len(due_learners(plan)) == len(plan.learning.learners)
    assert due_learners(plan, job="watchdog") == ()
    with pytest.raises(KeyError):
        due_learners(plan, only="no_such_learner")


def test_window_is_the_trade_lookback_up_to_now(plan):
    assert window(plan, 1000 * HOUR) == (1000 * HOUR - 168 * HOUR, 1000 * HOUR)


def test_a_cycle_applies_the_weight_group_and_audits_it(plan):
    cycle = run_cycle(
        plan, _always_right_data(), due_learners(plan, job="learning_fast"), now=24000.0, job="learning_fast"
    )
    applied = {p.path: p for p in cycle.decision.applied}
    assert (
        applied["signals.components.liquidation_cascade.weight"].new
        > plan.learnable_values["signals.components.liquidation_cascade.weight"]
    )
    assert (
        abs(
            sum(plan.learnable_values[k] for k in plan.learnable_values if k.endswith(".weight") and k not in applied)
            + sum(p.new for p in applied.values())
            - 1.0
        )
        < 1e-9
    )
    assert [learner for learner, _ in cycle.by_learner()] == ["signal_weights"]
    line = cycle.audit()
    json.dumps(line, allow_nan=False)
    assert line["event"] == "cycle" and line["version"] == plan.version and line["job"] == "learning_fast"
    assert line["ts"] == "1970-01-01T06:40:00Z" and line["outcomes"] == []
    assert line["inputs"] == {"outcomes": len(known_outcomes()), "trades": 0}
    assert len(line["applied"]) == len(applied) and line["learners"][0]["learner"] == "signal_weights"
    proposal = line["learners"][0]["proposals"][0]
    assert set(proposal) == {"path", "old", "new", "reason", "evidence", "group"}
    assert line["window"] == {"from": "1970-01-01T00:00:00Z", "to": "1970-01-01T06:40:00Z"}


def test_a_learner_that_raises_is_audited_and_the_others_still_run(plan, monkeypatch):
    from engine.learners import hold_time

    def broken(*_args):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(hold_time, "learn", broken)
    cycle = run_cycle(plan, _always_right_data(), due_learners(plan), now=24000.0)
    skipped = {r.learner: r.skipped for r in cycle.results}
    assert skipped["hold_time"] == "failed: ZeroDivisionError: boom"
    assert any(p.learner == "signal_weights" for p in cycle.decision.applied)
