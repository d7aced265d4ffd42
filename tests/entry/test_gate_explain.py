"""What `rulebot explain` says about each gate's answer: its kind's words, then the inputs it
looked at — for the worked example of docs/gates.md and for every way a gate blocks."""

from __future__ import annotations

import dataclasses

import pytest

from engine.report.explain import render_decision
from engine.trading import gates
from engine.trading.entry import decide_entry
from engine.trading.gates import GateContext, fee_gate, run_chain
from tests.entry.builders import portfolio, signal_record

TS = 1_700_000_000.0
MARKET = {
    "price": 61234.5,
    "spread_bps": 2.0,
    "price_age_s": 5.0,
    "hurst": 0.6,
    "taker_buy_sell_ratio": 1.3,
    "liq_long_share": 0.5,
    "fear_greed": 50.0,
    "ofi": 0.0,
}
LONG_SIGNAL = {
    "components": [
        {"id": cid, "direction": "LONG", "confidence": 0.8}
        for cid in ("liquidation_cascade", "whale_flow", "funding_rate")
    ]
}


@pytest.fixture(scope="module")
def plan(rulesets):
    return rulesets.plan("paper")


def _trail(plan, account: dict) -> dict:
    record = signal_record(plan, "BTCUSDT", LONG_SIGNAL, TS)
    decision = decide_entry(plan, record, MARKET, portfolio({"equity_usd": 10000, **account}), {}, TS)
    return {r.id: r for r in decision.chain.trail}


def test_the_worked_example_is_explained_in_words(plan):
    record = signal_record(plan, "BTCUSDT", LONG_SIGNAL, TS)
    decision = decide_entry(plan, record, MARKET, portfolio({"equity_usd": 10000}), {}, TS)
    lines = render_decision(decision).splitlines()
    words = {line.split()[0]: line.split(maxsplit=3)[3] for line in lines[2:8]}
    assert words["conviction"].startswith(
        "score 0.6204 from components 0.464, history 0, edge boost 0.05, cascade boost 0.05, "
        "× trending regime bias 1.1  [base=0.464 "
    )
    assert words["fee"].startswith(
        "expected edge 0.8 % − round-trip fees 0.1 % = 0.7 %, which reaches the minimum 0.05 %  [expected_edge_pct=0.8 "
    )
    assert words["correlation"] == (
        "0 correlated open position(s), which stay below the limit of 2"
        "  [correlated_positions=0 max_correlated_positions=2 symbols=]"
    )
    assert words["intelligence"] == (
        "alignment 0.3333: taker_flow agrees, liquidations neutral, fear_greed neutral, ofi neutral"
        "  [score=0.333333 vote_taker_flow=1 vote_liquidations=0 vote_fear_greed=0 vote_ofi=0]"
    )
    assert words["pre_entry"] == "venue kraken_futures is allowed and no profit gate holds  [venue=kraken_futures]"
    assert words["trading_state"] == "trading is ACTIVE  [state=ACTIVE]"


def test_blocking_answers_say_why(plan):
    positions = [
        {"symbol": s, "direction": "LONG", "notional_usd": 1000} for s in ("ETHUSDT", "SOLUSDT")
    ]  # correlations unknown: both count
    crowded = _trail(plan, {"positions": positions})["correlation"]
    assert gates.explain(crowded).startswith(
        "2 correlated open position(s) (ETHUSDT,SOLUSDT), which reach the limit of 2  [correlated_positions=2 "
    )
    losing = _trail(plan, {"stats": [{"symbol": "BTCUSDT", "direction": "LONG", "trades": 12, "expectancy_pct": -1}]})
    assert gates.explain(losing["pre_entry"]) == (
        "profit gate recent_expectancy holds  [profit_gate=recent_expectancy]"
    )
    drill = {"state": "HALTED", "reason": "drill", "source": "operator", "since": 1.0}
    halted = _trail(plan, {"held": [drill]})["trading_state"]
    assert halted.blocked and gates.explain(halted).startswith("trading is HALTED: no new entries (drill)")


def test_an_unknown_edge_and_a_disabled_gate_are_explained(plan):
    fee = next(g for g in plan.gates.chain if g.kind == fee_gate.KIND)
    venue = plan.venues.exchange(plan.venues.execution_venue)
    ctx = GateContext("BTCUSDT", "LONG", None, {}, None, venue, {}, "ACTIVE", "", None)
    unknown = fee_gate.evaluate(fee, ctx)
    assert gates.explain(unknown) == (
        "the expected edge is unknown: fails closed (round-trip fees 0.1 %)  [round_trip_fee_pct=0.1]"
    )
    spec = dataclasses.replace(plan.gates, chain=(dataclasses.replace(fee, enabled=False),))
    (disabled,) = run_chain(spec, ctx).trail
    assert gates.explain(disabled) == "disabled: passes with multiplier 1"
