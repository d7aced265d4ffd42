"""Each scheduled task's behaviour on a small fake context, thresholds included, and purity."""

from __future__ import annotations

import dataclasses
import types

import pytest

from engine.bot.tasks import (
    TASKS,
    digest,
    expire_manual_overrides,
    fee_audit,
    is_loop_task,
    learn,
    maintenance,
    override_audit,
    portfolio_reconciliation,
    recovery_cycle,
    task_registry,
    watchdog,
)
from engine.bot.tasks.base import (
    CancelOrder,
    ExpireOverride,
    ForgetPending,
    OptimizeState,
    Override,
    PruneLogs,
    RunLearning,
    SetTradingState,
)
from engine.language.registry import RegistryError
from tests.bot.fakes import NOW, FakeContext, broker_position, fill, order, plan, position, task_run, trade

RECON = portfolio_reconciliation.Params()
WATCH = watchdog.Params(heartbeat_stale_after_s=180.0)
RECOVER = recovery_cycle.Params()


def states(outcome) -> list[tuple[str, str]]:
    return [(a.state, a.source) for a in outcome.actions if isinstance(a, SetTradingState)]


# ------------------------------------------------------------------ registry


def test_registry_names_every_task_of_the_default_rules_and_only_bot_cycle_is_the_loops():
    assert set(TASKS) == {
        "bot_cycle",
        "portfolio_reconciliation",
        "watchdog",
        "fee_audit",
        "recovery_cycle",
        "override_audit",
        "expire_manual_overrides",
        "digest",
        "maintenance",
        "learn",
    }
    assert [name for name in TASKS if is_loop_task(name)] == ["bot_cycle"]
    assert not hasattr(TASKS["bot_cycle"], "run")


def test_registry_refuses_a_task_with_both_run_and_loop_task_and_one_with_neither():
    both = types.ModuleType("both")
    vars(both).update({name: getattr(watchdog, name) for name in ("NAME", "SUMMARY", "READS", "EFFECTS", "Params")})
    vars(both).update({"schema": watchdog.schema, "compile_params": watchdog.compile_params, "check": watchdog.check})
    both.run = watchdog.run
    both.LOOP_TASK = True
    with pytest.raises(RegistryError, match="exactly one of run"):
        task_registry((both,))
    del both.run, both.LOOP_TASK
    with pytest.raises(RegistryError, match="exactly one of run"):
        task_registry((both,))


# ------------------------------------------------------------------ portfolio_reconciliation


def test_reconciliation_in_step_is_ok_and_changes_nothing():
    ctx = FakeContext(
        open_positions=(position("BTCUSDT", "LONG", 2.0), position("ETHUSDT", "SHORT", 3.0)),
        broker_positions=(broker_position("BTCUSDT", 2.0), broker_position("ETHUSDT", -3.0)),
        pending_orders={"a": NOW - 600},
        broker_open_orders=(order("a", created_at=NOW - 600),),
    )
    outcome = portfolio_reconciliation.run(RECON, ctx)
    assert outcome.status == "ok" and outcome.actions == ()


def test_reconciliation_tolerance_is_inclusive_and_a_bit_more_reduces():
    at_limit = FakeContext(
        open_positions=(position("BTCUSDT", "LONG", 1.995),), broker_positions=(broker_position("BTCUSDT", 2.0),)
    )
    assert portfolio_reconciliation.run(RECON, at_limit).status == "ok"  # 0.005 = 0.5 % of 2.0
    beyond = dataclasses.replace(at_limit, open_positions=(position("BTCUSDT", "LONG", 1.98),))
    outcome = portfolio_reconciliation.run(RECON, beyond)
    assert outcome.status == "warning"
    assert states(outcome) == [("REDUCING", "portfolio_reconciliation")]
    assert outcome.details["discrepancies"] == ["BTCUSDT: the bot holds long 1.98, the broker long 2"]


def test_reconciliation_lists_every_discrepancy_of_positions_and_orders():
    ctx = FakeContext(
        open_positions=(position("ETHUSDT", "LONG", 1.0),),
        broker_positions=(broker_position("BTCUSDT", -1.0),),
        pending_orders={"lost": NOW - 300, "young": NOW - 10},
        broker_open_orders=(order("stray", created_at=NOW - 300), order("fresh", created_at=NOW - 10)),
    )
    found = portfolio_reconciliation.run(RECON, ctx).details["discrepancies"]
    assert found == [
        "BTCUSDT: the bot holds flat 0, the broker short 1",
        "ETHUSDT: the bot holds long 1, the broker flat 0",
        "order lost: pending in the bot, not open at the broker",
        "order stray: open at the broker (BTCUSDT buy), not tracked by the bot",
    ]


def test_reconciliation_order_grace_boundary():
    exactly = FakeContext(pending_orders={"a": NOW - 120})  # exactly the grace: compared
    assert portfolio_reconciliation.run(RECON, exactly).status == "warning"
    inside = FakeContext(pending_orders={"a": NOW - 119.5})
    assert portfolio_reconciliation.run(RECON, inside).status == "ok"


def test_reconciliation_lifts_only_when_restricted():
    reduced = FakeContext(trading_state=("REDUCING", "reconciliation: ..."))
    outcome = portfolio_reconciliation.run(RECON, reduced)
    assert outcome.status == "ok" and states(outcome) == [("ACTIVE", "portfolio_reconciliation")]
    assert states(portfolio_reconciliation.run(RECON, FakeContext())) == []


# ------------------------------------------------------------------ watchdog


def test_watchdog_healthy():
    ctx = FakeContext(heartbeats={"loop": NOW - 30, "feed": NOW - 60}, pending_orders={"a": NOW - 60})
    outcome = watchdog.run(WATCH, ctx)
    assert outcome.status == "ok" and outcome.actions == ()


def test_watchdog_stale_heartbeat_reduces_exactly_at_the_limit_is_fresh():
    at_limit = FakeContext(heartbeats={"loop": NOW - 180})
    assert watchdog.run(WATCH, at_limit).status == "ok"
    stale = FakeContext(heartbeats={"loop": NOW - 30, "feed": NOW - 181})
    outcome = watchdog.run(WATCH, stale)
    assert outcome.status == "warning"
    assert outcome.details["stale_heartbeats"] == {"feed": 181}
    assert outcome.actions == (SetTradingState("REDUCING", "watchdog: stale heartbeat(s): feed", "watchdog"),)


def test_watchdog_lifts_its_reduction_when_healthy_again():
    ctx = FakeContext(trading_state=("REDUCING", "watchdog: stale"), heartbeats={"loop": NOW})
    assert states(watchdog.run(WATCH, ctx)) == [("ACTIVE", "watchdog")]


def test_watchdog_cancels_stuck_orders_beyond_the_limit():
    ctx = FakeContext(pending_orders={"old": NOW - 601, "edge": NOW - 600, "new": NOW - 5})
    outcome = watchdog.run(WATCH, ctx)
    assert outcome.status == "warning"
    assert [a.client_order_id for a in outcome.actions if isinstance(a, CancelOrder)] == ["old"]
    assert states(outcome) == []  # a stuck order is cancelled, trading goes on


def test_watchdog_ages_an_order_by_the_market_it_has_seen_not_the_clock():
    """A replay's gap (or a silent feed): no market data came since the order was sent, so it
    could not fill, and it is not stuck; once the market has gone on, it is."""
    gap = FakeContext(pending_orders={"o": NOW - 1200}, market_ts=NOW - 1140)  # 60 s of market since
    assert [a for a in watchdog.run(WATCH, gap).actions if isinstance(a, CancelOrder)] == []
    moved = FakeContext(pending_orders={"o": NOW - 1200}, market_ts=NOW - 599)  # 601 s of market since
    assert [a.client_order_id for a in watchdog.run(WATCH, moved).actions if isinstance(a, CancelOrder)] == ["o"]


def test_watchdog_disk_below_minimum_warns_at_the_minimum_does_not():
    assert watchdog.run(WATCH, FakeContext(disk_free_bytes=10**9)).status == "ok"
    outcome = watchdog.run(WATCH, FakeContext(disk_free_bytes=10**9 - 1))
    assert outcome.status == "warning" and "disk" in outcome.summary and outcome.actions == ()


def test_watchdog_log_growth_per_day():
    day_ago = {"decisions.jsonl": 50 * 10**6}
    at_limit = FakeContext(log_sizes={"decisions.jsonl": 250 * 10**6}, log_sizes_day_ago=day_ago)
    assert watchdog.run(WATCH, at_limit).status == "ok"
    above = FakeContext(
        log_sizes={"decisions.jsonl": 200 * 10**6, "x.jsonl": 50 * 10**6 + 1}, log_sizes_day_ago=day_ago
    )
    outcome = watchdog.run(WATCH, above)
    assert outcome.status == "warning" and "logs grew 200.0 MB" in outcome.summary
    unknown = FakeContext(log_sizes={"decisions.jsonl": 10**12})  # no size a day ago: nothing to compare
    assert watchdog.run(WATCH, unknown).details["log_growth_mb_per_day"] is None


def test_watchdog_consecutive_failures_counted_from_the_last_success():
    two = (task_run("digest", "failed", NOW - 300), task_run("digest", "failed", NOW - 200))
    assert watchdog.run(WATCH, FakeContext(recent_runs=two)).status == "ok"
    three = (task_run("digest", "failed", NOW - 400), *two)
    outcome = watchdog.run(WATCH, FakeContext(recent_runs=three))
    assert outcome.status == "warning" and outcome.details["failing_tasks"] == {"digest": 3}
    assert states(outcome) == []  # a failing digest does not touch trading
    reset = (*three, task_run("digest", "ok", NOW - 100))
    assert watchdog.run(WATCH, FakeContext(recent_runs=reset)).status == "ok"


def test_watchdog_repeatedly_failing_bot_cycle_reduces():
    runs = tuple(task_run("bot_cycle", "failed", NOW - 60 * i) for i in (3, 2, 1))
    outcome = watchdog.run(WATCH, FakeContext(recent_runs=runs))
    assert states(outcome) == [("REDUCING", "watchdog")]
    assert "bot_cycle failed 3 times in a row" in outcome.actions[0].reason


def test_watchdog_default_staleness_is_three_bot_cycles():
    from engine.language.kinds.schedules import Job

    jobs = (Job(id="c", every_s=30.0, at_minute=None, weekdays=(), tasks=("bot_cycle",)),)
    assert watchdog.compile_params({}, jobs).heartbeat_stale_after_s == 90.0
    assert watchdog.compile_params({"heartbeat_stale_after": 600.0}, jobs).heartbeat_stale_after_s == 600.0


# ------------------------------------------------------------------ fee_audit


def test_fee_audit_fees_as_scheduled_within_tolerance():
    fills = (
        fill("f1", fee=0.5, liquidity="taker"),  # 1000 × 0.05 %
        fill("f2", fee=0.2, liquidity="maker"),  # 1000 × 0.02 %
        fill("f3", fee=0.55, liquidity="liquidation"),  # taker rate, exactly 10 % off: tolerated
    )
    outcome = fee_audit.run(fee_audit.Params(), FakeContext(fills=fills))
    assert outcome.status == "ok", outcome.summary
    assert outcome.details["fills"] == 3 and outcome.details["expected"] == pytest.approx(1.2)


def test_fee_audit_names_the_fills_that_deviate():
    fills = (fill("ok", fee=0.5), fill("high", fee=0.56, symbol="ETHUSDT"), fill("free", fee=0.0, liquidity="maker"))
    outcome = fee_audit.run(fee_audit.Params(), FakeContext(fills=fills))
    assert outcome.status == "warning"
    assert [o["fill_id"] for o in outcome.details["deviating"]] == ["high", "free"]
    assert "high (ETHUSDT taker)" in outcome.summary and "free (BTCUSDT maker)" in outcome.summary


def test_fee_audit_window_starts_at_the_last_audit():
    fills = (fill("before", fee=9.0, ts=NOW - 500), fill("after", fee=0.5, ts=NOW - 100))
    first = FakeContext(fills=fills)  # no audit yet: the lookback (10 min) covers both
    assert fee_audit.run(fee_audit.Params(), first).status == "warning"
    audited = dataclasses.replace(first, recent_runs=(task_run("fee_audit", "ok", NOW - 300),))
    outcome = fee_audit.run(fee_audit.Params(), audited)
    assert outcome.status == "ok" and outcome.details["fills"] == 1


def test_fee_audit_zero_rate_expects_zero():
    free = dataclasses.replace(FakeContext().plan.venues.exchange("kraken_futures"), maker_fee_pct=0.0)
    ctx = FakeContext(plan=plan(venue=free), fills=(fill("m", fee=0.0, liquidity="maker"),))
    assert fee_audit.run(fee_audit.Params(), ctx).status == "ok"
    charged = dataclasses.replace(ctx, fills=(fill("m", fee=0.01, liquidity="maker"),))
    assert fee_audit.run(fee_audit.Params(), charged).details["deviating"][0]["deviation_pct"] is None


# ------------------------------------------------------------------ recovery_cycle


def test_recovery_forgets_lost_orders_and_cancels_untracked_ones_after_the_grace():
    ctx = FakeContext(
        pending_orders={"lost": NOW - 120, "young": NOW - 119, "known": NOW - 500},
        broker_open_orders=(
            order("known", created_at=NOW - 500),
            order("stray", created_at=NOW - 120),
            order("fresh", created_at=NOW - 30),
            order("done", created_at=NOW - 900, status="filled"),
        ),
    )
    outcome = recovery_cycle.run(RECOVER, ctx)
    assert outcome.status == "warning"
    assert outcome.actions == (
        ForgetPending("lost", "recovery: the broker has no open order with this id"),
        CancelOrder("stray", "recovery: open at the broker but not tracked by the bot"),
    )


def test_recovery_halts_on_a_position_only_one_side_holds_or_on_opposite_sides():
    ctx = FakeContext(
        open_positions=(position("BTCUSDT", "LONG", 1.0), position("SOLUSDT", "LONG", 1.0)),
        broker_positions=(broker_position("ETHUSDT", 2.0), broker_position("SOLUSDT", -1.0)),
    )
    outcome = recovery_cycle.run(RECOVER, ctx)
    assert states(outcome) == [("HALTED", "recovery_cycle")]
    assert outcome.details["positions"] == [
        "BTCUSDT: the bot is long, the broker flat",
        "ETHUSDT: the bot is flat, the broker long",
        "SOLUSDT: the bot is long, the broker short",
    ]


def test_recovery_leaves_same_side_quantity_differences_to_reconciliation():
    ctx = FakeContext(
        open_positions=(position("BTCUSDT", "LONG", 1.0),), broker_positions=(broker_position("BTCUSDT", 3.0),)
    )
    outcome = recovery_cycle.run(RECOVER, ctx)
    assert outcome.status == "ok" and outcome.actions == ()


def test_recovery_never_lifts_its_halt():
    ctx = FakeContext(trading_state=("HALTED", "recovery: ..."))
    assert recovery_cycle.run(RECOVER, ctx).actions == ()


# ------------------------------------------------------------------ overrides


def override(oid: str, set_ago: float, until_in: float | None) -> Override:
    return Override(oid, "HALTED", "news", NOW - set_ago, None if until_in is None else NOW + until_in)


def test_override_audit_lists_age_and_time_left():
    ctx = FakeContext(overrides=(override("o1", 3600, 7200), override("o2", 60, None)))
    outcome = override_audit.run(override_audit.Params(), ctx)
    assert outcome.status == "ok"
    assert outcome.summary == "2 override(s): o1 HALTED for 1h, 2h left; o2 HALTED for 1m, no expiry"
    assert [(o["id"], o["age_s"], o["left_s"]) for o in outcome.details["overrides"]] == [
        ("o1", 3600, 7200),
        ("o2", 60, None),
    ]


def test_override_audit_warns_on_old_overrides_without_expiry_only():
    day = 86400.0
    at_limit = FakeContext(overrides=(override("o", day, None),))
    assert override_audit.run(override_audit.Params(), at_limit).status == "ok"
    old = FakeContext(overrides=(override("o", day + 1, None), override("timed", 3 * day, 60)))
    outcome = override_audit.run(override_audit.Params(), old)
    assert outcome.status == "warning" and outcome.details["too_old"] == ["o (HALTED: news) set 1d ago, no expiry"]
    assert outcome.actions == ()
    assert override_audit.run(override_audit.Params(), FakeContext()).summary == "no manual override in force"


def test_override_audit_leaves_out_overrides_past_their_expiry():
    """The context gives the overrides not yet lifted, expired ones included (for
    expire_manual_overrides): the audit lists only those still in force."""
    ctx = FakeContext(overrides=(override("gone", 7200, -60), override("now", 7200, 0), override("held", 60, 1)))
    outcome = override_audit.run(override_audit.Params(), ctx)
    assert [o["id"] for o in outcome.details["overrides"]] == ["held"]
    alone = FakeContext(overrides=(override("gone", 3 * 86400, -60),))
    assert override_audit.run(override_audit.Params(), alone).summary == "no manual override in force"


def test_expire_manual_overrides_expires_at_until_not_before():
    ctx = FakeContext(
        overrides=(
            override("past", 7200, -60),
            override("now", 7200, 0),
            override("later", 60, 1),
            override("never", 60, None),
        )
    )
    outcome = expire_manual_overrides.run(expire_manual_overrides.Params(), ctx)
    assert [a.override_id for a in outcome.actions if isinstance(a, ExpireOverride)] == ["past", "now"]
    assert expire_manual_overrides.run(expire_manual_overrides.Params(), FakeContext()).actions == ()


# ------------------------------------------------------------------ digest


def test_digest_writes_the_day_page_with_every_section():
    ctx = FakeContext(
        trades=(
            trade("t1", "BTCUSDT", 12.0),
            trade("t2", "BTCUSDT", -4.0),
            trade("t3", "ETHUSDT", 2.0),
            trade("old", "ETHUSDT", 100.0, exit_ts=NOW - 90000),  # outside the 24 h
        ),
        state_changes=({"ts": NOW - 7200, "state": "REDUCING", "reason": "watchdog: stale", "source": "watchdog"},),
        reloads=(
            {"ts": NOW - 5000, "old_version": "rs-a", "new_version": "rs-b", "errors": [], "duration_s": 0.12},
            {"ts": NOW - 4000, "old_version": "rs-b", "new_version": "", "errors": ["RB352 ..."], "duration_s": 0.05},
        ),
        recent_runs=(task_run("fee_audit", "failed", NOW - 600, error="KeyError: 'x'"),),
        open_positions=(position("ETHUSDT", "SHORT", 0.5),),
        equity_usd=10_010.0,
    )
    outcome = digest.run(digest.Params(), ctx)
    (page,) = outcome.files
    assert page.path == "digest/2026-01-05.md"
    text = page.text
    assert "3 trade(s), 2 won (67%), net P&L +10.00 USD, fees 3.00 USD." in text
    assert "| BTCUSDT | 2 | 1 | +8.00 | 2.00 |" in text and "| ETHUSDT | 1 | 1 | +2.00 | 1.00 |" in text
    assert "REDUCING — watchdog: stale (watchdog)" in text
    assert "rs-a → rs-b in 0.120 s" in text and "refused, 1 error(s); rs-b kept" in text
    assert "fee_audit (fee_audit) after 0.250 s: KeyError: 'x'" in text
    assert "ETHUSDT SHORT 0.5 at 100" in text and "Equity 10010.00 USD" in text
    assert outcome.details["trades"] == 3 and outcome.details["task_failures"] == 1


def test_digest_of_a_quiet_day():
    text = digest.run(digest.Params(), FakeContext()).files[0].text
    for line in ("No trade closed.", "No change.", "No reload.", "None."):
        assert line in text


# ------------------------------------------------------------------ maintenance


def test_maintenance_prunes_closed_days_before_the_retention_and_tidies_the_state():
    sizes = {
        "decisions.2025-12-05.jsonl.gz": 3 * 10**6,  # 31 days before 2026-01-05 08:00: due
        "decisions.2025-12-06.jsonl.gz": 10**6,  # the first day kept (30 days back lands on it)
        "decisions.jsonl": 10**6,  # the live log: never
    }
    outcome = maintenance.run(maintenance.Params(), FakeContext(log_sizes=sizes))
    assert outcome.actions == (PruneLogs("2025-12-06", "learning.logs.keep is 30d"), OptimizeState("daily maintenance"))
    assert outcome.details["due"] == ["decisions.2025-12-05.jsonl.gz"] and outcome.details["bytes"] == 3 * 10**6


# ------------------------------------------------------------------ purity


# ------------------------------------------------------------------ learn

LEARNERS = (
    types.SimpleNamespace(id="signal_weights", schedule="learning_fast"),
    types.SimpleNamespace(id="profit_targets", schedule="learning_daily"),
    types.SimpleNamespace(id="hold_time", schedule="learning_daily"),
)


def test_learn_asks_for_a_cycle_of_the_learners_scheduled_on_its_job_in_their_order():
    ctx = FakeContext(job_id="learning_daily", learning=True, plan=plan(learners=LEARNERS))
    outcome = learn.run(learn.Params(), ctx)
    assert outcome.status == "ok"
    assert outcome.actions == (RunLearning("learning_daily", ("profit_targets", "hold_time"), "job learning_daily"),)
    assert outcome.details == {"job": "learning_daily", "learners": ["profit_targets", "hold_time"], "learning": True}


def test_learn_without_the_learn_flag_only_says_learning_is_off():
    ctx = FakeContext(job_id="learning_fast", learning=False, plan=plan(learners=LEARNERS))
    outcome = learn.run(learn.Params(), ctx)
    assert (outcome.status, outcome.summary, outcome.actions) == ("ok", "learning is off (run with --learn)", ())
    assert outcome.details["learners"] == ["signal_weights"]


def test_learn_on_a_job_no_learner_names_does_nothing():
    ctx = FakeContext(job_id="nightly", learning=True, plan=plan(learners=LEARNERS))
    outcome = learn.run(learn.Params(), ctx)
    assert (outcome.status, outcome.actions) == ("ok", ())
    assert outcome.summary == "no learner is scheduled on job nightly"


PURE_CASES = [
    (portfolio_reconciliation, RECON),
    (watchdog, WATCH),
    (fee_audit, fee_audit.Params()),
    (recovery_cycle, RECOVER),
    (override_audit, override_audit.Params()),
    (expire_manual_overrides, expire_manual_overrides.Params()),
    (digest, digest.Params()),
    (maintenance, maintenance.Params()),
    (learn, learn.Params()),
]


@pytest.mark.parametrize(("module", "params"), PURE_CASES, ids=[m.NAME for m, _ in PURE_CASES])
def test_every_task_is_pure(module, params):
    ctx = FakeContext(
        trading_state=("REDUCING", "x"),
        open_positions=(position("BTCUSDT", "LONG", 1.0),),
        broker_positions=(broker_position("BTCUSDT", 1.5),),
        pending_orders={"p": NOW - 1000},
        broker_open_orders=(order("q", created_at=NOW - 1000),),
        trades=(trade("t", "BTCUSDT", 1.0),),
        fills=(fill("f", fee=1.0),),
        heartbeats={"loop": NOW - 1000},
        recent_runs=tuple(task_run("bot_cycle", "failed", NOW - i) for i in (300, 200, 100)),
        overrides=(override("o", 90000, None), override("e", 100, -1)),
        log_sizes={"a.2025-01-01.jsonl.gz": 5},
    )
    first, again = module.run(params, ctx), module.run(params, dataclasses.replace(ctx))
    assert first == again
    assert first.status in ("ok", "warning")
    assert sorted(m.NAME for m, _ in PURE_CASES) == sorted(n for n in TASKS if not is_loop_task(n))


def test_the_template_is_a_working_task_outside_the_registry():
    from engine.bot.tasks import _template

    assert "template_task" not in TASKS
    registered = task_registry((_template,))
    module = registered["template_task"]
    params = module.compile_params({}, ())
    assert module.run(params, FakeContext(equity_usd=99.0)).status == "warning"
    assert module.run(params, FakeContext(equity_usd=100.0)).status == "ok"
    assert module.schema()["properties"]["min_equity_usd"]["default"] == 100
