"""DecisionColumns settles a row only with the first blocker the scalar decide_entry gives
it: on the bundled sample, under many frozen portfolios — open positions (the correlation
throttle), track records that trip the profit gate, drawdowns and win rates that halt
trading, a frozen policy, a disabled venue type, and track records that change between the
rows (a trade ageing out) — every row it calls known carries exactly
the scalar decision's blocker, and it settles most rows."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pytest

from adapters.snapshots.columnar import read_recording
from engine.language.compiler import compile_ruleset
from engine.replay.columns import gate_forms
from engine.replay.columns.correlation import CorrelationColumns, CorrelationCursor
from engine.replay.columns.decisions import DecisionColumns, PortfolioRows
from engine.replay.columns.signals import ColumnSignals
from engine.trading.gates import GATES
from engine.trading.pipeline import EntryPipeline, correlation_window
from engine.trading.portfolio import AccountStats, Portfolio, Position, TradeStats

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def plan():
    return compile_ruleset(str(ROOT / "rules")).plans["paper"]


@pytest.fixture(scope="module")
def world(plan):
    recording = read_recording(ROOT / "data" / "sample" / "sample.snapshots.parquet")
    signals = ColumnSignals(plan, recording)
    correlation = CorrelationColumns(
        plan.ruleset.names(), **correlation_window(plan), candles={n: s.candles for n, s in recording.symbols.items()}
    )
    return recording, signals, CorrelationCursor(correlation, signals, recording)


def _portfolio(rng: np.random.Generator, names) -> Portfolio:
    equity = float(rng.choice([50.0, 9_000.0, 10_000.0, 12_000.0]))
    positions = tuple(
        Position(str(rng.choice(names)), str(rng.choice(["LONG", "SHORT"])), 3000.0, 1000.0, 100.0, 3.0, 0.0)
        for _ in range(int(rng.integers(0, 4)))
    )
    stats = {
        (s, d): TradeStats(int(rng.integers(0, 30)), float(rng.random()), float(rng.normal(0, 0.5)))
        for s in names
        for d in ("LONG", "SHORT")
        if rng.random() < 0.7
    }
    account = AccountStats(
        peak_equity_usd=float(rng.choice([0.0, 10_000.0, 14_000.0])),
        trades=int(rng.integers(0, 40)),
        win_rate=float(rng.random()),
    )
    return Portfolio(equity, equity * 0.8, positions, MappingProxyType(stats), account)


def _compare(plan, world, portfolios: int, seed: int) -> tuple[int, int]:
    recording, signals, cursor = world
    columns = DecisionColumns(plan, signals, cursor.at)
    pipeline = EntryPipeline(plan, full_trail=False, signals=signals, correlation=cursor)
    rng = np.random.default_rng(seed)
    known_rows = all_rows = 0
    for _ in range(portfolios):
        # two portfolios over the rows, as when a trade ages out between them: the same
        # positions and balance, their own track records and account stats
        first = _portfolio(rng, list(signals.symbols))
        later = _portfolio(rng, list(signals.symbols))
        later = dataclasses.replace(first, stats=later.stats, account=later.account)
        for symbol in signals.symbols:
            directional = np.flatnonzero(signals.votes[symbol].direction != 0)
            if len(directional) < 40:
                continue  # SOLUSDT: in the rules, not in the sample
            rows = np.sort(rng.choice(directional, size=40, replace=False))
            index = (np.arange(len(rows)) >= rng.integers(0, len(rows) + 1)).astype(np.intp)
            reasons, known = columns.first_blockers(symbol, rows, PortfolioRows(rows, (first, later), index))
            for row, reason, settled, k in zip(rows.tolist(), reasons.tolist(), known.tolist(), index.tolist()):
                signals.seek(row)
                decision = pipeline.decide(symbol, (first, later)[k], float(recording.ts[row]))
                if settled:
                    assert decision.outcome == "NO_TRADE" and reason == decision.first_blocker, (row, symbol)
                known_rows += settled
                all_rows += 1
    return known_rows, all_rows


def test_every_settled_row_has_the_scalar_first_blocker(plan, world):
    known, rows = _compare(plan, world, portfolios=40, seed=7)
    assert known > rows * 0.4  # the rest pass every gate: sizing and the portfolio checks decide


@pytest.mark.parametrize("change", ["halted", "frozen", "no_futures", "alpha_off", "strict_edge"])
def test_policies_and_venues_that_block_everything_are_settled_the_same(plan, world, change):
    requirements, gates = plan.requirements, plan.gates
    if change == "halted":
        requirements = dataclasses.replace(
            requirements, kill_switch=dataclasses.replace(requirements.kill_switch, active=True)
        )
    elif change == "frozen":
        requirements = dataclasses.replace(requirements, freeze_entries=True)
    elif change == "alpha_off":
        requirements = dataclasses.replace(requirements, alpha_trading_enabled=False)
    elif change == "no_futures":
        chain = tuple(
            dataclasses.replace(g, params=dataclasses.replace(g.params, allowed_venue_types=("spot",)))
            if g.kind == "pre_entry_gate"
            else g
            for g in gates.chain
        )
        gates = dataclasses.replace(gates, chain=chain)
    else:
        chain = tuple(
            dataclasses.replace(g, params=dataclasses.replace(g.params, min_edge_after_fees_pct=0.3))
            if g.kind == "fee_gate"
            else g
            for g in gates.chain
        )
        gates = dataclasses.replace(gates, chain=chain)
    known, rows = _compare(dataclasses.replace(plan, requirements=requirements, gates=gates), world, 4, seed=11)
    assert known > rows * 0.5


def test_every_gate_kind_has_a_column_form():
    for kind in GATES:
        assert callable(gate_forms.form_of(kind)), kind


def test_market_columns_hold_exactly_what_the_scalar_market_env_holds(plan):
    """Every market name the decisions read as a column (spread, taker ratio, price age, …)
    equals EntryPipeline.market at every cycle, and is NaN exactly where the key is absent."""
    from engine.market.snapshot import parse_snapshot
    from engine.replay.recording import recording_from_snapshots
    from tests.dryrun.test_fast_path import _richer
    from tests.lifecycle.market import snapshots as synthetic_snapshots

    recording = recording_from_snapshots([parse_snapshot(s)[0] for s in _richer(synthetic_snapshots(240, 3))])
    signals = ColumnSignals(plan, recording)
    pipeline = EntryPipeline(plan, full_trail=False, signals=signals)
    for symbol in ("BTCUSDT", "ETHUSDT"):
        columns = signals.market_columns(symbol)
        assert {"spread_bps", "taker_buy_sell_ratio", "price_age_s", "open_interest_usd"} <= set(columns)
        for i in range(len(recording)):
            signals.seek(i)
            market = pipeline.market(symbol, float(recording.ts[i]))
            for name, column in columns.items():
                value = column[i].item()
                assert (value == market[name]) if name in market else value != value, (name, i)


def test_every_name_read_from_the_portfolio_is_a_portfolio_name(plan, world):
    """DecisionColumns looks up a stage's whole-history verdict only when it reads no
    PORTFOLIO_NAMES: every name the columns take from the portfolio must be one."""
    from engine.replay.columns.decisions import PORTFOLIO_NAMES, _portfolio_columns

    _, signals, _ = world
    portfolio = _portfolio(np.random.default_rng(1), list(signals.symbols))
    names = set(_portfolio_columns("BTCUSDT", np.ones(3, dtype=np.int8), portfolio, None))
    names |= {
        n
        for n in DecisionColumns(plan, signals, lambda *a: None)._env_columns(
            "BTCUSDT", np.arange(3), np.ones(3, dtype=np.int8), PortfolioRows.constant(np.arange(3), portfolio)
        )
        if n.startswith("recent_")
    }
    assert names and names <= PORTFOLIO_NAMES
