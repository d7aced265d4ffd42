"""The signal tables (migration SIGNALS_SCHEMA) and the learners' reader ``learning_data``."""

from __future__ import annotations

import sqlite3

import pytest

from adapters.store.reader import StateReader
from adapters.store.state import MIGRATIONS, SIGNALS_SCHEMA, StateError, StateStore
from engine.learners.base import ComponentCall, LearningData
from engine.learners.resolution import BLOCKED, NEUTRAL, TRADE, Resolution, Resolver, Signal
from engine.ports import Transition
from tests.state.lifecycle import _trade
from tests.state.lifecycle import transition as lifecycle_step

T0 = 1_700_000_000.0
CALLS = (ComponentCall("ema", "LONG", 0.75, 0.6), ComponentCall("rsi", "SHORT", 0.1 + 0.2, 0.4))


def signal(ts, symbol="BTCUSDT", direction="LONG", outcome=TRADE, blocker=None, price=100.0, version="rs-1"):
    return Signal(ts, symbol, direction, "HIGH", outcome, blocker, version, price, CALLS)


@pytest.fixture
def store(tmp_path):
    with StateStore(tmp_path / "bot.db") as opened:
        yield opened


def rows(store, table):
    return store._read(lambda db: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def step(store, ts, signals=(), resolutions=()):
    store.apply(Transition(cursors=(("snapshot_ts", ts),), signals=tuple(signals), resolutions=tuple(resolutions)))


def test_signals_and_outcomes_come_back_as_learning_data(store):
    made = [
        signal(T0),
        signal(T0, "ETHUSDT", "SHORT", BLOCKED, "MIN_CONFIDENCE", price=10.0),
        signal(T0 + 60, direction="NEUTRAL", outcome=NEUTRAL),
    ]
    resolver = Resolver((60.0, 300.0))
    for s in made[:2]:
        resolver.add(s)
    step(store, T0, made[:2])
    first = resolver.observe(T0 + 60, {"BTCUSDT": 101.0, "ETHUSDT": 9.5})
    resolver.add(made[2])
    step(store, T0 + 60, made[2:], first)
    later = resolver.observe(T0 + 300, {"BTCUSDT": 103.0})  # ETH: no price, still in its grace
    step(store, T0 + 300, (), later)
    final = resolver.observe(T0 + 420, {})  # ETH's 5-minute grace is over: unresolvable
    step(store, T0 + 420, (), final)
    later += final

    data = store.learning_data(T0, T0 + 3600)
    assert isinstance(data, LearningData) and (data.window_from, data.window_to) == (T0, T0 + 3600)
    expected = [r.outcome for r in first + later if r.outcome is not None]
    assert list(data.outcomes) == sorted(expected, key=lambda o: (o.ts, o.symbol, o.horizon_s))
    eth = [o for o in data.outcomes if o.symbol == "ETHUSDT"]
    assert [(o.horizon_s, o.right(), o.outcome, o.blocker) for o in eth] == [(60.0, True, BLOCKED, "MIN_CONFIDENCE")]
    assert data.outcomes[0].components == CALLS  # exactly: 0.1 + 0.2 stays 0.30000000000000004
    counts = store.signal_counts(T0, T0 + 3600)
    # the NEUTRAL one's 1 minute came at T0+300, past its grace; its 5 minutes are still pending
    assert counts == {"signals": 3, "resolved": 3, "unresolvable": 2}
    waiting = [(s, [r.horizon_s for r in done]) for s, done in store.pending_signals(T0 - 1) if len(done) < 2]
    assert waiting == [(made[2], [60.0])]


def test_the_window_reads_no_price_from_its_future(store):
    s = signal(T0)
    step(store, T0, [s])
    step(store, T0 + 60, (), [Resolution(s, 60.0, 101.0, T0 + 60)])
    step(store, T0 + 900, (), [Resolution(s, 900.0, 110.0, T0 + 900)])
    assert [o.horizon_s for o in store.learning_data(T0, T0 + 600).outcomes] == [60.0]
    assert [o.horizon_s for o in store.learning_data(T0, T0 + 900).outcomes] == [60.0, 900.0]
    assert store.learning_data(T0 + 1, T0 + 900).outcomes == ()  # the signal is before the window
    with pytest.raises(ValueError, match="before since"):
        store.learning_data(T0 + 10, T0)


def test_each_signal_and_outcome_once_and_components_once_per_version(store):
    made = [signal(T0 + 60 * i) for i in range(10)]
    transition = Transition(cursors=(("snapshot_ts", T0),), signals=tuple(made))
    store.apply(transition)
    store.apply(transition)  # applied again after a crash: nothing doubles
    r = Resolution(made[0], 60.0, 101.0, T0 + 60)
    step(store, T0 + 60, (), [r])
    step(store, T0 + 60, (), [r])
    assert (rows(store, "signals"), rows(store, "signal_sets"), rows(store, "signal_outcomes")) == (10, 1, 1)
    step(store, T0 + 700, [signal(T0 + 700, version="rs-2")])
    assert rows(store, "signal_sets") == 2


def test_an_outcome_of_an_unknown_signal_is_refused_and_nothing_is_written(store):
    known, unknown = signal(T0), signal(T0, "SOLUSDT")
    step(store, T0, [known])
    with pytest.raises(StateError, match="no stored signal of 'SOLUSDT'") as raised:
        step(store, T0 + 60, (), [Resolution(known, 60.0, 1.0, T0 + 60), Resolution(unknown, 60.0, 1.0, T0 + 60)])
    assert raised.value.code == "RB802"
    assert rows(store, "signal_outcomes") == 0 and store.cursor("snapshot_ts") == T0


def test_bad_values_are_refused_naming_them(store):
    with pytest.raises(StateError, match="price") as raised:
        step(store, T0, [signal(T0, price=float("nan"))])
    assert raised.value.code == "RB802"
    with pytest.raises(StateError, match="CHECK constraint failed"):
        step(store, T0, [signal(T0, outcome="MAYBE")])
    assert rows(store, "signals") == 0


def test_pending_signals_name_the_horizons_done(store):
    a, b = signal(T0), signal(T0 + 60)
    step(store, T0, [a])
    step(store, T0 + 60, [b], [Resolution(a, 60.0, 101.0, T0 + 60)])
    pending = store.pending_signals(T0 - 1)
    assert pending == [(a, (Resolution(a, 60.0, 101.0, T0 + 60),)), (b, ())]
    assert store.pending_signals(T0) == [(b, ())]


def test_learning_data_reads_the_closed_trades_in_the_window(store):
    for n in range(1, 13):  # three positions opened and closed (tests/state/lifecycle.py)
        store.apply(lifecycle_step(n))
    trades = store.trades()
    inside = trades[1]
    data = store.learning_data(inside.exit_ts, trades[2].exit_ts)
    (got,) = data.trades
    assert (got.id, got.side, got.exit_ts, got.net_pnl) == (inside.id, inside.direction, inside.exit_ts, inside.net_pnl)
    assert got.net_pnl_pct == pytest.approx(inside.net_pnl_pct * inside.leverage)  # % of margin
    assert got == _closed(_trade(1))


def _closed(trade):
    from engine.learners.base import ClosedTrade

    return ClosedTrade.of(trade)


def test_a_read_only_view_reads_the_same(store, tmp_path):
    s = signal(T0)
    step(store, T0, [s])
    step(store, T0 + 60, (), [Resolution(s, 60.0, 101.0, T0 + 60)])
    assert StateReader(tmp_path / "bot.db").learning_data(T0, T0 + 60) == store.learning_data(T0, T0 + 60)


def test_a_database_before_the_signal_tables(tmp_path):
    older = tuple(m for m in MIGRATIONS if m[0] < SIGNALS_SCHEMA)
    with StateStore(tmp_path / "old.db", migrations=older) as old:
        assert not old.keeps_signals
        assert old.learning_data(T0, T0 + 60).outcomes == () and old.pending_signals(0.0) == []
        with pytest.raises(StateError, match="need the signal tables"):
            step(old, T0, [signal(T0)])
    with StateStore(tmp_path / "old.db") as migrated:  # migrated on open
        assert migrated.keeps_signals
        step(migrated, T0, [signal(T0)])
    db = sqlite3.connect(tmp_path / "old.db")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_every_kind_of_call_comes_back_exactly(store):
    calls = (
        ComponentCall("a", "LONG", 0.1 + 0.2, 0.1),
        ComponentCall("b", "SHORT", 1.0, 0.1),
        ComponentCall("c", "NEUTRAL", 0.0, 0.1),
        ComponentCall("d", "NEUTRAL", 0.25, 0.1),  # a NEUTRAL call with a confidence
        ComponentCall("e", "LONG", 0.0, 0.1),  # a directional call without one
        ComponentCall("f", "SHORT", 0.0, 0.1),
    )
    s = Signal(T0, "BTCUSDT", "LONG", "LOW", TRADE, None, "rs-1", 100.0, calls)
    step(store, T0, [s])
    assert store.pending_signals(0.0) == [(s, ())]
    stored = store._read(lambda db: db.execute("SELECT calls FROM signals").fetchone()[0])
    assert stored == "[0.30000000000000004,-1.0,0,[0,0.25],[1,0.0],[-1,0.0]]"
