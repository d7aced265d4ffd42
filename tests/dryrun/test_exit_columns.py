"""The exit ladder as columns (engine/replay/columns/exit_forms.py) answers what the scalar
``evaluate_exits`` answers at every row it calls known: on the bundled sample, for random
open positions (either direction, inside and past their grace window, with ladder rungs
taken, peaks and hold multipliers carried, alignment and trend at entry or none), under the
shipped exit ladder and under variants whose thresholds make every tier fire somewhere."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from adapters.snapshots.columnar import read_recording
from engine.language.compiler import compile_ruleset
from engine.replay.columns.exit_forms import FORMS, Ladder
from engine.replay.columns.signals import ColumnSignals
from engine.trading.exits import TIERS, evaluate_exits
from engine.trading.pipeline import EntryPipeline
from engine.trading.positions import OpenPosition
from tests.dryrun.conftest import SAMPLE


@pytest.fixture(scope="module")
def plan():
    return compile_ruleset(str(SAMPLE.parents[2] / "rules")).plans["paper"]


@pytest.fixture(scope="module")
def world(plan):
    recording = read_recording(SAMPLE)
    signals = ColumnSignals(plan, recording)
    return recording, signals, EntryPipeline(plan, full_trail=False, signals=signals)


def _position(rng: np.random.Generator, recording, row: int) -> OpenPosition:
    symbol = str(rng.choice(["BTCUSDT", "ETHUSDT"]))
    price = float(recording.symbols[symbol].values["price"][row])
    opened = float(recording.ts[row])
    return OpenPosition(
        id="p",
        symbol=symbol,
        direction=str(rng.choice(["LONG", "SHORT"])),
        venue="paper",
        entry_price=price * float(rng.uniform(0.98, 1.02)),
        quantity=1.0,
        initial_quantity=1.0,
        leverage=float(rng.choice([1.0, 3.0])),
        opened_at=opened,
        entry_version="v",
        grace_until=opened + float(rng.choice([0.0, 600.0, 3600.0])),
        alignment_at_entry=None if rng.random() < 0.3 else float(rng.random()),
        trend_at_entry=int(rng.integers(-1, 2)),
        peak_pnl_pct=float(rng.choice([0.0, 0.7, 3.0])),
        hold_multiplier=float(rng.choice([0.5, 1.0, 1.5])),
        ladder_done=tuple(int(i) for i in np.flatnonzero(rng.random(3) < 0.3)),
    )


def _tuned(plan, scale: float):
    """The ladder with every P&L threshold and age scaled: small ones make tiers fire early."""

    def tier(t):
        p = t.params
        if t.kind == "profit_target":
            targets = tuple(dataclasses.replace(x, pnl_pct=x.pnl_pct * scale) for x in p.targets)
            return dataclasses.replace(t, params=dataclasses.replace(p, targets=targets))
        if t.kind == "ladder":
            rungs = tuple(dataclasses.replace(x, pnl_pct=x.pnl_pct * scale, after=x.after * scale) for x in p.rungs)
            return dataclasses.replace(t, params=dataclasses.replace(p, rungs=rungs))
        if t.kind == "stop_loss":
            return dataclasses.replace(t, params=dataclasses.replace(p, loss_pct=p.loss_pct * scale))
        return t

    return dataclasses.replace(
        plan, exits=dataclasses.replace(plan.exits, tiers=tuple(tier(t) for t in plan.exits.tiers))
    )


@pytest.mark.parametrize("scale", [1.0, 0.2])
def test_the_walk_is_the_scalar_ladder_row_by_row(plan, world, scale):
    """Row by row, with the peak P&L and hold multiplier carried as the runner carries them,
    the walk fires exactly where evaluate_exits fires and carries exactly what it sets."""
    plan = _tuned(plan, scale)
    recording, signals, pipeline = world
    ladder = Ladder(plan, signals.market_columns("BTCUSDT"))
    assert ladder.complete
    rng = np.random.default_rng(3)
    compared = fired = moved = 0
    for _ in range(40):
        start = int(rng.integers(0, len(recording) - 200))
        position = _position(rng, recording, start)
        market = signals.market_columns(position.symbol)
        rows = start + 1 + np.arange(150)
        rows = rows[~np.isnan(market["price"][rows])]
        walk = ladder.walk(position, recording.ts[rows], {name: column[rows] for name, column in market.items()})
        carried = position
        for k, row in enumerate(rows.tolist()):
            signals.seek(row)
            now = float(recording.ts[row])
            env = pipeline.market(position.symbol, now)
            evaluation = evaluate_exits(plan, carried, env, env["price"], now)
            fires = evaluation.chosen is not None or evaluation.partial is not None
            assert bool(walk.fires[k]) == fires, (row, evaluation.as_dict())
            peak = max(carried.peak_pnl_pct, evaluation.pnl_pct)
            assert (walk.peak[k], walk.multiplier[k]) == (peak, evaluation.hold_multiplier), row
            moved += (peak, evaluation.hold_multiplier) != (carried.peak_pnl_pct, carried.hold_multiplier)
            carried = dataclasses.replace(carried, peak_pnl_pct=peak, hold_multiplier=evaluation.hold_multiplier)
            compared += 1
            fired += fires
    assert 0.05 * compared < fired < 0.95 * compared  # both answers occur
    assert moved > 0.05 * compared  # peaks and multipliers move


def test_every_exit_tier_kind_has_a_column_form():
    for kind in TIERS:
        assert callable(FORMS.get(kind)), kind


def test_a_kind_without_a_column_form_leaves_the_ladder_to_the_scalar_path(monkeypatch):
    from engine.replay.columns import exit_forms

    plan = compile_ruleset(str(SAMPLE.parents[2] / "rules")).plans["paper"]
    names = {"price", "mtf_long", "mtf_short", "ema_spread_pct"}
    assert Ladder(plan, names).complete
    with monkeypatch.context() as patch:  # a timing condition reads a name without a column
        patch.setattr(exit_forms, "EXIT_NAMES", exit_forms.EXIT_NAMES - {"alignment"})
        assert not Ladder(plan, names).complete
    assert Ladder(plan, names | {"alignment"}).complete  # a market column of that name serves
    monkeypatch.setattr(exit_forms, "FORMS", {k: v for k, v in FORMS.items() if k != "ladder"})
    assert not Ladder(plan, names).complete
