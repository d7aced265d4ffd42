"""Bad input is refused with a StateError naming what failed, and nothing of the transition
is written: the database is exactly what it was before, and still usable."""

from __future__ import annotations

import dataclasses
from dataclasses import replace

import pytest

from adapters.store.state import StateError
from engine.ports import Transition

from .lifecycle import Model, raw, transition


def _merged(*steps: int) -> Transition:
    """Several lifecycle steps as one transition (every table gets rows)."""
    parts = [transition(s) for s in steps]
    merged = {
        f.name: sum((getattr(p, f.name) for p in parts), ())
        for f in dataclasses.fields(Transition)
        if f.name != "bot"  # the running bot's records: tests/bot/test_bot_tables.py
    }
    merged["positions"] = parts[-1].positions or merged["positions"][-1:]
    return Transition(**merged)


def _last(items: tuple, **changes) -> tuple:
    return items[:-1] + (replace(items[-1], **changes),)


BASE = _merged(5, 6, 7)  # position 1: opened, half closed, funding; 2 orders, 2 fills
CLOSE = transition(8)  # closes position 1 with a trade

CASES = {
    "invalid CHECK value in the last trade": (
        lambda: replace(CLOSE, trades=_last(CLOSE.trades, direction="SIDEWAYS")),
        "trades 'pos-1'",
        "direction",
    ),
    "NULL in the last fill": (
        lambda: replace(BASE, fills=_last(BASE.fills, symbol=None)),
        "fills 'fill-1-1'",
        "symbol must be str",
    ),
    "NaN price": (lambda: replace(BASE, fills=_last(BASE.fills, price=float("nan"))), "fills 'fill-1-1'", "price"),
    "infinite stop": (
        lambda: replace(BASE, positions=_last(BASE.positions, stop_price=float("inf"))),
        "positions 'pos-1'",
        "stop_price",
    ),
    "text in a REAL column": (
        lambda: replace(BASE, funding=_last(BASE.funding, amount="12.5")),
        "funding_payments 'fund-1'",
        "amount must be float",
    ),
    "a bad side is refused, not skipped as INSERT OR IGNORE would": (
        lambda: replace(BASE, fills=_last(BASE.fills, side="hold")),
        "fills 'fill-1-1'",
        "side",
    ),
    "a dict where a Fill belongs": (
        lambda: replace(BASE, fills=BASE.fills + ({"fill_id": "x"},)),
        "fills",
        "expected Fill",
    ),
    "a fill of an unknown order": (
        lambda: replace(BASE, fills=_last(BASE.fills, client_order_id="ghost")),
        "fills 'fill-1-1'",
        "FOREIGN KEY",
    ),
    "a link to an unknown order": (
        lambda: replace(BASE, order_positions=BASE.order_positions + (("ghost", "pos-1"),)),
        "ghost",
        "unknown order",
    ),
    "a trade while its position is still open": (
        lambda: replace(CLOSE, closed_positions=()),
        "trades 'pos-1'",
        "still open",
    ),
    "non-string attribution keys": (
        lambda: replace(BASE, positions=_last(BASE.positions, attribution={1: 0.5})),
        "positions 'pos-1'",
        "keys",
    ),
    "a NaN cursor": (lambda: replace(BASE, cursors=(("step", float("nan")),)), "cursors", "finite"),
    "a cursor that is not a pair": (lambda: replace(BASE, cursors=("step",)), "cursors", "name"),
    "a closed position id that is not a string": (lambda: replace(CLOSE, closed_positions=(None,)), "closed", "id"),
}


@pytest.fixture
def before(store) -> Model:
    """Position 0 has lived and died; the database holds steps 1..4."""
    model = Model()
    for step in range(1, 5):
        store.apply(transition(step))
    model.advance_to(4)
    return model


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_a_bad_transition_writes_nothing(store, before, case):
    make, where, what = CASES[case]
    if make().trades:
        store.apply(BASE)
        before.apply(BASE)
    with pytest.raises(StateError) as err:
        store.apply(make())
    assert err.value.code == "RB802"
    assert where in str(err.value) and what in str(err.value), str(err.value)
    before.assert_matches(store)
    assert store.integrity_check() == "ok"
    store.apply(transition(5))  # still usable


def test_a_bad_first_transition_leaves_every_table_empty(store):
    bad = replace(_merged(1, 2, 3), cursors=(("step", 3.0), ("other", None)))
    with pytest.raises(StateError, match="cursors"):
        store.apply(bad)
    assert (store.orders(), store.fills(), store.funding(), store.open_positions(), store.cursor("step")) == (
        [],
        [],
        [],
        [],
        None,
    )
    with raw(store.path) as conn:
        counts = [
            conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("orders", "fills", "funding_payments", "positions", "trades", "cursors")
        ]
    assert counts == [0] * 6


def test_a_fill_id_reused_with_other_values_is_refused(store, before):
    fill = transition(1).fills[0]
    store.apply(Transition(fills=(fill,)))  # the same values again: harmless
    with pytest.raises(StateError, match="already recorded with different values") as err:
        store.apply(Transition(fills=(replace(fill, price=fill.price + 1),)))
    assert err.value.code == "RB802"
    before.assert_matches(store)


def test_a_closed_position_cannot_come_back(store, before):
    with pytest.raises(StateError, match="already closed"):
        store.apply(transition(3))
    before.assert_matches(store)


def test_apply_needs_a_transition(store):
    with pytest.raises(StateError, match="needs a Transition") as err:
        store.apply({"orders": ()})
    assert err.value.code == "RB802"


def test_an_interrupt_rolls_back_and_stays_itself(store, before, monkeypatch):
    """KeyboardInterrupt is not wrapped, but the transaction is still rolled back."""
    from adapters.store import state

    def interrupted(self, cursor):
        raise KeyboardInterrupt

    monkeypatch.setattr(state.StateStore, "_set_cursor", interrupted)
    with pytest.raises(KeyboardInterrupt):
        store.apply(transition(5))
    monkeypatch.undo()
    before.assert_matches(store)
    store.apply(transition(5))


@pytest.mark.parametrize(
    "sql, message",
    [
        ("INSERT INTO cursors (name, value) VALUES ('step', NULL)", "NOT NULL"),
        ("INSERT INTO cursors (name, value) VALUES ('step', 'soon')", "cannot store TEXT value in REAL column"),
        ("INSERT INTO orders (client_order_id) VALUES (NULL)", "NOT NULL"),
        ("UPDATE positions SET direction = 'UP'", "CHECK"),
        ("INSERT INTO funding_payments VALUES ('f', 'BTCUSDT', 0.1, 1.0, NULL)", "NOT NULL"),
    ],
)
def test_the_schema_itself_refuses_bad_rows(store, sql, message):
    """Constraints live in the tables too, so a hand edit with the sqlite3 CLI is checked."""
    import sqlite3

    store.apply(transition(1))
    with raw(store.path) as conn, pytest.raises(sqlite3.IntegrityError, match=message):
        conn.execute(sql)
