"""The exit ladder as columns (engine/replay/columns/exit_forms.py) answers what the scalar
``evaluate_exits`` answers at every row it calls known: on the bundled sample, for random
open positions (either direction, inside and past their grace window, with ladder rungs
taken, peaks and hold multipliers carried, alignment and trend at entry or none), under the
shipped exit ladder and under variants whose thresholds make every tier fire somewhere, and
with the ``roi``, ``trailing_stop`` and ``expression`` tiers added (each also alone, so each
kind's form is compared where it fires; the expressions read inputs that are often absent and
fault at times, so the forms' scalar fallback is compared too)."""

from __future__ import annotations

import dataclasses
import shutil
from types import MappingProxyType

import numpy as np
import pytest

from adapters.snapshots.columnar import read_recording
from engine.language.compiler import compile_ruleset
from engine.language.expr import compile_expression
from engine.language.vocabulary import CONTEXTS
from engine.replay.columns.exit_forms import FORMS, ExitColumns, Ladder
from engine.replay.columns.gates import ColumnEnv
from engine.replay.columns.signals import ColumnSignals
from engine.trading.exits import TIERS, evaluate_exits, expression
from engine.trading.exits.base import ExitContext, Tier
from engine.trading.pipeline import EntryPipeline
from engine.trading.positions import OpenPosition
from tests.dryrun.conftest import SAMPLE

RULES = SAMPLE.parents[2] / "rules"
#: Tiers of the three newer kinds added to the shipped ladder (ranked last: the roi table,
#: ranked before the ladder, would make rungs 2 and 3 unreachable, RB342).
NEW_TIERS = """
  - id: roi
    kind: roi
    tiers:                                      # not monotonic: 0.5 % from 30 min, 1 % from 60 min
      - {after: 0m, pnl_pct: 2.0}
      - {after: 30m, pnl_pct: 0.5}
      - {after: 60m, pnl_pct: 1.0}
  - id: trailing
    kind: trailing_stop
    distance_pct: 0.6
    activate_above_pct: 0.4
  - id: trailing_from_entry
    kind: trailing_stop
    distance_pct: 1.2
  - id: degraded
    kind: expression
    when: "alignment_delta < -0.1 and pnl_pct < 0 or momentum_reversed and hold_s > 1800"
    reason: degraded
  - id: faulty
    kind: expression
    when: "hold_s > 2400 and log(peak_pnl_pct - pnl_pct) < -4"   # log(0) at a new peak: a fault, so it fires
"""
NEW_IDS = ("roi", "trailing", "trailing_from_entry", "degraded", "faulty")


@pytest.fixture(scope="module")
def plan():
    return compile_ruleset(str(RULES)).plans["paper"]


@pytest.fixture(scope="module")
def extended(tmp_path_factory):
    """The paper plan with NEW_TIERS added to exits.yaml."""
    rules = tmp_path_factory.mktemp("extended") / "rules"
    shutil.copytree(RULES, rules)
    path = rules / "exits.yaml"
    text = path.read_text(encoding="utf-8")
    anchor = "priority: [stop_loss, timing, mtf_alignment, signal_reversal, profit_target, time_exit, ladder]"
    assert text.count(anchor) == 1
    text = text.replace(anchor, anchor[:-1] + ", " + ", ".join(NEW_IDS) + "]")
    path.write_text(text + NEW_TIERS, encoding="utf-8")
    result = compile_ruleset(str(rules), ["paper"])
    assert result.ok and not result.diagnostics, [str(d) for d in result.diagnostics]
    return result.plans["paper"]


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
        if t.kind == "roi":
            steps = tuple(dataclasses.replace(x, pnl_pct=x.pnl_pct * scale, after=x.after * scale) for x in p.tiers)
            return dataclasses.replace(t, params=dataclasses.replace(p, tiers=steps))
        if t.kind == "trailing_stop":
            params = dataclasses.replace(
                p, distance_pct=p.distance_pct * scale, activate_above_pct=p.activate_above_pct * scale
            )
            return dataclasses.replace(t, params=params)
        return t

    return dataclasses.replace(
        plan, exits=dataclasses.replace(plan.exits, tiers=tuple(tier(t) for t in plan.exits.tiers))
    )


def _alone(plan, tier_id: str):
    """The plan with only tier ``tier_id`` in its ladder."""
    exits = dataclasses.replace(plan.exits, tiers=(plan.exits.tier(tier_id),), priority=(tier_id,))
    return dataclasses.replace(plan, exits=exits)


@pytest.mark.parametrize("scale", [1.0, 0.2])
def test_the_walk_is_the_scalar_ladder_row_by_row(plan, world, scale):
    """Row by row, with the peak P&L and hold multiplier carried as the runner carries them,
    the walk fires exactly where evaluate_exits fires and carries exactly what it sets."""
    compared, fired, moved = _compare(_tuned(plan, scale), world)
    assert 0.05 * compared < fired < 0.95 * compared  # both answers occur
    assert moved > 0.05 * compared  # peaks and multipliers move


@pytest.mark.parametrize("scale", [1.0, 0.2])
def test_the_walk_with_the_newer_kinds_is_the_scalar_ladder_row_by_row(extended, world, scale):
    compared, fired, moved = _compare(_tuned(extended, scale), world)
    assert 0.05 * compared < fired < 0.95 * compared
    assert moved > 0.05 * compared


@pytest.mark.parametrize("scale", [1.0, 0.2])
@pytest.mark.parametrize("tier_id", NEW_IDS)
def test_each_newer_kind_alone_is_its_scalar_evaluate_row_by_row(extended, world, tier_id, scale):
    """Alone in the ladder, the walk fires exactly where the tier's own evaluate does; each
    fires at some rows and not at others."""
    compared, fired, _ = _compare(_alone(_tuned(extended, scale), tier_id), world)
    assert 0 < fired < compared


def _compare(plan, world) -> tuple[int, int, int]:
    """(rows compared, rows where some tier fired, rows where the peak or multiplier moved)
    over 40 random positions, asserting the walk equal to evaluate_exits at every row."""
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
    return compared, fired, moved


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


def _expression_tier(tier_id: str, when: str) -> Tier:
    """An ``expression`` tier built by hand, its condition compiled for the exit vocabulary."""
    compiled, problems = compile_expression(when, CONTEXTS["exit"])
    assert compiled is not None, problems
    params = expression.Params(when=when, reason="EXPRESSION")
    return Tier(id=tier_id, kind=expression.KIND, params=params, expressions={expression.EXPRESSION_NAME: compiled})


def test_an_expression_tier_reading_a_name_with_no_column_leaves_the_ladder_to_the_scalar_path(extended):
    names = {"price", "mtf_long", "mtf_short", "ema_spread_pct"}
    assert Ladder(extended, names).complete
    tiers = (*extended.exits.tiers, _expression_tier("fear", "fear_greed < 20"))
    plan = dataclasses.replace(
        extended,
        exits=dataclasses.replace(extended.exits, tiers=tiers, priority=(*extended.exits.priority, "fear")),
    )
    assert not Ladder(plan, names).complete
    assert Ladder(plan, names | {"fear_greed"}).complete  # a market column of that name serves
    unranked = dataclasses.replace(plan, exits=dataclasses.replace(plan.exits, priority=extended.exits.priority))
    assert Ladder(unranked, names).complete  # a tier missing from priority is never asked


def _columns(columns: dict[str, np.ndarray]) -> tuple[ExitColumns, list[ExitContext]]:
    """Hand-made rows (``pnl_pct``, ``hold_s``, ``peak_pnl_pct`` and any other exit names, NaN
    where absent) as a form sees them, and as ``evaluate`` sees each of them."""
    n = len(columns["pnl_pct"])
    cols = ExitColumns(
        position=None,
        now=np.arange(float(n)),
        pnl_pct=columns["pnl_pct"],
        hold_s=columns["hold_s"],
        env=ColumnEnv({name: (lambda v=v: v) for name, v in columns.items()}),
        action=np.full(n, "HOLD", dtype=object),
    )
    rows = []
    for r in range(n):
        env = {name: v[r].item() for name, v in columns.items() if not np.isnan(v[r])}
        if "momentum_reversed" in env:
            env["momentum_reversed"] = bool(env["momentum_reversed"])
        rows.append(ExitContext(None, 0.0, 1.0, env["pnl_pct"], env["hold_s"], MappingProxyType(env), "HOLD"))
    return cols, rows


def _both(tier: Tier, columns: dict[str, np.ndarray]) -> tuple[list[bool], list[bool]]:
    """(the kind's column form, its scalar evaluate row by row) on hand-made rows."""
    cols, rows = _columns(columns)
    scalar = [TIERS[tier.kind].evaluate(tier, ctx) is not None for ctx in rows]
    return FORMS[tier.kind](tier, cols).tolist(), scalar


def test_the_roi_and_trailing_forms_compare_at_their_exact_thresholds(extended):
    """Real prices seldom land on a threshold: here every row does (ages at the table's
    boundaries, P&L at the targets, the peak at the activation level, P&L at peak − distance)."""
    roi = extended.exits.tier("roi")  # 0m: 2 %, 30m: 0.5 %, 60m: 1 %
    ages = np.array([0.0, 1799.0, 1800.0, 1800.0, 3599.0, 3600.0, 3600.0, 3600.0])
    pnl = np.array([2.0, 2.0, 0.5, 0.5000001, 0.75, 0.75, 1.0, 1.25])
    form, scalar = _both(roi, {"pnl_pct": pnl, "hold_s": ages, "peak_pnl_pct": np.fmax(pnl, 0)})
    assert form == scalar == [False, False, False, True, True, False, False, True]

    trailing = dataclasses.replace(
        extended.exits.tier("trailing"),
        params=dataclasses.replace(extended.exits.tier("trailing").params, distance_pct=0.5, activate_above_pct=1.0),
    )
    peak = np.array([1.0, 1.0, 1.25, 1.25, 0.5, 2.0])
    pnl = np.array([0.5, 0.25, 0.75, 1.0, -3.0, 2.0])
    columns = {"pnl_pct": pnl, "hold_s": np.full(6, 3600.0), "peak_pnl_pct": peak}
    form, scalar = _both(trailing, columns)
    assert form == scalar == [False, False, True, False, False, False]
    from_entry = extended.exits.tier("trailing_from_entry")  # active from entry
    from_entry = dataclasses.replace(from_entry, params=dataclasses.replace(from_entry.params, distance_pct=1.25))
    form, scalar = _both(from_entry, columns | {"pnl_pct": np.array([-0.25, -0.125, 0.0, 0.125, -1.0, 0.75])})
    assert form == scalar == [True, False, True, False, True, True]


def test_the_expression_form_settles_rows_it_cannot_take_as_a_vector_the_scalar_way():
    """Rows where an input is absent (NaN) stop the condition where the scalar evaluation
    reaches the name, and a numeric fault on some rows (the vector faults as a whole) fires
    exactly there: the form answers what the tier's evaluate answers on each row's env."""
    columns = {
        "pnl_pct": np.array([-2.0, -2.0, 0.5, 0.5, 1.0, -0.5]),
        "hold_s": np.full(6, 3600.0),
        "peak_pnl_pct": np.array([0.0, 0.0, 0.5, 0.9, 1.5, 0.0]),
        "alignment": np.array([np.nan, 0.1, np.nan, 0.5, 0.1, np.nan]),
        "momentum_reversed": np.array([np.nan, 0.0, 1.0, 0.0, np.nan, 1.0]),
    }
    cases = {
        "pnl_pct < -1 or alignment < 0.2": [True, True, False, False, True, False],
        "alignment < 0.2 or pnl_pct < -1": [False, True, False, False, True, False],
        "momentum_reversed or alignment < 0.2": [False, True, True, False, False, True],
        # log(0) on row 2 faults: the whole vector does, row 2 fires by the failure policy
        "log(peak_pnl_pct - pnl_pct) < -0.5": [False, False, True, True, True, True],
    }
    for when, expected in cases.items():
        form, scalar = _both(_expression_tier("x", when), columns)
        assert form == scalar == expected, when
