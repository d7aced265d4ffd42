"""Everything stored comes back equal, re-applying is harmless, readers filter and order."""

from __future__ import annotations

import dataclasses
from types import MappingProxyType

import pytest

from adapters.store.state import POSITIONS, TRADES, HookRun, StateError, StateStore
from engine.ports import LIMIT, OPEN, OrderState, Transition
from engine.trading.positions import OpenPosition

from .lifecycle import Model, expected_fill_count, position_id, raw, transition


def _all_steps(store, steps: int) -> Model:
    model = Model()
    for step in range(1, steps + 1):
        store.apply(transition(step))
    model.advance_to(steps)
    return model


def test_a_full_lifecycle_round_trips_every_type(store):
    model = _all_steps(store, 4 * 6 + 2)
    model.assert_matches(store)
    assert len(store.fills()) == expected_fill_count(26)
    assert [p.id for p in store.open_positions()] == [position_id(6)]
    assert len(store.trades()) == 6 and len(store.funding()) == 6
    assert store.cursor("step") == 26.0 and store.cursor("missing") is None


def test_values_come_back_exactly_equal_with_their_types(store):
    position = OpenPosition(
        "p1",
        "BTCUSDT",
        "SHORT",
        "paper",
        0.1 + 0.2,
        1e-9,
        3,
        2.5,
        1.7e9 + 1 / 3,
        "rs-1",
        alignment_at_entry=-0.0,
        stop_price=None,
        trend_at_entry=-1,
        ladder_done=(1, 2, 3),
        attribution={"trend": 1 / 3, "funding_rate": -2.5e-308},
    )
    order = OrderState("p1", "v1", "BTCUSDT", "sell", 1e-9, 0.0, LIMIT, 0.30000000000000004, OPEN, True, "why", 1.5)
    store.apply(Transition(orders=(order,), positions=(position,)))
    [back] = store.open_positions()
    assert back == position and isinstance(back.ladder_done, tuple) and isinstance(back.attribution, MappingProxyType)
    assert back.entry_price == 0.30000000000000004 and back.initial_quantity == 3
    assert store.orders() == [order] and store.orders()[0].reduce_only is True


def test_the_default_attribution_compares_equal_after_a_round_trip(store):
    position = OpenPosition("p1", "BTCUSDT", "LONG", "paper", 100.0, 1.0, 1.0, 1.0, 0.0, "rs-1")
    store.apply(Transition(positions=(position,)))
    assert store.open_positions() == [position]


def test_reapplying_a_transition_writes_nothing_new(store):
    for step in range(1, 9):
        store.apply(transition(step))
        store.apply(transition(step))
    model = Model()
    model.advance_to(8)
    model.assert_matches(store)
    assert len(store.fills()) == expected_fill_count(8)


def test_replaying_the_closing_step_keeps_the_position_closed(store):
    for step in range(1, 5):
        store.apply(transition(step))
    store.apply(transition(4))
    assert store.open_positions() == [] and len(store.trades()) == 1


def test_a_closing_transition_may_also_carry_the_final_position_and_be_replayed(store):
    for step in range(1, 4):
        store.apply(transition(step))
    closing = transition(4)
    closing = dataclasses.replace(closing, positions=(store.open_positions()[0],))
    store.apply(closing)
    store.apply(closing)
    assert store.open_positions() == [] and len(store.trades()) == 1


def test_orders_are_upserted_and_keep_their_version_and_position(store):
    first = transition(1).orders[0]
    store.apply(transition(1), version="rs-aaaa")
    later = dataclasses.replace(first, status="cancelled", reason="expired")
    store.apply(Transition(orders=(later,)))
    assert store.orders() == [later]
    assert store.orders(position_id=position_id(0)) == [later]
    with raw(store.path) as conn:
        assert conn.execute("SELECT version, position_id FROM orders").fetchall() == [("rs-aaaa", "pos-0")]


def test_readers_filter(store):
    for step in range(1, 9):
        store.apply(transition(step))
    assert [f.fill_id for f in store.fills(client_order_id="pos-1-x1")] == ["fill-1-1"]
    assert {o.client_order_id for o in store.orders(position_id="pos-1")} == {"pos-1", "pos-1-x1", "pos-1-x2"}


def test_every_dataclass_field_has_a_column(store):
    """A new field on OpenPosition or TradeRecord needs a migration; this says so."""
    with raw(store.path) as conn:
        for table in (POSITIONS, TRADES):
            columns = {row[1] for row in conn.execute(f"PRAGMA table_info({table.name})")}
            assert {f.name for f in dataclasses.fields(table.cls)} | {"int_fields"} == columns


def test_rule_versions_first_record_wins(store):
    first = store.record_rule_version("rs-1", "human", message="seed", created_at=10.0)
    again = store.record_rule_version("rs-1", "human", message="reloaded", created_at=20.0)
    child = store.record_rule_version("rs-2", "learner:signal_weights", parent="rs-1", created_at=30.0)
    assert again == first and first.message == "seed"
    assert store.rule_versions() == [first, child] and child.parent == "rs-1"


@pytest.mark.parametrize("author", ["robot", "learner:", "Learner:x", ""])
def test_rule_version_authors_are_human_or_a_named_learner(store, author):
    with pytest.raises(StateError) as err:
        store.record_rule_version("rs-1", author)
    assert err.value.code == "RB802" and "author" in str(err.value)
    assert store.rule_versions() == []


def test_hook_runs_record_retries(store):
    for step in range(1, 5):
        store.apply(transition(step))
    store.record_hook_run("pos-0", "learn", "failed", "timeout", ran_at=1.0)
    run = store.record_hook_run("pos-0", "learn", "ok", ran_at=2.0)
    store.record_hook_run("pos-0", "report", "ok", ran_at=3.0)
    assert run == HookRun("pos-0", "learn", "ok", "", 2.0, 2)
    assert [r.hook for r in store.hook_runs("pos-0")] == ["learn", "report"]
    assert store.hook_runs("other") == [] and len(store.hook_runs()) == 2


def test_hook_runs_need_a_recorded_trade_and_a_known_status(store):
    with pytest.raises(StateError, match="FOREIGN KEY"):
        store.record_hook_run("nope", "learn", "ok")
    for step in range(1, 5):
        store.apply(transition(step))
    with pytest.raises(StateError, match="status"):
        store.record_hook_run("pos-0", "learn", "maybe")
    assert store.hook_runs() == []


def test_an_in_memory_store_works():
    with StateStore(":memory:") as store:
        store.apply(transition(1))
        assert len(store.fills()) == 1


def test_integrity_check_and_pragmas(store):
    assert store.integrity_check() == "ok"
    assert store.journal_mode == "wal"
    with raw(store.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_closed_store_refuses_politely(db_path):
    store = StateStore(db_path)
    store.close()
    store.close()
    with pytest.raises(StateError, match="closed") as err:
        store.trades()
    assert err.value.code == "RB800"
    with pytest.raises(StateError, match="closed"):
        store.apply(Transition())


def test_blobs_move_with_the_transition_and_keep_the_last_value(tmp_path):
    from adapters.store.state import StateStore
    from engine.ports import Transition

    with StateStore(tmp_path / "s.db") as store:
        assert store.blob("pending") is None
        store.apply(Transition(blobs=(("pending", '{"a": 1}'),), cursors=(("step", 1.0),)))
        store.apply(Transition(blobs=(("pending", '{"a": 2}'),), cursors=(("step", 2.0),)))
        assert store.blob("pending") == '{"a": 2}' and store.cursor("step") == 2.0
