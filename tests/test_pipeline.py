"""The entry pipeline per cycle: every signal, traded or blocked, reaches the signal universe
with its full gate trail; every record reaches the predictive signal log."""

from __future__ import annotations

import json
from pathlib import Path

from adapters.store.jsonl import JsonlLog
from engine.language.compiler import compile_ruleset
from engine.market.snapshot import parse_snapshot
from engine.trading.pipeline import EntryPipeline
from engine.trading.portfolio import Portfolio, Position

ROOT = Path(__file__).resolve().parents[1]
T0 = 1748131200


def _cycle(i: int) -> dict:
    ts = T0 + 60 * i
    symbols = {
        name: {
            "price": p,
            "bid": p * 0.9999,
            "ask": p * 1.0001,
            "candles": [[ts - 60, p, p, p, p, 1.0]],
            "liq_long_usd": 1000.0,
            "liq_short_usd": 90000.0,
        }
        for name, p in (("BTCUSDT", 100000.0), ("ETHUSDT", 2500.0), ("SOLUSDT", 150.0))
    }
    return {"ts": ts, "fear_greed": 10, "fear_greed_ts": T0, "symbols": symbols}


def test_every_decision_goes_to_the_universe_with_its_trail(tmp_path):
    plan = compile_ruleset(str(ROOT / "rules")).plans["paper"]
    universe, signals = tmp_path / "signal_universe.jsonl", tmp_path / "predictive_signals.jsonl"
    portfolio = Portfolio(
        equity_usd=10_000,
        available_margin_usd=10_000,
        positions=(Position("ETHUSDT", "LONG", 3000.0, 1000.0, 2500.0, 3.0, T0),),
    )
    with JsonlLog(universe) as u_log, JsonlLog(signals) as s_log:
        pipeline = EntryPipeline(plan, signal_sink=s_log.write, universe_sink=lambda d: u_log.write(d.as_dict()))
        for i in range(70):
            decisions = pipeline.run_cycle(parse_snapshot(_cycle(i))[0], portfolio)
    logged = [json.loads(line) for line in universe.read_text().splitlines()]
    assert len(logged) == 70 * 3 == len(signals.read_text().splitlines())
    last = {d["symbol"]: d for d in logged[-3:]}
    # two components agree LONG (short-liquidation cascade, extreme fear): BTC trades...
    assert last["BTCUSDT"]["outcome"] == "TRADE" and last["BTCUSDT"]["intent"]["side"] == "buy"
    # ...ETH is blocked because a LONG position is already open, yet its whole chain is logged
    assert last["ETHUSDT"]["outcome"] == "NO_TRADE"
    assert last["ETHUSDT"]["first_blocker"] == "POSITION_ALREADY_OPEN"
    assert [g["id"] for g in last["ETHUSDT"]["multiplier_trail"]] == [
        "conviction",
        "fee",
        "correlation",
        "intelligence",
        "pre_entry",
        "trading_state",
    ]
    assert decisions[0].signal.version == plan.version == last["BTCUSDT"]["version"]
