"""hold_time, profit_target and counterfactual on data where the right answer is known."""

from __future__ import annotations

import pytest

from engine.language.kinds import learning
from engine.learners import LEARNERS, counterfactual, hold_time, profit_target
from engine.learners.base import LearningData
from tests.learners.conftest import HOUR, applied, learner_of, outcome, trade, with_values

BTC_LONG = "exits.optimal_hold.by_position.BTCUSDT:LONG"
TARGET = "exits.tiers.profit_target.targets.0.pnl_pct"
FEE = "gates.chain.fee.min_edge_after_fees_pct"


def test_short_holds_that_win_pull_the_hold_down_one_step_at_a_time(plan):
    trades = [trade(1.0, duration_s=20 * 60, n=i) for i in range(20)]
    trades += [trade(-1.0, duration_s=5 * HOUR, n=100 + i) for i in range(20)]
    result = hold_time.learn(learner_of(plan, "hold_time"), LearningData(0, 1, trades=tuple(trades)), plan)
    moved = {p.path: p for p in result.proposals}
    assert moved[BTC_LONG].old == 7200 and moved[BTC_LONG].new == 7200 - 900  # max_step 15m
    assert "best bucket short (median 20m)" in moved[BTC_LONG].reason
    assert "exits.optimal_hold.default" in moved
    current = plan
    for _ in range(10):
        current = applied(
            current, hold_time.learn(learner_of(plan, "hold_time"), LearningData(0, 1, trades=tuple(trades)), current)
        )
    assert current.learnable_values[BTC_LONG] == 1800  # its min: 30m
    assert "2h → 1h45m" in hold_time.explain(result)


def test_a_position_with_too_few_trades_keeps_its_hold(plan):
    trades = [trade(1.0, duration_s=20 * 60, n=i) for i in range(12)] + [trade(1.0, side="SHORT", n=50)]
    result = hold_time.learn(learner_of(plan, "hold_time"), LearningData(0, 1, trades=tuple(trades)), plan)
    assert "exits.optimal_hold.by_position.BTCUSDT:SHORT" not in {p.path for p in result.proposals}
    assert any("BTCUSDT:SHORT: 1 trades, fewer than min_trades 10" in n for n in result.notes)
    few = hold_time.learn(learner_of(plan, "hold_time"), LearningData(0, 1, trades=tuple(trades[:9])), plan)
    assert few.skipped == "9 closed trades, fewer than min_trades 10"


def test_trades_that_peak_below_the_target_lower_it(plan):
    trades = tuple(trade(-0.5, peak_pnl_pct=1.2, n=i) for i in range(40))
    result = profit_target.learn(learner_of(plan, "profit_targets"), LearningData(0, 1, trades=trades), plan)
    (p,) = result.proposals
    assert p.path == TARGET and p.old == 2.0 and p.new == 1.75  # max_step 0.25 towards 1.2
    text = profit_target.explain(result)
    assert "conviction size multipliers: not learnable in these rules" in text
    assert "no per-symbol learnable path" in text


def test_targets_hit_often_are_raised_to_learn_what_lies_above(plan):
    trades = tuple(trade(2.0, peak_pnl_pct=2.0, exit_tier="profit_target", n=i) for i in range(40))
    (p,) = profit_target.learn(learner_of(plan, "profit_targets"), LearningData(0, 1, trades=trades), plan).proposals
    assert p.new == 2.25 and "raised one step" in p.reason


def test_a_learnable_conviction_multiplier_follows_its_trades(plan):
    path = "signals.conviction.levels.0.size_multiplier"  # HIGH, made learnable here
    learnables = {**plan.learnables, path: {"min": 0.5, "max": 3.0, "max_step": 0.1}}
    stub = with_values(plan, {path: 1.5}, learnables)
    trades = tuple(trade(2.0, conviction="HIGH", n=i) for i in range(20)) + tuple(
        trade(-1.0, conviction="LOW", n=50 + i) for i in range(20)
    )
    result = profit_target.learn(learner_of(plan, "profit_targets"), LearningData(0, 1, trades=trades), stub)
    moved = {p.path: p for p in result.proposals}
    assert moved[path].new == pytest.approx(1.6)


def test_blocked_signals_that_would_have_won_loosen_the_fee_gate(plan):
    blocked = tuple(outcome(0.8, outcome="NO_TRADE", blocker="FEE_EDGE_TOO_SMALL", ts=i) for i in range(60))
    result = counterfactual.learn(learner_of(plan, "counterfactual"), LearningData(0, 1, blocked), plan)
    (p,) = result.proposals
    assert p.path == FEE and p.new < p.old and p.old - p.new <= 0.02 + 1e-12
    assert p.reason.startswith("loosened: 60 signals it blocked would have been right")


def test_trades_that_lost_tighten_it(plan):
    blocked = tuple(outcome(-0.8, outcome="NO_TRADE", blocker="FEE_EDGE_TOO_SMALL", ts=i) for i in range(60))
    traded = tuple(outcome(-0.5, ts=100 + i) for i in range(60))
    result = counterfactual.learn(learner_of(plan, "counterfactual"), LearningData(0, 1, blocked + traded), plan)
    (p,) = result.proposals
    assert p.new > p.old and p.reason.startswith("tightened")


def test_counterfactual_below_min_trades_and_other_horizons(plan):
    blocked = tuple(
        outcome(0.8, outcome="NO_TRADE", blocker="FEE_EDGE_TOO_SMALL", horizon_s=300, ts=i) for i in range(60)
    )
    result = counterfactual.learn(learner_of(plan, "counterfactual"), LearningData(0, 1, blocked), plan)
    assert result.skipped == "0 blocked signals resolved at 1h, fewer than min_trades 50"


def test_the_learning_schema_has_one_variant_per_registered_learner():
    schema = learning.schema()
    assert {k.removeprefix("kind_") for k in schema["$defs"] if k.startswith("kind_")} == set(LEARNERS)
    assert set(learning.CODES) >= {"RB395", "RB396", "RB397"}
