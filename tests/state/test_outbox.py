"""The outbox (adapters/store/outbox.py): a step's log records and hook runs are written in
its transaction; the records reach their logs after the commit, exactly once — a restart
cuts what a crash left of the last delivery and delivers it again — and values come back
from the database with the type they had (an integral leverage stays an int)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from adapters.store.outbox import LogFiles
from adapters.store.state import MIGRATIONS, StateError, StateStore
from engine.ports import Transition

from .lifecycle import raw, transition

FILES = {"trades": "executed_trades", "signals": "predictive_signals"}


def _step(step: int, *records: tuple[str, dict]) -> Transition:
    return replace(transition(step), records=records)


def _lines(folder, name: str) -> list[str]:
    path = folder / f"{FILES[name]}.jsonl"
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def _rows(db, table: str) -> list[tuple]:
    with raw(db) as conn:
        return conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()


def test_records_reach_their_logs_after_the_commit_and_the_next_step_records_the_lengths(db_path, tmp_path):
    logs = tmp_path / "logs"
    with StateStore(db_path) as store, LogFiles(logs, FILES) as files:
        store.attach_logs(files)
        assert store.outbox
        store.apply(_step(1, ("trades", {"id": "a", "leverage": 2}), ("signals", {"s": "é"})))
        assert _lines(logs, "trades") == ['{"id":"a","leverage":2}'] and _lines(logs, "signals") == ['{"s":"é"}']
        # committed with step 1: its rows, and the logs' lengths before them
        assert [r[1:] for r in _rows(db_path, "outbox")] == [
            ("trades", '{"id":"a","leverage":2}'),
            ("signals", '{"s":"é"}'),
        ]
        assert _rows(db_path, "log_offsets") == [("signals", 0), ("trades", 0)]
        store.apply(_step(2, ("trades", {"id": "b"})))
        assert [r[1:] for r in _rows(db_path, "outbox")] == [("trades", '{"id":"b"}')]
        assert _rows(db_path, "log_offsets") == [("signals", len('{"s":"é"}\n'.encode())), ("trades", 24)]
        store.apply(transition(3))  # no records: the delivered rows are settled all the same
        assert _rows(db_path, "outbox") == [] and ("trades", 35) in _rows(db_path, "log_offsets")
    assert _lines(logs, "trades") == ['{"id":"a","leverage":2}', '{"id":"b"}']


@pytest.mark.parametrize("left", ["nothing", "half a line", "one line", "everything"])
def test_a_restart_cuts_what_a_crash_left_and_delivers_the_last_step_again(db_path, tmp_path, left):
    logs = tmp_path / "logs"
    with StateStore(db_path) as store, LogFiles(logs, FILES) as files:
        store.attach_logs(files)
        store.apply(_step(1, ("trades", {"id": "a"})))
        # step 2 commits, then the process dies while delivering its records
        files.deliver = lambda lines: None  # type: ignore[method-assign]
        store.apply(_step(2, ("trades", {"id": "b"}), ("trades", {"id": "c"})))
    path = logs / "executed_trades.jsonl"
    tail = {
        "nothing": "",
        "half a line": '{"id":',
        "one line": '{"id":"b"}\n',
        "everything": '{"id":"b"}\n{"id":"c"}\n',
    }
    with open(path, "a", encoding="utf-8") as log:
        log.write(tail[left])
    with StateStore(db_path) as store, LogFiles(logs, FILES) as files:
        store.attach_logs(files)
        assert _lines(logs, "trades") == ['{"id":"a"}', '{"id":"b"}', '{"id":"c"}']
        store.apply(_step(3, ("trades", {"id": "d"})))
    assert _lines(logs, "trades") == ['{"id":"a"}', '{"id":"b"}', '{"id":"c"}', '{"id":"d"}']


def test_a_step_applied_again_adds_no_records(db_path, tmp_path):
    logs = tmp_path / "logs"
    with StateStore(db_path) as store, LogFiles(logs, FILES) as files:
        store.attach_logs(files)
        store.apply(_step(1, ("trades", {"id": "a"})))
        store.apply(_step(1, ("trades", {"id": "a"})))
    assert _lines(logs, "trades") == ['{"id":"a"}']


def test_a_log_shorter_than_delivered_is_refused_and_left_alone(db_path, tmp_path):
    logs = tmp_path / "logs"
    with StateStore(db_path) as store, LogFiles(logs, FILES) as files:
        store.attach_logs(files)
        store.apply(_step(1, ("trades", {"id": "a"})))
        store.apply(_step(2, ("trades", {"id": "b"})))  # records that the log holds 11 bytes
    path = logs / "executed_trades.jsonl"
    path.write_text("", encoding="utf-8")
    with StateStore(db_path) as store, LogFiles(logs, FILES) as files:
        with pytest.raises(StateError, match=r"executed_trades.jsonl has 0 bytes, 11 were delivered") as err:
            store.attach_logs(files)
        assert err.value.code == "RB806" and not store.outbox
    assert path.read_text(encoding="utf-8") == "" and _lines(logs, "signals") == []


@pytest.mark.parametrize(
    ("records", "message"),
    [
        ((("trades", {"x": float("nan")}),), "Out of range float"),
        ((("orders", {"id": "a"}),), "unknown log 'orders'"),
    ],
)
def test_a_record_that_cannot_be_logged_refuses_the_whole_step(db_path, tmp_path, records, message):
    logs = tmp_path / "logs"
    with StateStore(db_path) as store, LogFiles(logs, FILES) as files:
        store.attach_logs(files)
        with pytest.raises(StateError, match=message) as err:
            store.apply(_step(1, *records))
        assert err.value.code == "RB802" and store.cursor("step") is None and store.fills() == []
    assert _lines(logs, "trades") == []


def test_records_need_logs_attached(store):
    with pytest.raises(StateError, match="records need logs") as err:
        store.apply(_step(1, ("trades", {"id": "a"})))
    assert err.value.code == "RB802" and store.cursor("step") is None


def test_hook_runs_are_written_with_their_step_once(store):
    for step in range(1, 5):
        store.apply(transition(step))
    closing = replace(
        transition(4), hook_runs=(("pos-0", "attribution", "ok", "", 9.0), ("pos-0", "x", "failed", "E", 9.0))
    )
    with pytest.raises(StateError, match="hook_runs") as err:  # the trade must exist: the step is refused whole
        store.apply(replace(closing, hook_runs=(("nope", "x", "ok", "", 9.0),), cursors=(("step", 5.0),)))
    assert err.value.code == "RB802" and store.cursor("step") == 4.0
    store.apply(closing)
    store.apply(closing)  # applied again: nothing changes
    assert [(r.hook, r.status, r.error, r.ran_at, r.attempts) for r in store.hook_runs("pos-0")] == [
        ("attribution", "ok", "", 9.0, 1),
        ("x", "failed", "E", 9.0, 1),
    ]


def test_an_integral_value_comes_back_an_int_and_a_float_a_float(store):
    store.apply(transition(1))
    (stored,) = store.open_positions()
    store.apply(Transition(positions=(replace(stored, leverage=2, hold_multiplier=1.5, peak_pnl_pct=3.0),)))
    (back,) = store.open_positions()
    assert type(back.leverage) is int and back.leverage == 2
    assert type(back.hold_multiplier) is float and type(back.peak_pnl_pct) is float and back.peak_pnl_pct == 3.0
    assert type(back.trend_at_entry) is int and back == replace(
        stored, leverage=2, hold_multiplier=1.5, peak_pnl_pct=3.0
    )


def test_a_v3_database_migrates_to_v4_keeping_every_row(db_path):
    v3 = tuple(m for m in MIGRATIONS if m[0] <= 3)
    with StateStore(db_path, migrations=v3) as store:
        for step in range(1, 7):  # a closed trade and an open position
            store.apply(transition(step))
        positions, trades = store.open_positions(), store.trades()
    with StateStore(db_path) as store:
        assert store.schema_version() == store.known_version >= 4
        assert store.open_positions() == positions and store.trades() == trades
        assert not store.outbox
    assert _rows(db_path, "outbox") == [] and _rows(db_path, "log_offsets") == []
    with raw(db_path) as conn:
        assert conn.execute(
            "SELECT DISTINCT int_fields FROM positions UNION SELECT int_fields FROM trades"
        ).fetchall() == [("[]",)]


def test_a_group_commits_its_steps_together_and_delivers_their_records_after(db_path, tmp_path):
    logs = tmp_path / "logs"
    with StateStore(db_path) as store, LogFiles(logs, FILES) as files:
        store.attach_logs(files)
        store.apply(_step(1, ("trades", {"id": "a"})))
        with store.group():
            store.apply(_step(2, ("trades", {"id": "b"})))
            store.apply(transition(3))
            store.apply(_step(4, ("trades", {"id": "c"}), ("signals", {"s": 1})))
            assert _lines(logs, "trades") == ['{"id":"a"}']  # nothing delivered before the commit
            assert store.cursor("step") == 4  # the open transaction sees its own steps
        assert _lines(logs, "trades") == ['{"id":"a"}', '{"id":"b"}', '{"id":"c"}']
        # the outbox holds the whole group's rows, the offsets the lengths before it
        assert [r[1:] for r in _rows(db_path, "outbox")] == [
            ("trades", '{"id":"b"}'),
            ("trades", '{"id":"c"}'),
            ("signals", '{"s":1}'),
        ]
        assert ("trades", len('{"id":"a"}\n')) in _rows(db_path, "log_offsets")


def test_a_group_killed_before_its_commit_leaves_the_state_before_it(db_path, tmp_path):
    logs = tmp_path / "logs"
    with StateStore(db_path) as store, LogFiles(logs, FILES) as files:
        store.attach_logs(files)
        store.apply(_step(1, ("trades", {"id": "a"})))
        with pytest.raises(KeyboardInterrupt), store.group():
            store.apply(_step(2, ("trades", {"id": "b"})))
            raise KeyboardInterrupt  # the process stops inside the group
        assert store.cursor("step") == 1
        store.apply(_step(2, ("trades", {"id": "b2"})))  # the resumed run takes step 2 again
    assert _lines(logs, "trades") == ['{"id":"a"}', '{"id":"b2"}']
    with StateStore(db_path) as store, pytest.raises(StateError, match="already open"), store.group(), store.group():
        pass


def test_a_group_writes_each_cursor_once_and_still_knows_a_step_it_took(db_path, tmp_path):
    """The rows only the last value of counts (cursors here) wait for the group's end: one
    write per group, not per step; the group's own steps still see them (a step taken again
    adds no records) and so does a read."""
    logs = tmp_path / "logs"
    with StateStore(db_path) as store, LogFiles(logs, FILES) as files:
        store.attach_logs(files)
        store.apply(_step(1, ("trades", {"id": "a"})))
        written: list[str] = []
        store._db.set_trace_callback(written.append)
        with store.group():
            store.apply(_step(2, ("trades", {"id": "b"})))
            store.apply(_step(3, ("trades", {"id": "c"})))
            store.apply(_step(3, ("trades", {"id": "c again"})))  # the same step: no records
            assert sum("INSERT INTO cursors" in sql for sql in written) == 0
            assert store.cursor("step") == 3  # a read writes what waits first
            store.apply(_step(4, ("trades", {"id": "d"})))
        store._db.set_trace_callback(None)
        assert sum("INSERT INTO cursors" in sql for sql in written) == 2  # at the read, at the end
        assert store.cursor("step") == 4
    assert _lines(logs, "trades") == ['{"id":"a"}', '{"id":"b"}', '{"id":"c"}', '{"id":"d"}']
    assert ("step", 4.0) in _rows(db_path, "cursors")
