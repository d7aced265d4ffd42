"""signal_weight on outcome sets where the right answer is known: a component that is
always right gains weight, a coin-flip one loses it, an always-wrong one goes to its floor;
the weights keep summing to 1 and no weight moves more than its max_step.

Three components are always right (liquidation_cascade, hurst, lead_lag): the weight the
losers give up has somewhere to go within the right ones' bounds."""

from __future__ import annotations

import random
import re

import pytest

from engine.learners import signal_weight
from engine.learners.base import LearningData
from tests.learners.conftest import HOUR, applied, learner_of, outcome

RIGHT, COIN, WRONG = "liquidation_cascade", "whale_flow", "funding_rate"
ALSO_RIGHT = ("hurst", "lead_lag")
W = "signals.components.{}.weight"


def known_outcomes(n: int = 200, seed: int = 7) -> tuple:
    """``n`` signals at 1h: RIGHT (and ALSO_RIGHT) call every move, COIN every other one,
    WRONG always against."""
    rng = random.Random(seed)
    found = []
    for i in range(n):
        move = rng.choice((-1, 1)) * rng.uniform(0.2, 1.0)
        up, down = ("LONG", "SHORT") if move > 0 else ("SHORT", "LONG")
        calls = {RIGHT: up, COIN: (up, down)[i % 2], WRONG: down, **dict.fromkeys(ALSO_RIGHT, up)}
        found.append(outcome(move, calls, ts=i * 60.0))
        found.append(outcome(move, {RIGHT: up}, horizon_s=300.0, ts=i * 60.0))  # another horizon: not read
    return tuple(found)


def weights(plan, ids=(RIGHT, COIN, WRONG)):
    return [plan.learnable_values[W.format(c)] for c in ids]


def total(plan):
    return sum(plan.learnable_values.get(W.format(c.id), c.weight) for c in plan.signals.components)


def test_the_right_one_gains_the_coin_loses_the_wrong_one_drops(plan):
    learner = learner_of(plan, "signal_weights")
    result = signal_weight.learn(learner, LearningData(0, 1, known_outcomes()), plan)
    assert result.skipped is None
    moved = {p.path: p for p in result.proposals}
    assert moved[W.format(RIGHT)].new > moved[W.format(RIGHT)].old
    assert moved[W.format(COIN)].new < moved[W.format(COIN)].old
    assert moved[W.format(WRONG)].new < moved[W.format(WRONG)].old
    assert {p.group for p in result.proposals} == {"signal_weights.weights"}
    for p in result.proposals:  # one step at most
        assert abs(p.new - p.old) <= plan.learnables[p.path]["max_step"] + 1e-12
    after = applied(plan, result)
    assert total(after) == pytest.approx(1.0, abs=1e-9)
    assert "hit rate 100% over 200 calls at 1h" in moved[W.format(RIGHT)].reason
    text = signal_weight.explain(result)
    assert "5 weight changes, applied together or not at all" in text and "hit rate 0%" in text


def test_cycle_after_cycle_the_wrong_one_reaches_its_floor_and_stays(plan):
    learner = learner_of(plan, "signal_weights")
    data = LearningData(0, 1, known_outcomes())
    current = plan
    for _ in range(10):
        result = signal_weight.learn(learner, data, current)
        current = applied(current, result)
        assert total(current) == pytest.approx(1.0, abs=1e-9)
    right, coin, wrong = weights(current)
    assert wrong == pytest.approx(plan.learnables[W.format(WRONG)]["min"])  # 0.04 (above min_weight 0.01)
    assert coin == pytest.approx(plan.learnables[W.format(COIN)]["min"])  # a coin has no skill either
    assert right > plan.learnable_values[W.format(RIGHT)]


def test_a_floor_above_the_bound_holds(plan):
    learner = learner_of(plan, "signal_weights", min_weight=0.1)
    current = plan
    for _ in range(10):
        current = applied(current, signal_weight.learn(learner, LearningData(0, 1, known_outcomes()), current))
    assert weights(current)[2] == pytest.approx(0.1)


def test_few_calls_move_little(plan):
    learner = learner_of(plan, "signal_weights", min_trades=5)
    few = signal_weight.learn(learner, LearningData(0, 1, known_outcomes(6)), plan)
    many = signal_weight.learn(learner, LearningData(0, 1, known_outcomes(400)), plan)

    def aims(result):  # how far each target is from the current weight (max_step cuts the move itself)
        return {p.path: abs(float(re.search(r"target ([\d.]+)", p.reason)[1]) - p.old) for p in result.proposals}

    few_aims, many_aims = aims(few), aims(many)
    assert few_aims and all(few_aims[path] < many_aims[path] for path in few_aims)


def test_below_min_trades_it_is_skipped_with_the_reason(plan):
    learner = learner_of(plan, "signal_weights")
    result = signal_weight.learn(learner, LearningData(0, 1, known_outcomes(19)), plan)
    assert result.proposals == ()
    assert result.skipped == "19 resolved signals at 1h, fewer than min_trades 20"
    assert "no change — 19 resolved signals" in signal_weight.explain(result)


def test_a_declared_horizon_is_the_one_read(plan):
    learner = learner_of(plan, "signal_weights", horizon=300.0)
    result = signal_weight.learn(learner, LearningData(0, 1, known_outcomes()), plan)
    assert result.inputs["signals at 5m"] == 200
    assert all("calls at 5m" in p.reason for p in result.proposals)


def test_without_skill_nothing_moves(plan):
    coin_only = tuple(outcome((-0.5, 0.5)[i % 2], {COIN: "LONG", WRONG: "SHORT"}) for i in range(100))
    result = signal_weight.learn(learner_of(plan, "signal_weights"), LearningData(0, 1, coin_only), plan)
    assert result.proposals == () and "better than a coin" in str(result.skipped)


def test_project_respects_bounds_and_the_sum():
    values = signal_weight.project([0.9, 0.05, 0.05], [0.1, 0.1, 0.1], [0.5, 0.5, 0.5], 1.0)
    assert values == pytest.approx([0.5, 0.25, 0.25])
    assert signal_weight.project([0.5, 0.5], [0.6, 0.0], [0.7, 0.3], 1.0) == pytest.approx([0.7, 0.3])
    assert signal_weight.project([0.5, 0.5], [0.6, 0.6], [0.7, 0.7], 1.0) is None


def test_the_horizon_default_is_the_longest_up_to_an_hour(plan):
    assert signal_weight.horizon_of(learner_of(plan, "signal_weights"), plan) == HOUR
