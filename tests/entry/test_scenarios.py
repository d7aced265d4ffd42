"""Table-driven entry scenarios: every file in tests/entry/scenarios/*.yaml is a list of
cases run through the real ``decide_entry`` with a plan compiled from ``rules/``.

Scenario file format::

    defaults: {...}             # deep-merged under every scenario of the file (lists replace)
    scenarios:
      - id: unique_name
        why: one line              # what the case shows
        profile: paper | live      # default paper
        overrides: {dotted.path: scalar}   # written into profiles/<profile>.yaml `overrides:` of a rules copy
        edits: {dotted.path: any}          # written straight into the copied base file (lists, maps)
        symbol: BTCUSDT
        signal:
          components: [{id, direction, confidence}]   # unlisted components are NEUTRAL
          direction / aligned_count / confidence / conviction   # cross-checked against the real vote
          synthetic: true          # use the stated outcome fields instead of the vote's
        market: {price: ..., spread_bps: ..., price_age_s: ...}   # a null value removes the name
        portfolio: {equity_usd, available_margin_usd, positions: [...], stats: [...], account: {...},
                   held: [{state, reason, source, since}]}   # operator / task states (engine/bot/states.py)
        correlations: {ETHUSDT: 0.85}      # a null value removes the symbol (unknown correlation)
        expect:
          outcome: TRADE | NO_TRADE        # default NO_TRADE: an unlisted outcome counts as NO_TRADE
          blocker: CODE | null             # exact; required for NO_TRADE, default null
          trail: {gate_id: {multiplier, reason, blocked, inputs: {...}}}   # partial match
          sizing: {field: value}           # partial match on Sizing.as_dict()
          intent: {field: value}           # partial match on OrderIntent.as_dict()
          failed_checks: [check ids]       # exact set of failing requirement/policy checks

Floats compare with a relative tolerance of 1e-9. Overrides use the profile's
``overrides:`` block on purpose: that is how an operator changes a value, so every
override here also proves the path resolves. ``edits`` exist only for whole lists.
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import pytest
import yaml

from engine.trading.entry import NO_TRADE, TRADE, decide_entry
from tests.entry.builders import portfolio, signal_record

SCENARIOS = Path(__file__).parent / "scenarios"
NOW = 1_700_000_000.0
TOP_KEYS = {
    "id",
    "why",
    "profile",
    "overrides",
    "edits",
    "symbol",
    "signal",
    "market",
    "portfolio",
    "correlations",
    "expect",
}
EXPECT_KEYS = {"outcome", "blocker", "trail", "sizing", "intent", "failed_checks"}
TRAIL_KEYS = {"multiplier", "reason", "blocked", "inputs"}


def _merge(base: Any, top: Any) -> Any:
    if isinstance(base, dict) and isinstance(top, dict):
        out = dict(base)
        for key, value in top.items():
            out[key] = _merge(base[key], value) if key in base else copy.deepcopy(value)
        return out
    return copy.deepcopy(top)


def _load() -> list:
    params, seen = [], set()
    for path in sorted(SCENARIOS.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        defaults = data.get("defaults", {})
        for raw in data["scenarios"]:
            case = _merge(defaults, raw)
            assert set(case) <= TOP_KEYS, f"{path.name}:{case.get('id')}: unknown keys {set(case) - TOP_KEYS}"
            assert set(case.get("expect", {})) <= EXPECT_KEYS, f"{case['id']}: unknown expect keys"
            assert case["id"] not in seen, f"duplicate scenario id {case['id']}"
            seen.add(case["id"])
            params.append(pytest.param(case, id=f"{path.stem}:{case['id']}"))
    return params


ALL = _load()


def _without_nulls(mapping: dict | None) -> dict:
    return {k: v for k, v in (mapping or {}).items() if v is not None}


def _close(actual: Any, expected: Any) -> bool:
    if isinstance(expected, bool) or expected is None or isinstance(expected, str):
        return actual == expected
    if isinstance(expected, (int, float)):
        return isinstance(actual, (int, float)) and math.isclose(actual, expected, rel_tol=1e-9, abs_tol=1e-12)
    return actual == expected


def _partial(actual: dict, expected: dict, where: str) -> list[str]:
    problems = []
    for key, want in expected.items():
        if key not in actual:
            problems.append(f"{where}.{key}: missing (have {sorted(actual)})")
        elif isinstance(want, dict):
            problems += _partial(actual[key], want, f"{where}.{key}")
        elif not _close(actual[key], want):
            problems.append(f"{where}.{key}: expected {want!r}, got {actual[key]!r}")
    return problems


def test_the_table_is_big_enough():
    assert len(ALL) >= 30


@pytest.mark.parametrize("case", ALL)
def test_scenario(case, rulesets):
    profile = case.get("profile", "paper")
    plan = rulesets.plan(profile, case.get("overrides"), case.get("edits"))
    symbol = case.get("symbol", "BTCUSDT")
    record = signal_record(plan, symbol, case.get("signal", {}), NOW)
    decision = decide_entry(
        plan,
        record,
        _without_nulls(case.get("market")),
        portfolio(case["portfolio"]),
        _without_nulls(case.get("correlations")),
        NOW,
    )
    expect = case.get("expect", {})
    summary = json.dumps(decision.as_dict() | {"signal": None}, default=str, indent=1)

    # exact: outcome (unlisted = NO_TRADE) and the first blocker
    outcome = expect.get("outcome", NO_TRADE)
    assert outcome in (TRADE, NO_TRADE)
    if outcome == NO_TRADE:
        assert "blocker" in expect, f"{case['id']}: a NO_TRADE scenario must name its blocker"
    assert (decision.outcome, decision.first_blocker) == (outcome, expect.get("blocker")), summary

    # partial: the multiplier trail, sizing and intent
    trail = {r.id: r.as_dict() for r in decision.chain.trail} if decision.chain else {}
    problems = []
    for gate_id, want in expect.get("trail", {}).items():
        assert set(want) <= TRAIL_KEYS, f"{case['id']}: unknown trail keys {set(want) - TRAIL_KEYS}"
        if gate_id not in trail:
            problems.append(f"trail.{gate_id}: gate absent (have {list(trail)})")
        else:
            problems += _partial(trail[gate_id], want, f"trail.{gate_id}")
    if "sizing" in expect:
        assert decision.sizing is not None, summary
        problems += _partial(decision.sizing.as_dict(), expect["sizing"], "sizing")
    if "intent" in expect:
        assert decision.intent is not None, summary
        problems += _partial(decision.intent.as_dict(), expect["intent"], "intent")
    if "failed_checks" in expect:
        failed = sorted(c.id for c in decision.checks if not c.passed)
        if failed != sorted(expect["failed_checks"]):
            problems.append(f"failed_checks: expected {sorted(expect['failed_checks'])}, got {failed}")
    assert not problems, "\n".join(problems) + "\n" + summary

    # invariants of every decision
    assert (decision.intent is not None) == (decision.outcome == TRADE)
    if decision.outcome == TRADE:
        assert all(c.passed for c in decision.checks)
        assert decision.sizing.ok and decision.chain.first_blocker is None
    if decision.chain is not None:  # every gate runs, even after a block (counterfactual trail)
        assert [r.id for r in decision.chain.trail] == [g.id for g in plan.gates.chain]
    json.dumps(decision.as_dict(), allow_nan=False)  # fit for logs/signal_universe.jsonl
