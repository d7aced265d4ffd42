"""Post-trade review (seed "Post-Trade Processing Pipeline"; rules/learning.yaml post_trade;
engine/trading/posttrade.py): the hooks run in the declared order after every closed trade and each
produces its record; a failing hook is reported ``failed`` while the others still run and the
trade stays stored; the ledgers are derived data, rebuilt from the stored trades on restart.
"""

from __future__ import annotations

import json
from dataclasses import replace
from types import MappingProxyType

import pytest

from adapters.store.state import StateStore
from engine.market.snapshot import parse_snapshot
from engine.trading.positions import TradeRecord
from engine.trading.posttrade import STRATEGY, PostTrade
from tests.lifecycle.helpers import T0, Harness, enter, plan, plan_with, snapshot
from tests.lifecycle.market import snapshots as synthetic_market

HOOKS = (
    "attribution",
    "expectancy_ledger",
    "prediction_calibration",
    "meta_buckets",
    "timing_outcome",
    "outcome_record",
)


def trade(n: int = 1, **changes) -> TradeRecord:
    """A closed LONG: 0.01 BTC at 100 000 (notional 1 000) → 101 500 (+1.5 %), 1 h, fees 0.9,
    funding 0.1 paid: gross 15, net 14 (1.4 %); best P&L seen +2.0 %."""
    base = TradeRecord(
        id=f"t{n}",
        symbol="BTCUSDT",
        direction="LONG",
        venue="kraken_futures",
        entry_ts=T0,
        exit_ts=T0 + 3600 * n,
        entry_price=100_000.0,
        exit_price=101_500.0,
        quantity=0.01,
        leverage=2.0,
        gross_pnl=15.0,
        fees=0.9,
        funding=0.1,
        net_pnl=14.0,
        net_pnl_pct=1.4,
        duration_s=3600.0,
        exit_reason="TAKE_PROFIT",
        exit_tier="profit_target",
        entry_version="rs-a",
        exit_version="rs-b",
        conviction="LOW",
        confidence=0.857,
        attribution=MappingProxyType({"liquidation_cascade": 0.22, "fear_greed": 0.02}),
        peak_pnl_pct=2.0,
    )
    return replace(base, **changes)


def outputs(reports) -> dict:
    return {r["hook"]: r["output"] for r in reports}


# ------------------------------------------------------------------ order and records


def test_the_hooks_are_declared_in_the_seed_order():
    assert plan().learning.post_trade_hooks == HOOKS
    assert plan().learning.expectancy_half_life_trades == 20
    assert plan().learning.calibration_buckets == 10


def test_every_hook_runs_in_order_and_reports_ok():
    reports = PostTrade(plan()).run(trade())
    assert [r["hook"] for r in reports] == list(HOOKS)
    assert all(r["status"] == "ok" and r["trade_id"] == "t1" for r in reports)


def test_attribution_splits_net_pnl_by_component_weight():
    post = PostTrade(plan())
    out = outputs(post.run(trade()))["attribution"]
    # net 14 split by |contribution|: 0.22 / 0.24 and 0.02 / 0.24 → 12.8333… and 1.1666…
    assert out["components"] == pytest.approx({"liquidation_cascade": 14 * 0.22 / 0.24, "fear_greed": 14 * 0.02 / 0.24})
    assert (out["symbol"], out["venue"], out["strategy"]) == ("BTCUSDT", "kraken_futures", STRATEGY)
    # a losing SHORT (contributions are negative for SHORT votes): the shares carry the loss
    post.run(
        trade(
            2,
            direction="SHORT",
            net_pnl=-6.0,
            attribution=MappingProxyType({"liquidation_cascade": -0.22, "whale_flow": -0.20}),
        )
    )
    ledger = post.attribution
    assert ledger["component:liquidation_cascade"]["net_pnl"] == pytest.approx(14 * 0.22 / 0.24 - 6 * 0.22 / 0.42)
    assert ledger["component:whale_flow"]["net_pnl"] == pytest.approx(-6 * 0.20 / 0.42)
    assert ledger["component:fear_greed"]["trades"] == 1
    for key in ("symbol:BTCUSDT", f"strategy:{STRATEGY}", "venue:kraken_futures"):
        assert (ledger[key]["net_pnl"], ledger[key]["trades"]) == (pytest.approx(8.0), 2)


def test_expectancy_ledger_execution_edge_and_exit_efficiency():
    out = outputs(PostTrade(plan()).run(trade()))["expectancy_ledger"]
    # exec edge = −(fees 0.9 + funding 0.1) / notional (100 000 × 0.01 = 1 000) × 1e4 = −10 bps
    assert out["exec_edge_bps"] == pytest.approx(-10.0)
    # exit efficiency = price move captured (+1.5 %) / best P&L seen (+2.0 %) = 0.75
    assert out["exit_efficiency"] == pytest.approx(0.75)
    assert (out["key"], out["trades"], out["net_pnl_pct"]) == ("BTCUSDT:LONG", 1, 1.4)


@pytest.mark.parametrize(
    "changes, bps",
    [
        ({"fees": 0.9, "funding": -0.1}, -8.0),  # funding received improves the edge: −(0.9 − 0.1) / 1 000 × 1e4
        ({"fees": 0.0, "funding": 0.0}, 0.0),
        ({"fees": 1.0, "funding": 0.5}, -15.0),
    ],
)
def test_execution_edge_bps(changes, bps):
    assert outputs(PostTrade(plan()).run(trade(**changes)))["expectancy_ledger"]["exec_edge_bps"] == pytest.approx(bps)


@pytest.mark.parametrize(
    "exit_price, peak, efficiency",
    [
        (101_500.0, 2.0, 0.75),  # +1.5 % of a +2.0 % best
        (102_000.0, 2.0, 1.0),  # exited at the best
        (102_500.0, 2.0, 1.0),  # above the best seen (clipped to 1)
        (99_000.0, 1.0, 0.0),  # gave back the whole +1 % and more (clipped to 0)
        (99_000.0, 0.0, 0.0),  # never in profit and lost
        (100_000.0, 0.0, 1.0),  # never in profit, flat
    ],
)
def test_exit_efficiency(exit_price, peak, efficiency):
    out = outputs(PostTrade(plan()).run(trade(exit_price=exit_price, peak_pnl_pct=peak)))["expectancy_ledger"]
    assert out["exit_efficiency"] == pytest.approx(efficiency)


def test_exit_efficiency_on_margin_basis(tmp_path):
    margin = plan_with(tmp_path, {"exits": lambda d: d.update(pnl_basis="margin")})
    # the peak is on the plan's basis: +2.0 % price × 2x = +4.0 % margin; captured +1.5 % × 2 = +3.0 % → 0.75
    out = outputs(PostTrade(margin).run(trade(peak_pnl_pct=4.0)))["expectancy_ledger"]
    assert out["exit_efficiency"] == pytest.approx(0.75)


def test_expectancy_ledger_decays_with_a_half_life_of_20_trades():
    post = PostTrade(plan())
    alpha = 1 - 0.5 ** (1 / 20)  # ≈ 0.0341 per trade
    post.run(trade(1, net_pnl_pct=10.0))  # the first trade sets the ledger
    for n in range(2, 22):  # 20 more trades at 0 %
        post.run(trade(n, net_pnl_pct=0.0))
    ledger = post.expectancy["BTCUSDT:LONG"]
    assert ledger["trades"] == 21
    assert ledger["net_pnl_pct"] == pytest.approx(5.0)  # 10 × (1 − α)^20 = 10 × 0.5
    assert post.alpha == pytest.approx(alpha)
    # one more step: 5 + α × (4 − 5)
    out = outputs(post.run(trade(22, net_pnl_pct=4.0)))["expectancy_ledger"]
    assert out["net_pnl_pct"] == pytest.approx(5.0 - alpha)
    # each symbol and direction has its own ledger
    post.run(trade(23, direction="SHORT", net_pnl_pct=-3.0))
    assert post.expectancy["BTCUSDT:SHORT"]["net_pnl_pct"] == -3.0


def test_calibration_buckets_by_tenths_of_confidence():
    post = PostTrade(plan())
    cases = [(0.857, 14.0, 8), (0.81, -2.0, 8), (1.0, 5.0, 9), (0.05, -1.0, 0), (0.3, 1.0, 3)]
    for n, (confidence, net, bucket) in enumerate(cases, 1):
        out = outputs(post.run(trade(n, confidence=confidence, net_pnl=net)))["prediction_calibration"]
        assert (out["bucket"], out["predicted"], out["won"]) == (bucket, confidence, net > 0)
    assert out["hit_rate"] == 1.0
    assert dict(post.calibration) == {8: [2, 1], 9: [1, 1], 0: [1, 0], 3: [1, 1]}  # [trades, wins]


def test_timing_outcome_against_the_optimal_hold():
    post = PostTrade(plan())
    first = outputs(post.run(trade(1, duration_s=3600.0)))["timing_outcome"]
    # optimal hold of BTCUSDT:LONG = 2 h; held 1 h → 0.5
    assert (first["optimal_hold_s"], first["hold_vs_optimal"]) == (7200, 0.5)
    second = outputs(post.run(trade(2, duration_s=10800.0, net_pnl_pct=-0.6)))["timing_outcome"]
    assert second["hold_vs_optimal"] == 1.5
    assert (second["mean_hold_s"], second["mean_net_pnl_pct"]) == (7200.0, pytest.approx(0.4))


def test_outcome_record_for_the_learners():
    out = outputs(PostTrade(plan()).run(trade()))["outcome_record"]
    assert out == {
        "trade_id": "t1",
        "symbol": "BTCUSDT",
        "direction": "LONG",
        "conviction": "LOW",
        "confidence": 0.857,
        "components": {"liquidation_cascade": 0.22, "fear_greed": 0.02},
        "net_pnl_pct": 1.4,
        "won": True,
        "duration_s": 3600.0,
        "exit_reason": "TAKE_PROFIT",
        "exit_tier": "profit_target",
        "entry_version": "rs-a",
        "exit_version": "rs-b",
    }


# ------------------------------------------------------------------ through the Runner


def _one_trade(h: Harness) -> Harness:
    enter("LONG", h)
    h.step(snapshot(T0 + 3720, {"BTCUSDT": 102_100.0}))  # +2.08 %: profit target
    assert len(h.step(snapshot(T0 + 3780, {"BTCUSDT": 102_200.0})).trades) == 1
    return h


def test_the_runner_runs_the_hooks_after_the_trade_is_stored():
    h = _one_trade(Harness())
    (stored,) = h.store.trades()
    assert [r["hook"] for r in h.records["post_trade"]] == list(HOOKS)
    assert all(r["status"] == "ok" and r["trade_id"] == stored.id for r in h.records["post_trade"])
    assert [(r.hook, r.status, r.attempts) for r in h.store.hook_runs(stored.id)] == sorted(
        (name, "ok", 1) for name in HOOKS
    )
    assert h.records["trades"][0]["id"] == stored.id


def test_a_failing_hook_is_reported_and_the_others_still_run(monkeypatch):
    def boom(self, trade):
        raise RuntimeError("calibration store unavailable")

    monkeypatch.setattr(PostTrade, "_calibration", boom)
    h = _one_trade(Harness())
    (stored,) = h.store.trades()  # the trade stays stored
    reports = h.records["post_trade"]
    assert [(r["hook"], r["status"]) for r in reports] == [
        (name, "failed" if name == "prediction_calibration" else "ok") for name in HOOKS
    ]
    failed = reports[2]
    assert failed["error"] == "RuntimeError: calibration store unavailable" and "output" not in failed
    runs = {r.hook: r for r in h.store.hook_runs(stored.id)}
    assert runs["prediction_calibration"].status == "failed"
    assert runs["prediction_calibration"].error == "RuntimeError: calibration store unavailable"
    assert all(runs[name].status == "ok" for name in HOOKS if name != "prediction_calibration")
    # the hooks after the failing one did their work
    assert h.runner.post_trade.timing["BTCUSDT:LONG"][0] == 1
    assert h.runner.post_trade.calibration == {}


# ------------------------------------------------------------------ ledgers after a restart


def _ledgers(post: PostTrade) -> dict:
    plain = lambda d: json.loads(json.dumps(d, sort_keys=True))  # noqa: E731
    return {
        "attribution": plain(post.attribution),
        "expectancy": plain(post.expectancy),
        "calibration": plain({str(k): v for k, v in post.calibration.items()}),
        "timing": plain(post.timing),
        "meta": plain(post.meta),
        "trade_stats": {f"{s}:{d}": v for (s, d), v in sorted(post.trade_stats().items())},
    }


@pytest.fixture(scope="module")
def market_run():
    """The synthetic market of tests/lifecycle/market.py, 4 hours of one-minute snapshots."""
    return [parse_snapshot(obj)[0] for obj in synthetic_market(240)]


def test_ledgers_rebuilt_after_a_restart_equal_the_uninterrupted_run(market_run):
    reference = Harness()
    for snap in market_run:
        reference.runner.step(snap)
    trades = reference.store.trades()
    assert len(trades) >= 10 and len({t.exit_reason for t in trades}) >= 3
    expected = _ledgers(reference.runner.post_trade)

    cut = len(market_run) // 2
    store = StateStore(":memory:")  # a new Runner on the same store = a restart
    first = Harness(store=store)
    for snap in market_run[:cut]:
        first.runner.step(snap)
    assert 0 < len(store.trades()) < len(trades)
    restarted = Harness(store=store)  # ledgers rebuilt from the stored trades
    assert _ledgers(restarted.runner.post_trade) == _ledgers(first.runner.post_trade)
    for snap in market_run[:cut]:
        restarted.runner.warm(snap)
    for snap in market_run[cut:]:
        restarted.runner.step(snap)
    assert _ledgers(restarted.runner.post_trade) == expected
    assert [t.id for t in store.trades()] == [t.id for t in trades]


def test_trades_closed_in_the_same_step_keep_their_order_after_a_restart():
    prices = {"BTCUSDT": 100_000.0, "ETHUSDT": 2_500.0}
    h = enter("LONG", prices=prices)
    ids = {p.symbol: p.id for p in h.runner.positions.values()}
    winner, loser = sorted(ids, key=ids.get, reverse=True)  # the winner's id sorts LAST
    moved = {winner: prices[winner] * 1.021, loser: prices[loser] * 0.974}  # winner first: it fills first
    h.step(snapshot(T0 + 600, moved))  # profit target and stop together
    closed = h.step(snapshot(T0 + 660, moved)).trades
    # hooks run in (exit time, id) order — the order a restart replays the stored trades in
    assert [t.symbol for t in closed] == [loser, winner] and closed[1].net_pnl > 0 > closed[0].net_pnl
    equity = h.broker.balance().equity
    before = h.runner.post_trade
    after = Harness(store=h.store).runner.post_trade
    assert [t.id for t in after.trades] == [t.id for t in before.trades]
    assert after.account_stats(equity) == before.account_stats(equity)
