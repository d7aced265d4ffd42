"""The ``trailing_stop`` exit tier: P&L at or below the peak minus the distance closes the
position, from entry or once the peak has exceeded ``activate_above_pct``. The peak is the exit
vocabulary's ``peak_pnl_pct``, this cycle's P&L included."""

from __future__ import annotations

import dataclasses

import pytest

from engine.trading import exits
from engine.trading.exits import evaluate_exits, trailing_stop
from tests.exits.helpers import context, tier
from tests.lifecycle.helpers import at, plan, position

FROM_ENTRY = trailing_stop.Params(distance_pct=0.5, activate_above_pct=0.0)
ARMED_AT_1 = trailing_stop.Params(distance_pct=0.5, activate_above_pct=1.0)


@pytest.mark.parametrize(
    ("pnl", "peak", "fires"),
    [
        (1.0, 1.5, True),  # exactly the distance below the peak: <= fires
        (1.25, 1.5, False),
        (-0.5, 0.0, True),  # active from entry: a position never in profit trails from 0
        (-0.25, 0.0, False),
        (2.0, 1.0, False),  # a new peak this cycle: the peak is 2.0, never 2.0 - 0.5 below itself
    ],
)
def test_from_entry(pnl, peak, fires):
    signal = trailing_stop.evaluate(tier(trailing_stop, FROM_ENTRY), context(pnl, peak=peak))
    assert (signal is not None) == fires
    if fires:
        assert signal.reason == "TRAILING_STOP" and signal.full
        assert dict(signal.detail) == {
            "pnl_pct": pnl,
            "peak_pnl_pct": peak,
            "distance_pct": 0.5,
            "activate_above_pct": 0.0,
        }


@pytest.mark.parametrize(
    ("pnl", "peak", "fires"),
    [
        (0.25, 0.75, False),  # the peak never passed 1 %: not active
        (-5.0, 0.75, False),  # not active, so no loss closes it (a stop_loss tier does)
        (0.5, 1.0, False),  # a peak exactly at the level has not exceeded it
        (0.75, 1.25, True),
        (1.0, 1.25, False),
    ],
)
def test_with_an_activation_level(pnl, peak, fires):
    signal = trailing_stop.evaluate(tier(trailing_stop, ARMED_AT_1), context(pnl, peak=peak))
    assert (signal is not None) == fires


def test_the_peak_is_exit_envs_with_this_cycles_pnl_included():
    """The ladder's peak: a position whose stored peak is 1.5 % trails from there; a cycle that
    sets a new peak moves the stop with it before it is compared."""
    t = tier(trailing_stop, FROM_ENTRY, "trail")
    held = dataclasses.replace(plan(), exits=dataclasses.replace(plan().exits, tiers=(t,), priority=("trail",)))
    stored = position(peak_pnl_pct=1.5, leverage=1.0)
    evaluation = evaluate_exits(held, stored, {}, 101.0, at(60))  # P&L 1.0 = 1.5 - 0.5
    assert evaluation.chosen is not None and evaluation.chosen.detail["peak_pnl_pct"] == 1.5
    evaluation = evaluate_exits(held, stored, {}, 102.0, at(60))  # a new peak: 2.0
    assert evaluation.chosen is None
    assert evaluate_exits(held, stored, {}, 101.25, at(60)).chosen is None  # 1.25 > 1.5 - 0.5


def test_explain():
    t = tier(trailing_stop, ARMED_AT_1, "trail")
    assert exits.explain(trailing_stop.evaluate(t, context(0.75, peak=1.25))) == (
        "trail: P&L +0.75 % is 0.5 % or more below the peak +1.25 %, active since the peak passed +1 %"
    )
    t = tier(trailing_stop, FROM_ENTRY, "trail")
    assert exits.explain(trailing_stop.evaluate(t, context(1.0, peak=1.5))) == (
        "trail: P&L +1 % is 0.5 % or more below the peak +1.5 %"
    )
