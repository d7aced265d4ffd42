"""`rulebot explain` from the recording's columns gives exactly the scalar replay's explanation:
the same decisions (every field, the whole trail) and the same text, at several instants and
symbols of the bundled sample — directional votes through the gate chain, a trade, an instant
between snapshots, one long after the last — and the missing-data blocker is named only where
the data is the cause."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from adapters.snapshots.columnar import read_columnar, read_recording
from engine.language.compiler import compile_ruleset
from engine.report.explain import render_decision, render_json, render_text, replay, replay_recording
from engine.trading.entry import missing_data_checks
from engine.trading.pipeline import EntryPipeline
from engine.trading.portfolio import Portfolio

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample" / "sample.snapshots.parquet"


@pytest.fixture(scope="module")
def plan():
    return compile_ruleset(str(ROOT / "rules")).plans["paper"]


@pytest.fixture(scope="module")
def recording():
    return read_recording(SAMPLE)


def _portfolio() -> Portfolio:
    return Portfolio(equity_usd=10_000.0, available_margin_usd=10_000.0)


def _instants(plan, recording) -> list[float]:
    """Directional cycles of each symbol (early, middle, late), and two instants off the clock."""
    from engine.replay.columns.signals import ColumnSignals

    signals = ColumnSignals(plan, recording)
    rows: set[int] = set()
    for symbol in recording.symbols:
        directional = np.flatnonzero(signals.votes[symbol].direction != 0)
        assert len(directional) > 3, symbol
        rows.update(directional[[0, len(directional) // 2, -1]].tolist())
    ts = recording.ts
    return sorted([float(ts[i]) for i in rows] + [float(ts[len(ts) // 3]) + 30.0, float(ts[-1]) + 3600.0])


def _explained(replayed, plan, now: float) -> tuple[list, str]:
    decisions = [replayed.pipeline.decide(s, _portfolio(), now) for s in replayed.present]
    text = "\n\n".join(render_text(d.signal) + "\n" + render_decision(d) for d in decisions)
    return [d.as_dict() for d in decisions], text + render_json(decisions)


def test_the_column_replay_explains_exactly_as_the_scalar_replay(plan, recording):
    instants = _instants(plan, recording)
    scalar = EntryPipeline(plan)  # replay() fed incrementally: one pass for every instant
    snapshots = iter(read_columnar(SAMPLE))
    pending = next(snapshots)
    outcomes, blockers = set(), set()
    for k, until in enumerate(instants):
        while pending is not None and pending.ts <= until:
            scalar.update(pending)
            pending = next(snapshots, None)
        columns = replay_recording(plan, recording, until)
        assert columns.present == ("BTCUSDT", "ETHUSDT")
        fed = SimpleNamespace(pipeline=scalar, present=columns.present)
        expected, expected_text = _explained(fed, plan, until)
        got, got_text = _explained(columns, plan, until)
        assert got == expected, until
        assert got_text == expected_text
        outcomes.update(d["outcome"] for d in got)
        blockers.update(d["first_blocker"] for d in got if d["direction"] != "NEUTRAL")
        if k == 0:  # replay() itself, where it is cheap
            alone = replay(plan, read_columnar(SAMPLE), until)
            assert alone.present == columns.present and alone.last == columns.last
            assert _explained(alone, plan, until) == (expected, expected_text)
    assert "TRADE" in outcomes and len(blockers) > 1  # the gate chain, sizing and a trade were compared


def test_explaining_an_instant_computes_the_columns_up_to_it_only_and_equals_the_whole_computation(plan, recording):
    """--at replays the recording's head (the cycles up to the instant): the same decisions
    as the columns of the whole recording with the cursor on that cycle."""
    from engine.replay.columns.correlation import correlation_cursor
    from engine.replay.columns.signals import ColumnSignals

    whole = ColumnSignals(plan, recording)
    pipeline = EntryPipeline(plan, signals=whole, correlation=correlation_cursor(plan, whole, recording))
    instants = _instants(plan, recording) + [float(recording.ts[0]), float(recording.ts[1]) - 1.0]
    for until in instants:
        i = int(np.searchsorted(recording.ts, until, side="right")) - 1
        head = replay_recording(plan, recording, until)
        assert len(head.pipeline.signals.recording) == i + 1 < len(recording) or until >= recording.ts[-1]
        whole.seek(i)
        fed = SimpleNamespace(pipeline=pipeline, present=head.present)
        assert _explained(head, plan, until) == _explained(fed, plan, until), until


def test_the_head_of_a_recording_is_its_first_cycles(recording):
    head = recording.head(100)
    assert len(head) == 100 and head.ts.tolist() == recording.ts[:100].tolist()
    for name, sym in recording.symbols.items():
        cut = head.symbols[name]
        assert cut.candles.close.tolist() == sym.candles.close[:100].tolist()
        assert cut.values.keys() == sym.values.keys() and cut.times.keys() == sym.times.keys()
        for k in sym.values:
            assert np.array_equal(cut.values[k], sym.values[k][:100], equal_nan=True), k
        for k in sym.times:
            assert np.array_equal(cut.times[k], sym.times[k][:100], equal_nan=True), k
        assert cut.snapshot_at(99) == sym.snapshot_at(99)
    assert head.snapshot(42) == recording.snapshot(42)
    assert recording.head(len(recording)) is recording and len(recording.head(0)) == 0


def test_no_snapshot_at_or_before_the_instant(plan, recording):
    assert replay_recording(plan, recording, float(recording.ts[0]) - 1).last is None
    assert replay(plan, read_columnar(SAMPLE), float(recording.ts[0]) - 1).last is None


def _record(direction: str, *answers: tuple[str, str]):
    components = tuple(SimpleNamespace(direction=d, reasons=(r,) if r else ()) for d, r in answers)
    return SimpleNamespace(direction=direction, components=components)


@pytest.mark.parametrize(
    "record, market, detail",
    [
        # no price: whatever the components say, the data is named
        (_record("NEUTRAL", ("NEUTRAL", "missing:candles_1m"), ("LONG", "fear")), {}, "price, candles_1m missing"),
        # every component silent for want of data
        (
            _record("NEUTRAL", ("NEUTRAL", "missing:order_book"), ("NEUTRAL", "stale:liquidations")),
            {"price": 1.0},
            "order_book missing; liquidations stale",
        ),
        # one component had its data and answered: the vote's own reasons stand
        (_record("NEUTRAL", ("NEUTRAL", "missing:order_book"), ("NEUTRAL", "below_threshold")), {"price": 1.0}, None),
        (_record("NEUTRAL", ("LONG", "fear"), ("NEUTRAL", "stale:liquidations")), {"price": 1.0}, None),
        # a directional vote had data enough to vote (and a dry-run's decisions stay as they were)
        (_record("LONG", ("LONG", "fear"), ("NEUTRAL", "missing:order_book")), {}, None),
    ],
)
def test_missing_data_is_the_first_blocker_only_where_it_is_the_cause(record, market, detail):
    checks = missing_data_checks(record, market)
    if detail is None:
        assert checks == []
    else:
        assert [(c.passed, c.reason, c.detail) for c in checks] == [(False, "MARKET_DATA_MISSING", detail)]
