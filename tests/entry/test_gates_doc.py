"""docs/gates.md cannot drift from the engine: one section per gate of the chain, every
reason code a gate, a requirement or sizing can give, and the worked example's numbers as
the engine computes them now."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.trading.entry import decide_entry
from engine.trading.sizing import REFUSALS
from tests.entry.builders import portfolio, signal_record

DOC = Path(__file__).resolve().parents[2] / "docs" / "gates.md"


@pytest.fixture(scope="module")
def doc() -> str:
    return DOC.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def plan(rulesets):
    return rulesets.plan("paper")


def test_one_section_per_gate_in_chain_order(doc, plan):
    positions = [doc.index(f"\n## {g.id} (`{g.kind}`)\n") for g in plan.gates.chain]
    assert positions == sorted(positions)


def _gate_codes(plan) -> set[str]:
    codes = {
        "PASS",
        "DISABLED",
        "FEE_EDGE_TOO_SMALL",
        "FEE_EDGE_UNKNOWN",
        "CORRELATION_LIMIT",
        "VENUE_TYPE_NOT_ALLOWED",
        "PROFIT_GATE_UNEVALUABLE",
        "TRADING_HALTED",
        "TRADING_REDUCING",
    }
    for gate in plan.gates.chain:
        if gate.kind == "conviction_gate":
            codes |= {f"CONVICTION_{level.name}" for level in gate.params.levels}
        elif gate.kind == "intelligence_gate":
            codes |= {f"INTEL_{band.name.upper()}" for band in gate.params.bands}
        elif gate.kind == "pre_entry_gate":
            codes |= {p.reason for p in gate.params.profit_gates}
    return codes


def test_every_reason_code_is_documented(doc, rulesets, plan):
    live = rulesets.plan("live")
    requirement_codes = {c.reason for p in (plan, live) for c in p.requirements.checks}
    policy_codes = {"POLICY_ALPHA_DISABLED", "POLICY_SYMBOL_DISABLED", "MARKET_DATA_REFUSED", "MARKET_DATA_MISSING"}
    missing = sorted(
        code for code in _gate_codes(plan) | requirement_codes | policy_codes | set(REFUSALS) if f"`{code}`" not in doc
    )
    assert not missing


def test_every_requirement_check_is_in_the_table(doc, rulesets):
    ids = {c.id for p in (rulesets.plan("paper"), rulesets.plan("live")) for c in p.requirements.checks}
    assert all(f"| `{i}` |" in doc for i in ids)


def test_the_worked_example_is_what_the_engine_computes(doc, plan):
    spec = {
        "components": [
            {"id": cid, "direction": "LONG", "confidence": 0.8}
            for cid in ("liquidation_cascade", "whale_flow", "funding_rate")
        ]
    }
    record = signal_record(plan, "BTCUSDT", spec, 1_700_000_000.0)
    market = {
        "price": 61234.5,
        "spread_bps": 2.0,
        "price_age_s": 5.0,
        "hurst": 0.6,
        "taker_buy_sell_ratio": 1.3,
        "liq_long_share": 0.5,
        "fear_greed": 50.0,
        "ofi": 0.0,
    }
    decision = decide_entry(plan, record, market, portfolio({"equity_usd": 10000}), {}, 1_700_000_000.0)
    trail = {r.id: r for r in decision.chain.trail}
    s = decision.sizing
    assert decision.outcome == "TRADE" and record.conviction == "MEDIUM"
    assert (trail["conviction"].reason, trail["conviction"].multiplier) == ("CONVICTION_MEDIUM", 1.3)
    assert trail["conviction"].inputs["score"] == pytest.approx(0.6204)
    assert (trail["intelligence"].reason, trail["intelligence"].multiplier) == ("INTEL_ALIGNED", 1.0)
    assert (s.multiplier, s.leverage, s.contracts) == (pytest.approx(1.3), 3, 0.0636)
    assert (s.notional_usd, s.margin_usd) == (pytest.approx(3894.5142), pytest.approx(1298.1714))
    assert (s.stop_price, s.liquidation_price) == (59704, pytest.approx(41129.1725))
    assert decision.intent.grace_window_s == 120
    for text in (
        "0.6204",
        "**0.0636 BTC**",
        "3 894.5142",
        "1 298.1714",
        "59 704",
        "41 129.1725",
        '"contracts": 0.0636',
        '"stop_price": 59704.0',
        '"liquidation_price": 41129.1725',
    ):
        assert text in doc, text
    assert list(decision.as_dict()) == [
        "outcome",
        "symbol",
        "ts",
        "version",
        "direction",
        "first_blocker",
        "multiplier_trail",
        "checks",
        "sizing",
        "intent",
        "signal",
    ]
    assert all(f"`{key}`" in doc for key in decision.intent.as_dict())
