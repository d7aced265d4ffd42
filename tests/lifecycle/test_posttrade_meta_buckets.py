"""The post-trade ``meta_buckets`` hook (seed "Post-Trade Review" 7, phase1016: "Aggregates
outcomes by meta-buckets; updates meta-level statistics"; engine/trading/posttrade.py):
outcomes per symbol × side × conviction × hold bucket (the hold_time learner's
short/medium/long), with known answers; a trade is counted once however often the hook
runs on it; the buckets rebuilt after a restart equal those of the uninterrupted run."""

from __future__ import annotations

import pytest

from adapters.store.state import StateStore
from engine.trading.posttrade import PostTrade, hold_bucket, hold_buckets
from tests.lifecycle.helpers import Harness, plan, plan_with
from tests.lifecycle.test_posttrade import market_run, outputs, trade  # noqa: F401  (market_run: a fixture)

ALPHA = 1 - 0.5 ** (1 / 20)  # the expectancy ledger's decay: half-life 20 trades


def meta(post: PostTrade, t) -> dict:
    return outputs(post.run(t))["meta_buckets"]


def test_hold_buckets_are_the_hold_time_learners():
    buckets = hold_buckets(plan().learning)
    assert buckets == (("short", 1800.0), ("medium", 7200.0), ("long", 28800.0))
    cases = [(0.0, "short"), (1800.0, "short"), (1800.5, "medium"), (7200.0, "medium"), (28800.0, "long")]
    for duration, name in cases + [(28801.0, "beyond")]:
        assert hold_bucket(duration, buckets) == name
    assert hold_bucket(60.0, ()) == "any"


def test_outcomes_are_aggregated_per_meta_bucket_with_known_answers():
    post = PostTrade(plan())
    # BTCUSDT LONG LOW, held 1 h (medium): +14, −6, +1 USD at +1.4 %, −0.6 %, +0.1 %
    first = meta(post, trade(1))
    assert first == {
        "key": "BTCUSDT:LONG:LOW:medium",
        "symbol": "BTCUSDT",
        "direction": "LONG",
        "conviction": "LOW",
        "hold_bucket": "medium",
        "counted": True,
        "trades": 1,
        "wins": 1,
        "win_rate": 1.0,
        "net_pnl_usd": 14.0,
        "avg_net_pnl_usd": 14.0,
        "expectancy_pct": 1.4,  # the first trade sets it
    }
    meta(post, trade(2, net_pnl=-6.0, net_pnl_pct=-0.6))
    third = meta(post, trade(3, net_pnl=1.0, net_pnl_pct=0.1))
    assert (third["trades"], third["wins"], third["win_rate"]) == (3, 2, pytest.approx(2 / 3))
    assert third["net_pnl_usd"] == pytest.approx(9.0) and third["avg_net_pnl_usd"] == pytest.approx(3.0)
    second_expectancy = 1.4 + ALPHA * (-0.6 - 1.4)
    assert third["expectancy_pct"] == pytest.approx(second_expectancy + ALPHA * (0.1 - second_expectancy))
    # each dimension opens its own bucket
    meta(post, trade(4, direction="SHORT"))
    meta(post, trade(5, conviction="HIGH"))
    meta(post, trade(6, symbol="ETHUSDT"))
    meta(post, trade(7, duration_s=600.0))
    meta(post, trade(8, duration_s=36000.0, net_pnl=-2.0, net_pnl_pct=-0.2))
    assert {key: (b["trades"], b["wins"]) for key, b in post.meta.items()} == {
        "BTCUSDT:LONG:LOW:medium": (3, 2),
        "BTCUSDT:SHORT:LOW:medium": (1, 1),
        "BTCUSDT:LONG:HIGH:medium": (1, 1),
        "ETHUSDT:LONG:LOW:medium": (1, 1),
        "BTCUSDT:LONG:LOW:short": (1, 1),
        "BTCUSDT:LONG:LOW:beyond": (1, 0),
    }
    assert post.meta["BTCUSDT:LONG:LOW:beyond"]["win_rate"] == 0.0


def test_without_a_hold_time_learner_the_hold_is_not_bucketed(tmp_path):
    def drop(doc):
        doc["learners"] = [learner for learner in doc["learners"] if learner["kind"] != "hold_time"]

    bare = plan_with(tmp_path, {"learning": drop})
    assert meta(PostTrade(bare), trade())["key"] == "BTCUSDT:LONG:LOW:any"


def test_running_the_hook_again_on_a_trade_does_not_count_it_twice():
    post = PostTrade(plan())
    meta(post, trade(1))
    before = dict(post.meta["BTCUSDT:LONG:LOW:medium"])
    again = meta(post, trade(1))  # a retry of the same trade
    assert again["counted"] is False and again["trades"] == 1
    assert post.meta["BTCUSDT:LONG:LOW:medium"] == before
    assert meta(post, trade(2))["trades"] == 2


def test_the_hook_is_recorded_once_per_trade_through_the_runner(market_run):  # noqa: F811
    h = Harness()
    for snap in market_run:
        h.runner.step(snap)
    trades = h.store.trades()
    assert len(trades) >= 10
    runs = [r for r in h.store.hook_runs() if r.hook == "meta_buckets"]
    assert sorted(r.trade_id for r in runs) == sorted(t.id for t in trades)
    assert all((r.status, r.attempts) == ("ok", 1) for r in runs)
    reports = [r for r in h.records["post_trade"] if r["hook"] == "meta_buckets"]
    assert len(reports) == len(trades) and all(r["output"]["counted"] for r in reports)
    assert sum(b["trades"] for b in h.runner.post_trade.meta.values()) == len(trades)
    assert sum(b["net_pnl_usd"] for b in h.runner.post_trade.meta.values()) == pytest.approx(
        sum(t.net_pnl for t in trades)
    )


def test_buckets_rebuilt_after_a_restart_equal_the_uninterrupted_run(market_run):  # noqa: F811
    reference = Harness()
    for snap in market_run:
        reference.runner.step(snap)
    expected = reference.runner.post_trade.meta

    cut = len(market_run) // 2
    store = StateStore(":memory:")
    first = Harness(store=store)
    for snap in market_run[:cut]:
        first.runner.step(snap)
    restarted = Harness(store=store)  # rebuilt from the stored trades: each counted once
    assert restarted.runner.post_trade.meta == first.runner.post_trade.meta
    for snap in market_run[:cut]:
        restarted.runner.warm(snap)
    for snap in market_run[cut:]:
        restarted.runner.step(snap)
    assert restarted.runner.post_trade.meta == expected
    runs = [r for r in store.hook_runs() if r.hook == "meta_buckets"]
    assert len(runs) == len(store.trades()) and all(r.attempts == 1 for r in runs)
