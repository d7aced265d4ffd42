"""PostTrade.trade_stats / account_stats are cached per lookback window (engine/trading/posttrade.py
``_windowed``) and keep the running peak incrementally. They must return exactly — float for
float — what a fresh pass over every trade returns: at every time, exactly on and just past
each window boundary, with trades sharing an exit time, out of exit order, appended directly,
and after a caller mutated a returned dict."""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import replace

import pytest

from engine.trading.posttrade import PostTrade
from tests.lifecycle.helpers import T0, plan
from tests.lifecycle.test_posttrade import trade

# --------------------------------------------------------------- the uncached definitions


def fresh_trade_stats(post: PostTrade, now: float | None = None) -> dict:
    if not post.trades:
        return {}
    horizon = (post.trades[-1].exit_ts if now is None else now) - post.plan.learning.trade_lookback_s
    groups = defaultdict(list)
    for t in post.trades:
        if t.exit_ts >= horizon:
            groups[(t.symbol, t.direction)].append(t)
    return {
        key: {
            "trades": len(ts),
            "win_rate": sum(t.net_pnl > 0 for t in ts) / len(ts),
            "expectancy_pct": sum(t.net_pnl_pct for t in ts) / len(ts),
        }
        for key, ts in groups.items()
    }


def fresh_account_stats(post: PostTrade, equity: float, now: float | None = None) -> dict:
    running = peak = post.start
    for t in post.trades:
        running += t.net_pnl
        peak = max(peak, running)
    lookback = post.plan.requirements.kill_switch.lookback
    end = post.trades[-1].exit_ts if now is None and post.trades else now
    recent = [t for t in post.trades if t.exit_ts >= end - lookback] if post.trades else []
    wins = sum(t.net_pnl > 0 for t in recent)
    return {
        "peak_equity_usd": max(peak, equity),
        "trades": len(recent),
        "win_rate": wins / len(recent) if recent else 0.0,
    }


def _same(a: dict, b: dict) -> bool:
    """Equal, and in the same key order (the order a fresh pass produces)."""
    return a == b and list(a) == list(b)


def probe_times(post: PostTrade) -> list[float | None]:
    """Around every window boundary a trade defines, plus None and far before/after."""
    lookbacks = (post.plan.learning.trade_lookback_s, post.plan.requirements.kill_switch.lookback)
    times: list[float | None] = [None, T0 - 1e9, T0 + 1e9]
    for t in post.trades:
        for edge in [t.exit_ts] + [t.exit_ts + lb for lb in lookbacks]:
            times += [edge, math.nextafter(edge, -math.inf), math.nextafter(edge, math.inf)]
    return times


def assert_matches_fresh(post: PostTrade, times=None) -> None:
    for now in probe_times(post) if times is None else times:
        assert _same(post.trade_stats(now), fresh_trade_stats(post, now)), now
        for equity in (0.0, 10_000.0, 1e9):
            assert post.account_stats(equity, now) == fresh_account_stats(post, equity, now), (now, equity)


def random_trades(n: int, seed: int) -> list:
    """Trades in exit order (as the runner feeds them), some sharing an exit time, with
    P&L values whose float sums depend on the order they are added in."""
    rng = random.Random(seed)
    exit_ts, out = T0, []
    for i in range(n):
        exit_ts += rng.choice((0.0, 60.0, 3600.0, 43_200.0, 86_400.0, 200_000.0))
        pnl_pct = rng.uniform(-3, 3) * 10 ** rng.randint(-3, 3)
        out.append(
            trade(
                i + 1,
                exit_ts=exit_ts,
                symbol=rng.choice(("BTCUSDT", "ETHUSDT", "SOLUSDT")),
                direction=rng.choice(("LONG", "SHORT")),
                net_pnl=pnl_pct * 10,
                net_pnl_pct=pnl_pct,
            )
        )
    return out


@pytest.mark.parametrize("seed", range(3))
def test_cached_stats_equal_a_fresh_pass_after_every_trade(seed):
    post = PostTrade(plan())
    assert_matches_fresh(post, [None, T0])
    for t in random_trades(40, seed):
        post.run(t)
        assert_matches_fresh(post)


def test_a_window_boundary_is_inclusive_and_a_trade_ages_out_just_past_it():
    post = PostTrade(plan())
    lookback = plan().learning.trade_lookback_s
    post.run(trade(1, exit_ts=T0))
    post.run(trade(2, exit_ts=T0 + 10, net_pnl=-1.0, net_pnl_pct=-0.1))
    at_edge = T0 + lookback
    assert post.trade_stats(at_edge)[("BTCUSDT", "LONG")]["trades"] == 2  # exit_ts == horizon counts
    assert post.trade_stats(math.nextafter(at_edge, math.inf))[("BTCUSDT", "LONG")]["trades"] == 1
    assert post.trade_stats(at_edge)[("BTCUSDT", "LONG")]["trades"] == 2  # going back is fine too
    assert post.trade_stats(math.nan) == {}  # nothing is >= NaN
    assert_matches_fresh(post)
    assert_matches_fresh(post, [math.nan, math.inf, -math.inf])


def test_out_of_order_trades_and_nan_times_fall_back_to_a_fresh_pass():
    post = PostTrade(plan())
    for t in random_trades(10, 7):
        post.run(t)
    post.run(trade(99, exit_ts=T0 - 5_000.0, direction="SHORT"))  # earlier than the ones before it
    assert_matches_fresh(post)
    post.run(trade(100, exit_ts=post.trades[-2].exit_ts + 1.0))
    assert_matches_fresh(post)
    assert_matches_fresh(post, [math.nan])
    nan_exit = PostTrade(plan())
    nan_exit.run(trade(1, exit_ts=math.nan))
    assert_matches_fresh(nan_exit, [None, T0, math.nan])


def test_trades_appended_directly_and_mutated_answers_do_not_leak_into_the_cache():
    post = PostTrade(plan())
    trades = random_trades(12, 3)
    for t in trades[:6]:
        post.run(t)
    now = trades[5].exit_ts
    post.trade_stats(now)[("BTCUSDT", "LONG")] = {"trades": 1_000}  # a caller scribbles on it
    for stats in post.trade_stats(now).values():
        stats["trades"] = -1
    assert _same(post.trade_stats(now), fresh_trade_stats(post, now))
    post.trades.extend(trades[6:])  # not through run()
    assert_matches_fresh(post)


def test_a_restart_rebuilds_the_same_answers():
    trades = random_trades(25, 11)
    live, rebuilt = PostTrade(plan()), PostTrade(plan())
    for t in trades:
        live.run(t)
        live.trade_stats(t.exit_ts)  # warm the live caches step by step
        live.account_stats(10_000.0, t.exit_ts)
    for t in trades:
        rebuilt.run(replace(t))
    for now in probe_times(live):
        assert _same(rebuilt.trade_stats(now), live.trade_stats(now))
        assert rebuilt.account_stats(10_000.0, now) == live.account_stats(10_000.0, now)
