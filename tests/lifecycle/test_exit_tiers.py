"""Scenario tests of ``evaluate_exits(plan, position, market, price, now)`` with the compiled
default paper plan: every exit tier on its own, the timing actions and their hold multipliers,
the declared priority, grace windows and the minimum hold, the P&L basis and the failure
policy of the timing expressions (seed "Trade Monitoring & Exit Decisions", "Grace Window
Protection"; rules/exits.yaml, rules/risk.yaml grace_windows; docs/exits.md).

Conventions: a LONG (unless said otherwise) of 1 unit entered at 100.0 at T0 with 3x leverage,
so on the default ``pnl_basis: price`` the P&L in percent is ``price − 100`` (101.6 → +1.6 %).
``market(alignment, trend)`` gives the alignment of the position's side and the EMA trend
(+1 with a LONG, −1 against it, 0 flat); the alignment at entry is 0.6 and the EMA trend at
entry is with the position unless a test says otherwise. Times are minutes after entry.
"""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from engine.ports import Fill
from engine.trading import lifecycle
from engine.trading.entry import decide_entry
from engine.trading.exits import TIERS, evaluate_exits
from engine.trading.exits.base import ExitContext
from tests.entry.builders import portfolio, signal_record
from tests.lifecycle.helpers import T0, at, market, plan, plan_with, position, tier_doc

PLAN = plan()


def ev(price: float, minutes: float, mkt: dict | None = None, pos=None, the_plan=None):
    return evaluate_exits(the_plan or PLAN, pos or position(), mkt if mkt is not None else {}, price, at(minutes))


def fired(evaluation) -> dict:
    """tier id → reason of every tier that fired (dicts keep the priority order)."""
    return {s.tier: s.reason for s in evaluation.fired}


def chosen(evaluation) -> str | None:
    return evaluation.chosen.reason if evaluation.chosen else None


def walk(pos, path, the_plan=None):
    """Walk (minute, price, market) cycles through the evaluator like the Runner does: the
    peak P&L and the timing action's hold multiplier move to the next cycle; a partial ladder
    close is filled at once (ladder_done, quantity); a full exit ends the walk."""
    out = []
    for minute, price, mkt in path:
        e = evaluate_exits(the_plan or PLAN, pos, mkt, price, at(minute))
        out.append((minute, e))
        pos = replace(pos, peak_pnl_pct=max(pos.peak_pnl_pct, e.pnl_pct), hold_multiplier=e.hold_multiplier)
        if e.chosen:
            break
        if e.partial:
            pos = replace(
                pos,
                ladder_done=tuple(sorted(set(pos.ladder_done) | set(e.partial.rungs))),
                quantity=pos.quantity - min(pos.quantity, e.partial.fraction * pos.initial_quantity),
            )
    return out, pos


# ------------------------------------------------------------------ the seed numbers are in the plan


def test_the_default_plan_holds_the_seed_numbers():
    exits, risk = PLAN.exits, PLAN.risk
    assert exits.pnl_basis == "price"
    assert exits.min_hold_s == 300  # seed: 5 minutes (300 s)
    assert exits.optimal_hold_s("BTCUSDT", "LONG") == 2 * 3600  # decision: 2 h until learned
    assert exits.priority == (
        "stop_loss",
        "timing",
        "mtf_alignment",
        "signal_reversal",
        "profit_target",
        "time_exit",
        "ladder",
    )
    assert exits.tier("stop_loss").params.loss_pct == 2.5  # seed: −2.5 %
    timing = exits.tier("timing").params
    assert [a.action for a in timing.actions] == [
        "FORCE_EXIT",
        "TAKE_PROFIT",
        "EXIT_NOW",
        "EXIT_SOONER",
        "HOLD_EXTENDED",
    ]
    assert timing.default_action == "HOLD"
    assert dict(timing.hold_multipliers) == {"HOLD_EXTENDED": 1.5, "EXIT_SOONER": 0.5, "HOLD": 1.0}
    assert set(timing.closing_actions) == {"FORCE_EXIT", "TAKE_PROFIT", "EXIT_NOW"}
    mtf = exits.tier("mtf_alignment").params
    assert (mtf.min_alignment, mtf.min_delta, mtf.exit_on_momentum_reversal) == (0.15, -0.25, True)
    assert [(t.after, t.pnl_pct) for t in exits.tier("profit_target").params.targets] == [(0, 2.0)]
    assert [(r.after, r.below_pnl_pct) for r in exits.tier("time_exit").params.rules] == [
        (7200, -0.5),
        (14400, 0.2),
        (28800, 0.5),
    ]
    ladder = exits.tier("ladder").params
    assert [(r.fraction, r.pnl_pct, r.after) for r in ladder.rungs] == [
        (0.25, 0.5, 1800),
        (0.5, 1.0, 3600),
        (0.25, 1.5, 5400),
    ]
    assert ladder.suppress_on == ("HOLD_EXTENDED",) and set(ladder.accelerate_on) == {"EXIT_NOW", "TAKE_PROFIT"}
    grace = risk.grace_windows
    assert (grace.standard, grace.high_conviction, grace.high_conviction_levels, grace.exempt_tiers) == (
        120,
        300,
        ("HIGH",),
        ("stop_loss",),
    )


# ------------------------------------------------------------------ stop loss


@pytest.mark.parametrize(
    "direction, price, fires",
    [
        ("LONG", 97.6, False),  # −2.4 %
        ("LONG", 97.5, True),  # exactly 2.5 % below entry
        ("LONG", 96.0, True),  # −4 %
        ("SHORT", 102.4, False),  # a short loses when the price rises: −2.4 %
        ("SHORT", 102.6, True),  # −2.6 % (exactly −2.5 %: see the exact-threshold table below)
        ("SHORT", 103.0, True),
    ],
)
def test_stop_loss_at_minus_2_5_percent(direction, price, fires):
    e = ev(price, 30, pos=position(direction=direction))
    assert ("stop_loss" in fired(e)) is fires
    assert (chosen(e) == "STOP_LOSS") is fires


@pytest.mark.parametrize("pnl, fires", [(-2.5, True), (-2.4999999, False), (-2.5000001, True)])
def test_stop_loss_compares_at_or_below_the_limit(pnl, fires):
    """The tier's own comparison on an exact P&L (the evaluator's P&L of a price is float arithmetic)."""
    tier = PLAN.exits.tier("stop_loss")
    ctx = ExitContext(position(), at(30), 97.5, pnl, 1800.0, {}, "HOLD")
    assert (TIERS["stop_loss"].evaluate(tier, ctx) is not None) is fires


def test_stop_loss_fires_inside_the_grace_window_and_the_minimum_hold():
    e = ev(97.0, 0.5)
    assert e.protected and fired(e) == {"stop_loss": "STOP_LOSS"} and chosen(e) == "STOP_LOSS"


# ------------------------------------------------------------------ timing intelligence

TIMING = [
    # id, minute, price, market, position changes, action, multiplier, chosen exit reason
    ("force_exit_on_loss", 10, 97.4, {}, {}, "FORCE_EXIT", 1.0, "STOP_LOSS"),  # pnl −2.6 < −2.5; stop ranks first
    ("force_exit_after_twice_optimal", 241, 100.3, {}, {}, "FORCE_EXIT", 1.0, "TIMING_FORCE_EXIT"),  # 4h01 > 2 × 2 h
    ("no_force_exit_at_exactly_twice_optimal", 240, 100.3, {}, {}, "HOLD", 1.0, None),
    ("take_profit_momentum_stalls", 10, 101.6, market(0.6, 0), {}, "TAKE_PROFIT", 1.0, "TIMING_TAKE_PROFIT"),
    ("take_profit_alignment_degrades", 10, 101.6, market(0.3, +1), {}, "TAKE_PROFIT", 1.0, "TIMING_TAKE_PROFIT"),
    ("no_take_profit_at_1_4", 10, 101.4, market(0.6, 0), {}, "HOLD", 1.0, None),
    ("exit_now_alignment_below_0_15", 10, 100.0, market(0.1, +1), {}, "EXIT_NOW", 1.0, "TIMING_EXIT_NOW"),
    ("exit_now_momentum_reversed", 10, 100.0, market(0.6, -1), {}, "EXIT_NOW", 1.0, "TIMING_EXIT_NOW"),
    # alignment 0.6 → 0.3 (delta −0.3 < −0.25): EXIT_SOONER does not close; the mtf tier does (same seed trigger)
    ("exit_sooner_alignment_degraded", 10, 100.0, market(0.3, +1), {}, "EXIT_SOONER", 0.5, "MTF_ALIGNMENT_DEGRADED"),
    ("hold_extended_strong_alignment", 10, 100.0, market(0.8, +1), {}, "HOLD_EXTENDED", 1.5, None),
    ("hold_extended_at_exactly_0_75", 10, 100.0, market(0.75, +1), {}, "HOLD_EXTENDED", 1.5, None),
    ("hold_alignment_ok", 10, 100.0, market(0.5, +1), {}, "HOLD", 1.0, None),
    ("hold_strong_alignment_no_momentum", 10, 100.0, market(0.8, 0), {}, "HOLD", 1.0, None),
    # before the minimum hold the early-exit actions cannot be chosen ("hold_s > min_hold_s")
    ("no_exit_now_before_min_hold", 4, 100.0, market(0.1, +1), {}, "HOLD", 1.0, None),
    ("no_take_profit_before_min_hold", 4, 101.6, market(0.6, 0), {}, "HOLD", 1.0, None),
    (
        "short_exit_now_on_its_side",
        10,
        100.0,
        market(0.1, -1, "SHORT"),
        {"direction": "SHORT"},
        "EXIT_NOW",
        1.0,
        "TIMING_EXIT_NOW",
    ),
]


@pytest.mark.parametrize("case", TIMING, ids=[c[0] for c in TIMING])
def test_timing_action(case):
    _, minute, price, mkt, changes, action, multiplier, reason = case
    e = ev(price, minute, mkt, position(**changes))
    assert (e.timing_action, e.hold_multiplier, chosen(e)) == (action, multiplier, reason)
    closing = action in ("FORCE_EXIT", "TAKE_PROFIT", "EXIT_NOW")
    assert ("timing" in fired(e)) is (closing and not e.protected)
    if "timing" in fired(e):
        assert fired(e)["timing"] == f"TIMING_{action}"


def test_hold_extended_lets_the_position_run_50_percent_longer_next_cycle():
    """HOLD_EXTENDED sets hold_multiplier 1.5, which the next cycle's optimal hold uses:
    FORCE_EXIT moves from > 2 × 2 h = 4 h to > 2 × 3 h = 6 h."""
    strong = market(0.8, +1)
    path = [
        (239, 100.3, strong),
        (241, 100.3, strong),
        (300, 100.3, strong),
        (360, 100.3, strong),
        (361, 100.3, strong),
    ]
    steps, _ = walk(position(), path)
    assert [(m, e.timing_action, e.hold_multiplier) for m, e in steps] == [
        (239, "HOLD_EXTENDED", 1.5),
        (241, "HOLD_EXTENDED", 1.5),
        (300, "HOLD_EXTENDED", 1.5),
        (360, "HOLD_EXTENDED", 1.5),
        (361, "FORCE_EXIT", 1.0),
    ]
    assert chosen(steps[-1][1]) == "TIMING_FORCE_EXIT"
    # without the carried multiplier the same 4h01 cycle is a forced exit
    assert chosen(ev(100.3, 241, strong)) == "TIMING_FORCE_EXIT"


def test_exit_sooner_halves_the_next_cycles_optimal_hold():
    """EXIT_SOONER (alignment degraded, not critical) sets 0.5: the next cycle forces the exit
    after 2 × 1 h = 2 h instead of 4 h. (With the default rules the mtf tier closes on the same
    degradation; here that cycle is replayed with a recovered market to show the carry.)"""
    degraded = ev(100.0, 100, market(0.3, +1))
    assert (degraded.timing_action, degraded.hold_multiplier) == ("EXIT_SOONER", 0.5)
    carried = position(hold_multiplier=degraded.hold_multiplier)
    assert chosen(ev(100.3, 121, market(0.6, +1), carried)) == "TIMING_FORCE_EXIT"
    assert chosen(ev(100.3, 121, market(0.6, +1), position())) is None


def test_hold_resets_the_multiplier_to_1():
    extended = position(hold_multiplier=1.5)
    e = ev(100.3, 241, market(0.5, +1), extended)  # 4h01 with 1.5 carried: not yet forced
    assert (e.timing_action, e.hold_multiplier, chosen(e)) == ("HOLD", 1.0, None)
    after = ev(100.3, 242, market(0.5, +1), replace(extended, hold_multiplier=e.hold_multiplier))
    assert chosen(after) == "TIMING_FORCE_EXIT"


# ------------------------------------------------------------------ multi-timeframe alignment

MTF = [
    # id, minute, market, position changes, mtf reason or None, chosen
    ("alignment_below_0_15", 10, market(0.14, +1), {}, "MTF_ALIGNMENT_LOST", "TIMING_EXIT_NOW"),
    ("alignment_at_0_15", 10, market(0.15, +1), {"alignment_at_entry": 0.3}, None, None),
    # at exactly the minimum hold the tier is no longer protected but EXIT_NOW needs hold_s > 300
    ("lost_at_exactly_min_hold", 5, market(0.1, +1), {}, "MTF_ALIGNMENT_LOST", "MTF_ALIGNMENT_LOST"),
    ("delta_exactly_minus_0_25", 10, market(0.5, +1), {"alignment_at_entry": 0.75}, None, None),
    (
        "delta_below_minus_0_25",
        10,
        market(0.49, +1),
        {"alignment_at_entry": 0.75},
        "MTF_ALIGNMENT_DEGRADED",
        "MTF_ALIGNMENT_DEGRADED",
    ),
    ("no_delta_without_entry_alignment", 10, market(0.3, +1), {"alignment_at_entry": None}, None, None),
    ("momentum_reversed", 10, market(0.6, -1), {}, "MOMENTUM_REVERSED", "TIMING_EXIT_NOW"),
    # alignment still unknown: EXIT_NOW cannot be judged (missing input), the tier still sees the reversal
    ("momentum_reversed_alignment_unknown", 10, market(None, -1), {}, "MOMENTUM_REVERSED", "MOMENTUM_REVERSED"),
    (
        "short_reads_mtf_short",
        10,
        market(0.1, -1, "SHORT"),
        {"direction": "SHORT"},
        "MTF_ALIGNMENT_LOST",
        "TIMING_EXIT_NOW",
    ),
    ("unknown_alignment_never_fires", 10, {}, {}, None, None),
]


@pytest.mark.parametrize("case", MTF, ids=[c[0] for c in MTF])
def test_mtf_alignment_tier(case):
    _, minute, mkt, changes, reason, expected_choice = case
    e = ev(100.0, minute, mkt, position(**changes))
    assert fired(e).get("mtf_alignment") == reason
    assert chosen(e) == expected_choice


# ------------------------------------------------------------------ signal reversal


@pytest.mark.parametrize(
    "direction, trend_at_entry, trend_now, fires",
    [
        ("LONG", +1, -1, True),  # opened with the uptrend, the EMA cross flipped down
        ("LONG", 0, -1, True),  # opened on a flat cross
        ("LONG", -1, -1, False),  # opened against the trend: not a reversal "after entry"
        ("LONG", +1, 0, False),  # flat is not against
        ("LONG", +1, +1, False),
        ("SHORT", -1, +1, True),
        ("SHORT", +1, +1, False),
    ],
)
def test_signal_reversal_only_when_the_trend_flipped_against_the_position_after_entry(
    direction, trend_at_entry, trend_now, fires
):
    pos = position(direction=direction, trend_at_entry=trend_at_entry)
    e = ev(100.0, 10, market(None, trend_now), pos)
    assert ("signal_reversal" in fired(e)) is fires


def test_signal_reversal_is_outranked_by_the_mtf_momentum_trigger_on_the_same_flip():
    """Every flip that fires signal_reversal also sets momentum_reversed, which the mtf tier
    (earlier in priority) fires on: with the default rules signal_reversal is never the
    chosen exit. A position opened AGAINST the EMA trend is not reversed by that same trend:
    neither the mtf momentum trigger nor signal_reversal (nor EXIT_NOW) closes it."""
    with_trend = ev(100.0, 10, market(0.6, -1))
    assert list(fired(with_trend)) == ["timing", "mtf_alignment", "signal_reversal"]
    assert chosen(with_trend) == "TIMING_EXIT_NOW"
    against = ev(100.0, 5, market(0.6, -1), position(trend_at_entry=-1))
    assert "signal_reversal" not in fired(against) and "mtf_alignment" not in fired(against)
    assert against.chosen is None


def test_signal_reversal_closes_on_its_own_when_the_mtf_tier_ignores_momentum(tmp_path):
    quiet = plan_with(
        tmp_path, {"exits": lambda d: tier_doc(d, "mtf_alignment").update(exit_on_momentum_reversal=False)}
    )
    e = ev(100.0, 10, market(None, -1), the_plan=quiet)
    assert fired(e) == {"signal_reversal": "SIGNAL_REVERSAL"} and chosen(e) == "SIGNAL_REVERSAL"
    assert e.chosen.detail["trend_at_entry"] == 1 and e.chosen.detail["ema_trend"] == -1


# ------------------------------------------------------------------ profit target


@pytest.mark.parametrize(
    "direction, minute, price, fires",
    [
        ("LONG", 6, 102.1, True),  # +2.1 % any time after the minimum hold
        ("LONG", 200, 102.1, True),
        ("LONG", 6, 101.9, False),
        ("LONG", 4, 102.5, False),  # "any time" still waits for the minimum hold
        ("SHORT", 6, 97.9, True),  # a short gains when the price falls: +2.1 %
        ("SHORT", 6, 98.1, False),
    ],
)
def test_profit_target_above_2_percent(direction, minute, price, fires):
    e = ev(price, minute, pos=position(direction=direction))
    assert (chosen(e) == "TAKE_PROFIT") is fires
    if fires:
        assert e.chosen.tier == "profit_target" and e.chosen.full and e.chosen.detail["target_pct"] == 2.0


@pytest.mark.parametrize("pnl, fires", [(2.0, False), (2.0000001, True)])
def test_profit_target_is_strictly_exceeded(pnl, fires):
    """The tier's own comparison is strict (anchors A.1: ``current_profit > roi``)."""
    tier = PLAN.exits.tier("profit_target")
    ctx = ExitContext(position(), at(30), 102.0, pnl, 1800.0, {}, "HOLD")
    assert (TIERS["profit_target"].evaluate(tier, ctx) is not None) is fires


# ------------------------------------------------------------------ time exits

TIME = [
    # id, minute, price, fires, rule's after_s
    ("2h_losing_more_than_0_5", 120, 99.4, True, 7200),
    ("2h_not_yet", 119, 99.4, False, None),
    ("2h_losing_0_4", 120, 99.6, False, None),
    ("4h_gain_below_0_2", 240, 100.1, True, 14400),
    ("4h_not_yet", 239, 100.1, False, None),
    ("4h_gain_0_3", 240, 100.3, False, None),
    ("4h_losing_0_6_matches_the_2h_rule_first", 240, 99.4, True, 7200),
]


@pytest.mark.parametrize("case", TIME, ids=[c[0] for c in TIME])
def test_time_exit_tiers(case):
    _, minute, price, fires, after = case
    e = ev(price, minute)
    assert ("time_exit" in fired(e)) is fires
    if fires:
        assert chosen(e) == "TIME_LIMIT" and e.chosen.detail["after_s"] == after


def test_the_8h_time_exit_fires_but_the_timing_force_exit_has_already_won():
    """At 8 h with +0.3 % the 8 h rule (gain < 0.5 %) fires, but FORCE_EXIT (hold > 2 × optimal
    = 4 h, or 6 h while HOLD_EXTENDED) ranks higher: with a 2 h optimal hold no position of the
    default rules reaches the 8 h rule alive."""
    e = ev(100.3, 480)
    assert fired(e) == {"timing": "TIMING_FORCE_EXIT", "time_exit": "TIME_LIMIT"}
    assert e.fired[1].detail["after_s"] == 28800
    assert chosen(e) == "TIMING_FORCE_EXIT"
    assert "time_exit" not in fired(ev(100.6, 480))  # +0.6 % is not below +0.5 %


def test_the_8h_time_exit_closes_when_the_optimal_hold_is_8h(tmp_path):
    def eight_hours(doc):
        hold = doc["optimal_hold"]
        hold["default"] = "8h"
        for key in hold.get("by_position") or {}:
            hold["by_position"][key] = "8h"

    long_hold = plan_with(tmp_path, {"exits": eight_hours})
    e = ev(100.3, 480, the_plan=long_hold)
    assert fired(e) == {"time_exit": "TIME_LIMIT"} and e.chosen.detail["after_s"] == 28800


# ------------------------------------------------------------------ ladder

LADDER = [
    # id, minute, price, ladder_done, rungs taken, fraction
    ("rung1_at_30m_above_0_5", 30, 100.6, (), (0,), 0.25),
    ("rung1_not_before_30m", 29, 100.6, (), None, None),
    ("rung1_not_at_0_4", 30, 100.4, (), None, None),
    ("rung2_at_60m_above_1_0", 60, 101.1, (0,), (1,), 0.5),
    ("rung1_and_2_together", 60, 101.1, (), (0, 1), 0.75),
    ("rung2_not_before_60m", 59, 101.1, (0,), None, None),
    ("rung3_at_90m_above_1_5", 90, 101.6, (0, 1), (2,), 0.25),
    ("all_taken", 90, 101.6, (0, 1, 2), None, None),
    ("rung1_only_once", 45, 100.8, (0,), None, None),
]


@pytest.mark.parametrize("case", LADDER, ids=[c[0] for c in LADDER])
def test_ladder_rungs(case):
    _, minute, price, done, rungs, fraction = case
    e = ev(price, minute, pos=position(ladder_done=done))
    if rungs is None:
        assert "ladder" not in fired(e)
        return
    assert e.chosen is None and e.partial is not None
    assert (e.partial.tier, e.partial.reason, e.partial.rungs, e.partial.fraction) == (
        "ladder",
        "LADDER_RUNG",
        rungs,
        fraction,
    )


def test_all_three_rungs_at_once_are_a_full_exit():
    """25 + 50 + 25 % of the initial quantity = 1.0: the ladder signal is then full and chosen."""
    e = ev(101.6, 90)
    assert e.partial is None and e.chosen.tier == "ladder" and e.chosen.rungs == (0, 1, 2) and e.chosen.full


def test_a_rising_position_takes_each_rung_once():
    """Minute by minute from entry to 95 minutes, the price rising 0.02 % a minute
    (+0.6 % at 30 m, +1.2 % at 60 m, +1.8 % at 90 m, +1.9 % at 95 m, below the +2 % target):
    rung 1 at 30 m, rung 2 at 60 m, rung 3 at 90 m, each exactly once; the position is then
    closed (25 + 50 + 25 %)."""
    path = [(m, 100.0 + 0.02 * m, {}) for m in range(96)]
    steps, final = walk(position(), path)
    partials = [(m, e.partial.rungs, e.partial.fraction) for m, e in steps if e.partial]
    assert partials == [(30, (0,), 0.25), (60, (1,), 0.5), (90, (2,), 0.25)]
    assert final.ladder_done == (0, 1, 2)
    assert final.quantity == pytest.approx(0.0, abs=1e-12)
    assert not any(e.chosen for _, e in steps)


def test_hold_extended_suppresses_the_ladder():
    assert "ladder" not in fired(ev(100.6, 40, market(0.8, +1)))  # HOLD_EXTENDED
    assert fired(ev(100.6, 40, market(0.5, +1)))["ladder"] == "LADDER_RUNG"  # HOLD: the rung fires
    # the profit target is not suppressed
    assert chosen(ev(102.1, 40, market(0.8, +1))) == "TAKE_PROFIT"


@pytest.mark.parametrize(
    "mkt, price, action, rungs",
    [
        (market(0.1, +1), 100.6, "EXIT_NOW", (0,)),  # 10 minutes: rung 1's 30-minute wait is waived
        (market(0.6, 0), 101.6, "TAKE_PROFIT", (0, 1, 2)),  # every rung whose P&L is exceeded
    ],
)
def test_exit_now_and_take_profit_accelerate_the_ladder(mkt, price, action, rungs):
    """The accelerated rungs fire, but the closing timing action itself is a full exit that
    ranks above the ladder, so the whole position closes (acceleration never decides alone)."""
    e = ev(price, 10, mkt)
    ladder = next(s for s in e.fired if s.tier == "ladder")
    assert e.timing_action == action and ladder.rungs == rungs and ladder.detail["accelerated"] is True
    assert chosen(e) == f"TIMING_{action}" and e.partial is None


# ------------------------------------------------------------------ priority

PRIORITY = [
    # id, minute, price, market, fired tiers in order, chosen
    ("stop_and_time_exit", 125, 97.0, {}, ["stop_loss", "timing", "time_exit"], "STOP_LOSS"),
    ("stop_and_timing_force_exit", 10, 97.4, {}, ["stop_loss", "timing"], "STOP_LOSS"),
    ("profit_target_and_ladder", 40, 102.1, {}, ["profit_target", "ladder"], "TAKE_PROFIT"),
    ("timing_force_exit_and_time_exit", 241, 100.1, {}, ["timing", "time_exit"], "TIMING_FORCE_EXIT"),
    ("timing_and_mtf", 10, 100.0, market(0.1, +1), ["timing", "mtf_alignment"], "TIMING_EXIT_NOW"),
    # alignment 0.6 → 0.3 with +2.1 %: TAKE_PROFIT (which accelerates the ladder), mtf, target, ladder
    (
        "take_profit_mtf_target_ladder",
        10,
        102.1,
        market(0.3, +1),
        ["timing", "mtf_alignment", "profit_target", "ladder"],
        "TIMING_TAKE_PROFIT",
    ),
    # momentum reversed, alignment unknown (no timing action can be judged): mtf ahead of the target
    (
        "mtf_reversal_and_profit_target",
        10,
        102.1,
        market(None, -1),
        ["mtf_alignment", "signal_reversal", "profit_target"],
        "MOMENTUM_REVERSED",
    ),
    # a time exit needs the P&L below +0.5 %, every rung above it: the two never fire together
    ("ladder_alone_after_2h", 130, 100.6, {}, ["ladder"], "LADDER_RUNG"),
]


@pytest.mark.parametrize("case", PRIORITY, ids=[c[0] for c in PRIORITY])
def test_the_first_tier_in_priority_wins(case):
    _, minute, price, mkt, tiers, reason = case
    e = ev(price, minute, mkt)
    assert list(fired(e)) == tiers
    order = [PLAN.exits.priority.index(s.tier) for s in e.fired]
    assert order == sorted(order)
    assert (e.chosen or e.partial).reason == reason
    if e.chosen:
        assert e.partial is None  # partial closes only when no full exit fires


# ------------------------------------------------------------------ grace windows and the minimum hold


def _intent(conviction: str):
    components = {
        "HIGH": [
            {"id": c, "direction": "LONG", "confidence": 1.0}
            for c in ("liquidation_cascade", "whale_flow", "funding_rate", "hurst", "lead_lag")
        ],
        "LOW": [{"id": c, "direction": "LONG", "confidence": 0.8} for c in ("whale_flow", "funding_rate")],
    }
    record = signal_record(PLAN, "BTCUSDT", {"components": components[conviction], "conviction": conviction}, T0)
    decision = decide_entry(
        PLAN,
        record,
        {"price": 100.0, "spread_bps": 2.0, "price_age_s": 5},
        portfolio({"equity_usd": 10_000, "available_margin_usd": 10_000}),
        {},
        T0,
    )
    assert decision.intent is not None, decision.first_blocker
    return decision.intent


@pytest.mark.parametrize("conviction, grace_s", [("LOW", 120), ("HIGH", 300)])
def test_entry_sets_the_grace_window_by_conviction(conviction, grace_s):
    intent = _intent(conviction)
    assert intent.grace_window_s == grace_s
    fill = Fill("f1", intent.client_order_id, "BTCUSDT", "buy", intent.base_quantity, 100.0, 0.0, "taker", T0 + 60)
    opened = lifecycle.open_position(
        intent, fill, conviction=conviction, confidence=0.9, alignment=0.6, trend=1, attribution={}
    )
    assert opened.grace_until == T0 + 60 + grace_s


EVERYTHING_BAD = market(0.05, -1)  # alignment lost and momentum reversed


@pytest.mark.parametrize("minute, protected", [(0, True), (2, True), (4.99, True), (5, False), (6, False)])
def test_the_300s_minimum_hold_covers_the_2_minute_standard_grace_window(minute, protected):
    """Default rules: min_hold 300 s ≥ both grace windows, so the minimum hold is what protects."""
    e = ev(102.5, minute, EVERYTHING_BAD)
    assert e.protected is protected
    assert (e.chosen is None) is protected


@pytest.mark.parametrize("price", [102.5, 100.0, 97.6])
def test_nothing_but_the_stop_fires_while_protected(price):
    e = ev(price, 1, EVERYTHING_BAD)
    assert e.protected and e.fired == () and e.chosen is None and e.partial is None
    stopped = ev(97.0, 1, EVERYTHING_BAD)
    assert list(fired(stopped)) == ["stop_loss"]  # not even the timing FORCE_EXIT (pnl −3 < −2.5)
    assert stopped.timing_action == "FORCE_EXIT"  # the action is chosen, the tier stays silent


@pytest.fixture(scope="module")
def short_min_hold(tmp_path_factory):
    """min_hold 60 s, so the grace windows (2 min, 5 min) are what protects."""
    return plan_with(tmp_path_factory.mktemp("minhold"), {"exits": lambda d: d.update(min_hold="60s")})


@pytest.mark.parametrize(
    "conviction, grace_s, minute, protected",
    [
        ("LOW", 120, 1.5, True),
        ("LOW", 120, 2, False),
        ("HIGH", 300, 2, True),
        ("HIGH", 300, 4.99, True),
        ("HIGH", 300, 5, False),
    ],
)
def test_grace_window_2_min_standard_5_min_high_conviction(short_min_hold, conviction, grace_s, minute, protected):
    pos = position(conviction=conviction, grace_s=grace_s)
    e = ev(102.5, minute, EVERYTHING_BAD, pos, the_plan=short_min_hold)
    assert e.protected is protected
    assert (chosen(e) is None) is protected
    assert next(iter(fired(ev(97.0, minute, EVERYTHING_BAD, pos, the_plan=short_min_hold)))) == "stop_loss"


# ------------------------------------------------------------------ P&L basis


@pytest.fixture(scope="module")
def margin_plan(tmp_path_factory):
    return plan_with(tmp_path_factory.mktemp("margin"), {"exits": lambda d: d.update(pnl_basis="margin")})


@pytest.mark.parametrize(
    "leverage, price, basis_pnl, stops",
    [
        # margin basis: P&L = price move × leverage, so −2.5 % at 3x is a 0.833 % price move
        (3, 99.17, -2.49, False),  # −0.83 % × 3
        (3, 99.16, -2.52, True),  # −0.84 % × 3
        (5, 99.49, -2.55, True),  # −0.51 % × 5
        (2, 98.8, -2.4, False),  # −1.2 % × 2
    ],
)
def test_margin_basis_changes_what_minus_2_5_percent_means(margin_plan, leverage, price, basis_pnl, stops):
    pos = position(leverage=leverage)
    on_margin = ev(price, 30, pos=pos, the_plan=margin_plan)
    assert on_margin.pnl_pct == pytest.approx(basis_pnl)
    assert (chosen(on_margin) == "STOP_LOSS") is stops
    on_price = ev(price, 30, pos=pos)
    assert on_price.pnl_pct == pytest.approx(price - 100.0) and chosen(on_price) != "STOP_LOSS"


def test_margin_basis_moves_every_tier(margin_plan):
    pos = position(leverage=3)
    assert chosen(ev(100.7, 6, pos=pos, the_plan=margin_plan)) == "TAKE_PROFIT"  # +0.7 % × 3 = +2.1 %
    assert ev(100.2, 30, pos=pos, the_plan=margin_plan).partial.rungs == (0,)  # +0.6 % > +0.5 %
    assert chosen(ev(100.7, 6, pos=pos)) is None  # price basis: +0.7 %


# ------------------------------------------------------------------ failure policy of the timing expressions


def test_missing_input_the_action_does_not_fire():
    # no market values at all: TAKE_PROFIT (pnl +1.6) cannot be judged without alignment_delta
    e = ev(101.6, 10, {})
    assert e.timing_action == "HOLD" and "timing" not in fired(e)
    # momentum reversed, alignment still warming up: EXIT_NOW reads alignment first and cannot be judged
    reversed_unknown = ev(100.0, 10, market(None, -1))
    assert reversed_unknown.timing_action == "HOLD"


def test_missing_entry_alignment_blocks_take_profit_even_when_momentum_stalls():
    """A position opened before the alignment warmed up has no alignment_delta, ever: TAKE_PROFIT
    ("alignment_delta < -0.25 or not momentum_continuing") is unevaluable although momentum
    stalled, and EXIT_SOONER can never fire for it."""
    e = ev(101.6, 10, market(0.6, 0), position(alignment_at_entry=None))
    assert e.timing_action == "HOLD" and chosen(e) is None
    assert ev(101.6, 10, market(0.6, 0)).timing_action == "TAKE_PROFIT"


def test_numeric_fault_in_a_closing_action_fires_it():
    nan = float("nan")
    fault = ev(100.0, 10, {"mtf_long": nan, "ema_spread_pct": 0.1})  # EXIT_NOW reads a NaN alignment
    assert fault.timing_action == "EXIT_NOW" and chosen(fault) == "TIMING_EXIT_NOW"
    priceless = ev(nan, 10, {})  # P&L NaN: FORCE_EXIT reads it first
    assert priceless.timing_action == "FORCE_EXIT" and chosen(priceless) == "TIMING_FORCE_EXIT"
    assert math.isnan(priceless.pnl_pct) and "stop_loss" not in fired(priceless)


def test_numeric_fault_in_a_non_closing_action_falls_through_to_hold():
    # 2 minutes: EXIT_NOW is short-circuited by hold_s > min_hold_s; EXIT_SOONER and
    # HOLD_EXTENDED fault on the NaN alignment and do not close anything: the default HOLD
    e = ev(100.0, 2, {"mtf_long": float("nan"), "ema_spread_pct": 0.1})
    assert (e.timing_action, e.hold_multiplier) == ("HOLD", 1.0)


def test_a_faulting_closing_action_is_still_held_back_by_protection():
    e = ev(float("nan"), 2, {})
    assert e.timing_action == "FORCE_EXIT" and e.protected and e.chosen is None


# ------------------------------------------------------------------ exact thresholds (float arithmetic)

# pnl_pct is sign × (price − entry) / entry × 100, exact at these round thresholds (the last
# column records the case that once failed with (price / entry − 1) × 100)
EXACT = [
    # id, direction, minute, price, ladder_done, tier, should fire, xfail reason ("" = behaves as declared)
    ("long_stop_exactly_minus_2_5", "LONG", 30, 97.5, (), "stop_loss", True, ""),
    (
        "short_stop_exactly_minus_2_5",
        "SHORT",
        30,
        102.5,
        (),
        "stop_loss",
        True,
        "SHORT entry 100, price 102.5 (exactly −2.5 %): expected STOP_LOSS (loss_pct 2.5, `<=`), actual no stop "
        "because pnl_pct = −2.499999999999991",
    ),
    (
        "profit_target_exactly_plus_2_0",
        "LONG",
        30,
        102.0,
        (),
        "profit_target",
        False,
        "LONG entry 100, price 102.0 (exactly +2.0 %): expected no TAKE_PROFIT (strict `>`), actual fires "
        "because pnl_pct = 2.0000000000000018",
    ),
    (
        "time_2h_exactly_minus_0_5",
        "LONG",
        120,
        99.5,
        (),
        "time_exit",
        False,
        "LONG entry 100, price 99.5 at 2 h (exactly −0.5 %): expected no TIME_LIMIT (losing MORE than 0.5 %, `<`), "
        "actual fires because pnl_pct = −0.5000000000000004",
    ),
    (
        "rung2_exactly_plus_1_0",
        "LONG",
        60,
        101.0,
        (0,),
        "ladder",
        False,
        "LONG entry 100, price 101.0 at 60 m (exactly +1.0 %): expected no rung 2 (strict `>`), actual fires "
        "because pnl_pct = 1.0000000000000009",
    ),
    ("rung1_exactly_plus_0_5", "LONG", 30, 100.5, (), "ladder", False, ""),  # 0.4999999999999893: right by luck
    ("rung3_exactly_plus_1_5", "LONG", 90, 101.5, (0, 1), "ladder", False, ""),  # 1.4999999999999902: right by luck
    ("time_4h_exactly_plus_0_2", "LONG", 240, 100.2, (), "time_exit", False, ""),  # 0.20000000000000018
]


@pytest.mark.parametrize("direction, minute, price, done, tier, fires", [pytest.param(*c[1:7], id=c[0]) for c in EXACT])
def test_a_price_exactly_at_a_threshold_is_compared_as_declared(direction, minute, price, done, tier, fires):
    """A price exactly at a tier's threshold must compare as the rule declares: the stop at
    ``<= −2.5``, the profit target and rungs at a strict ``>``, time exits at a strict ``<``."""
    e = ev(price, minute, pos=position(direction=direction, ladder_done=done))
    assert (tier in fired(e)) is fires
