"""The runner resolves every signal into a store that keeps them, in its steps' transactions."""

from __future__ import annotations

from adapters.store.state import StateStore
from engine.replay.memstate import MemoryState
from engine.trading.runner import Runner, Sinks
from tests.lifecycle.helpers import Harness, parse, plan
from tests.lifecycle.market import snapshots

H = (60.0, 300.0, 900.0, 1800.0, 3600.0)


def _run(store, market, history=()):
    harness = Harness(store=store, history=list(history))
    for obj in market:
        harness.step(obj)
    return harness


def test_every_signal_is_resolved_at_every_horizon_against_the_snapshots_prices():
    market = snapshots(150)
    store = StateStore(":memory:")
    _run(store, market)
    start, end = market[0]["ts"], market[-1]["ts"] + 1
    data = store.learning_data(start, end)
    symbols = sorted(market[0]["symbols"])
    # every symbol-minute is a signal; each is resolved at every horizon that has come
    assert store.signal_counts(start, end) == {
        "signals": 150 * len(symbols),
        "resolved": sum(sum(1 for h in H if i * 60 + h <= 149 * 60) for i in range(150)) * len(symbols),
        "unresolvable": 0,
    }
    price = {(obj["ts"], s): obj["symbols"][s]["price"] for obj in market for s in symbols}
    for outcome in data.outcomes:
        assert outcome.price == price[(outcome.ts, outcome.symbol)]
        assert outcome.price_after == price[(outcome.ts + outcome.horizon_s, outcome.symbol)]
        assert {c.component for c in outcome.components} == {c.id for c in plan().signals.components}
    outcomes = {o.outcome for o in data.outcomes}
    assert "TRADE" in outcomes and "BLOCKED" in outcomes  # blocked signals are resolved too
    traded = store.trades()
    assert [t.id for t in data.trades] == [t.id for t in traded if start <= t.exit_ts < end]


def test_a_resumed_runner_resolves_what_an_uninterrupted_one_does(tmp_path):
    market = snapshots(200)
    whole = StateStore(":memory:")
    _run(whole, market)
    with StateStore(tmp_path / "bot.db") as first:
        _run(first, market[:90])
    with StateStore(tmp_path / "bot.db") as resumed:  # a new process: the resolver from the store
        _run(resumed, market[90:], history=market[:90])
        window = (market[0]["ts"], market[-1]["ts"] + 1)
        assert resumed.learning_data(*window) == whole.learning_data(*window)
        assert resumed.signal_counts(*window) == whole.signal_counts(*window)


def test_a_gap_in_the_feed_leaves_signals_unresolvable():
    market = snapshots(120)
    gapped = market[:30] + market[45:]  # 15 minutes without any snapshot
    store = StateStore(":memory:")
    _run(store, gapped)
    counts = store.signal_counts(market[0]["ts"], market[-1]["ts"] + 1)
    assert counts["unresolvable"] > 0


def test_the_outcomes_reach_their_sink_and_a_dry_runs_store_keeps_none():
    market = snapshots(10)
    got: list = []
    store = StateStore(":memory:")
    harness = Harness(store=store)
    runner = Runner(plan(), harness.broker, store, sinks=Sinks(outcomes=got.append))
    for obj in market:
        runner.step(parse(obj))
    assert got == []  # no signal's hour has come
    for obj in snapshots(75)[10:]:
        runner.step(parse(obj))
    # minute 74 finishes the signals of minutes 0 to 14 (their hour has come, every minute has a price)
    symbols = sorted(market[0]["symbols"])
    assert [(line["ts"], line["symbol"]) for line in got] == [
        (market[0]["ts"] + 60 * m, s) for m in range(15) for s in symbols
    ]
    assert [h["horizon_s"] for h in got[0]["horizons"]] == list(H)
    assert {"right", "move_pct", "components_right", "price_after", "price_ts"} <= set(got[0]["horizons"][0])
    memory = Runner(plan(), harness.broker, MemoryState())
    assert memory.resolver is None
