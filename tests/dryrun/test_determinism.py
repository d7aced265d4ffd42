"""Dry-run determinism: the same inputs give the same fingerprint, and a run split into two
halves with its state carried over (store, broker, pending orders) gives it too."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adapters.paper.broker import PaperBroker
from engine.language.compiler import compile_ruleset
from engine.market.snapshot import parse_snapshot
from engine.replay.dryrun import dry_run
from engine.replay.memstate import MemoryState
from engine.trading.runner import Runner
from tests.lifecycle.market import T0, snapshots

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def plan():
    return compile_ruleset(str(ROOT / "rules")).plans["paper"]


@pytest.fixture(scope="module")
def market():
    return [parse_snapshot(s)[0] for s in snapshots(360)]


def _full(plan, market) -> dict:
    result, _, _ = dry_run(plan, iter(market), broker=PaperBroker.for_plan(plan), store=MemoryState())
    return result


def test_two_runs_give_the_same_fingerprint_and_trades(plan, market):
    first, second = _full(plan, market), _full(plan, market)
    assert first["metrics"]["trades"] >= 20
    assert first["fingerprint"] == second["fingerprint"] and first["trades"] == second["trades"]


def test_a_run_split_in_two_halves_with_state_carried_over_gives_the_same_fingerprint(plan, market):
    expected = _full(plan, market)
    middle = T0 + 60 * 180
    store = MemoryState()
    store.durable = True  # keep what a restart reads back
    _, _, state = dry_run(plan, iter(market), broker=PaperBroker.for_plan(plan), store=store, end=middle)
    venue = plan.venues.exchange(plan.venues.execution_venue)
    broker = PaperBroker.from_state(venue, json.loads(store.blob("broker")))
    resumed = Runner(plan, broker, store)  # positions, pending orders, ledgers from the store
    result, _, _ = dry_run(
        plan, iter(market), broker=broker, store=store, start=middle + 1, runner=resumed, state=state
    )
    assert result["trades"] == expected["trades"]
    assert result["fingerprint"] == expected["fingerprint"]
    assert result["metrics"]["net_pnl_usd"] == expected["metrics"]["net_pnl_usd"]


def test_a_different_rule_set_changes_the_fingerprint(plan, market, tmp_path):
    import shutil

    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    text = (rules / "exits.yaml").read_text(encoding="utf-8")
    (rules / "exits.yaml").write_text(text.replace("    loss_pct: 2.5\n", "    loss_pct: 1.0\n"), encoding="utf-8")
    other = compile_ruleset(str(rules)).plans["paper"]
    assert _full(other, market)["fingerprint"] != _full(plan, market)["fingerprint"]


def test_cutting_the_decision_trail_short_changes_no_decision(plan, market):
    """The dry-run does not evaluate requirements for NEUTRAL signals (they never trade) and
    stops every decision at its first blocker: the same run with every decision evaluated in
    full gives identical trades and identical directional decisions."""
    from engine.replay.dryrun import DryRunState, compact_decision
    from engine.trading.runner import Sinks

    fast = _full(plan, market)
    state = DryRunState()
    full_runner = Runner(
        plan,
        PaperBroker.for_plan(plan),
        MemoryState(),
        full_trail=True,
        sinks=Sinks(
            universe=lambda d: state.decisions.append(compact_decision(d)) if d.direction != "NEUTRAL" else None
        ),
    )
    full, _, _ = dry_run(
        plan, iter(market), broker=full_runner.broker, store=full_runner.store, runner=full_runner, state=state
    )
    assert full["fingerprint"] == fast["fingerprint"] and full["decisions"] == fast["decisions"]
