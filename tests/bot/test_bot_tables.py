"""The running bot's tables (migration 5, adapters/store/state.py ``record_bot``): one cycle's
records in one transaction, refused whole on bad input, read back as written; their history
records reach logs/tasks.jsonl, state_changes.jsonl and reloads.jsonl once, through the outbox,
also when they ride with a runner step (``Transition.bot``)."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace

import pytest

from adapters.store.outbox import LogFiles
from adapters.store.state import StateError, StateStore
from engine.bot.records import BOT_LOGS, BotRecords, BotStatus, LiftedOverride, Reload, ScheduleEntry, StateChange
from engine.bot.tasks.base import Override, TaskRun
from engine.ports import Transition


def _run(task: str, ts: float, status: str = "ok") -> TaskRun:
    return TaskRun(f"job-{task}", task, ts, ts + 0.5, 0.25, status, f"{task} {status}")  # type: ignore[arg-type]


CYCLE = BotRecords(
    task_runs=(_run("watchdog", 100.0), _run("fee_audit", 100.0, "warning")),
    schedule=(ScheduleEntry("job-watchdog", 400.0, 100.0), ScheduleEntry("job-digest", 86400.0)),
    state_changes=(StateChange(100.0, "HALTED", "drill", "operator"),),
    overrides_set=(Override("ov-1", "HALTED", "drill", 100.0, 700.0),),
    heartbeats=(("loop", 100.0), ("feed", 99.5)),
    reloads=(Reload(90.0, "rs-a", None, "invalid", ("signals.yaml:3:1: RB201 bad",), 0.125),),
    status=BotStatus("rs-a", 50.0, 4242, 100.0, {"BTCUSDT": 50_000.5}),
)


def test_a_cycle_is_written_whole_and_read_back(tmp_path):
    with StateStore(tmp_path / "bot.db") as store:
        store.record_bot(CYCLE)
        assert store.task_runs() == list(CYCLE.task_runs)
        assert store.task_runs(task="fee_audit") == [CYCLE.task_runs[1]]
        assert store.schedule() == list(CYCLE.schedule)
        assert store.state_changes() == list(CYCLE.state_changes) and store.state_changes(since=101.0) == []
        assert store.active_overrides(now=600.0) == list(CYCLE.overrides_set)
        assert store.active_overrides(now=700.0) == []  # expired
        assert store.heartbeats() == {"feed": 99.5, "loop": 100.0}
        assert store.reloads() == list(CYCLE.reloads)
        assert store.bot_status() == CYCLE.status
        # the next cycle: runs appended, schedule and beats replaced, the override lifted
        store.record_bot(
            BotRecords(
                task_runs=(_run("watchdog", 400.0, "failed"),),
                schedule=(ScheduleEntry("job-watchdog", 700.0, 400.0),),
                overrides_lifted=(LiftedOverride("ov-1", 400.0, "resumed"),),
                heartbeats=(("loop", 400.0),),
                status=replace(CYCLE.status, last_cycle_ts=400.0),
                state_changes=(StateChange(400.0, "ACTIVE", "cleared: drill", "operator"),),
            )
        )
        assert store.state_changes(limit=1) == [StateChange(400.0, "ACTIVE", "cleared: drill", "operator")]
        assert [c.state for c in store.state_changes()] == ["HALTED", "ACTIVE"]
        assert [r.started_ts for r in store.task_runs()] == [100.5, 100.5, 400.5]
        assert store.task_runs(limit=1) == [_run("watchdog", 400.0, "failed")]
        assert store.last_runs() == {"watchdog": _run("watchdog", 400.0, "failed"), "fee_audit": CYCLE.task_runs[1]}
        assert store.schedule()[0] == ScheduleEntry("job-watchdog", 700.0, 400.0)
        assert store.active_overrides(now=401.0) == [] and store.heartbeats()["loop"] == 400.0
        assert store.bot_status().last_cycle_ts == 400.0  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "bad, named",
    [
        (BotRecords(task_runs=(replace(_run("x", 1.0), status="maybe"),)), "task_runs"),  # type: ignore[arg-type]
        (BotRecords(state_changes=(StateChange(1.0, "PAUSED", "r", "operator"),)), "state_changes"),  # type: ignore[arg-type]
        (BotRecords(overrides_set=(Override("o", "HALTED", "", 1.0, None),)), "overrides"),
        (BotRecords(overrides_lifted=(LiftedOverride("nope", 1.0, "r"),)), "no such override"),
        (BotRecords(heartbeats=(("loop", float("nan")),)), "finite"),
    ],
)
def test_bad_records_are_refused_whole_naming_the_table(tmp_path, bad, named):
    with StateStore(tmp_path / "bot.db") as store:
        with pytest.raises(StateError, match=named):
            store.record_bot(replace(bad, task_runs=(*bad.task_runs, _run("kept_out", 5.0))))
        assert store.task_runs() == []  # the good run of the same cycle was not written either


def test_an_override_is_lifted_once(tmp_path):
    with StateStore(tmp_path / "bot.db") as store:
        store.record_bot(BotRecords(overrides_set=CYCLE.overrides_set))
        store.record_bot(BotRecords(overrides_lifted=(LiftedOverride("ov-1", 200.0, "resumed"),)))
        with pytest.raises(StateError, match="already lifted at 200"):
            store.record_bot(BotRecords(overrides_lifted=(LiftedOverride("ov-1", 300.0, "again"),)))
        with sqlite3.connect(tmp_path / "bot.db") as db:
            assert db.execute("SELECT lifted_ts, lifted_reason FROM overrides").fetchall() == [(200.0, "resumed")]


def test_an_expired_override_holds_nothing_but_stays_unlifted_until_lifted(tmp_path):
    """ov-1 runs until 700: past it, it is no longer active, but only a lift (the nightly
    expire_manual_overrides) ends it in the records."""
    with StateStore(tmp_path / "bot.db") as store:
        store.record_bot(BotRecords(overrides_set=CYCLE.overrides_set))
        assert [o.id for o in store.active_overrides(699.0)] == ["ov-1"]
        assert store.active_overrides(700.0) == []
        assert [o.id for o in store.unlifted_overrides()] == ["ov-1"]
        store.record_bot(BotRecords(overrides_lifted=(LiftedOverride("ov-1", 800.0, "expired"),)))
        assert store.unlifted_overrides() == []


def _lines(folder, log):
    path = folder / f"{BOT_LOGS[log]}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_history_records_reach_their_logs_once_also_with_a_runner_step(tmp_path):
    logs = tmp_path / "logs"
    with StateStore(tmp_path / "bot.db") as store, LogFiles(logs, {"trades": "trades", **BOT_LOGS}) as files:
        store.attach_logs(files)
        store.record_bot(CYCLE)
        assert [r["task"] for r in _lines(logs, "tasks")] == ["watchdog", "fee_audit"]
        assert _lines(logs, "state_changes") == [
            {"ts": 100.0, "state": "HALTED", "reason": "drill", "source": "operator"}
        ]
        assert _lines(logs, "reloads")[0]["errors"] == ["signals.yaml:3:1: RB201 bad"]
        step = Transition(
            cursors=(("snapshot_ts", 200.0),),
            records=(("trades", {"id": "t"}),),
            bot=BotRecords(task_runs=(_run("bot_cycle", 200.0),)),
        )
        store.apply(step)
        store.apply(step)  # the same step again (a restart): its bot records are not taken twice
        assert [r["task"] for r in _lines(logs, "tasks")] == ["watchdog", "fee_audit", "bot_cycle"]
        assert [r.task for r in store.task_runs()] == ["watchdog", "fee_audit", "bot_cycle"]
        assert store.cursor("snapshot_ts") == 200.0


def test_bot_records_need_their_logs_when_logs_are_attached(tmp_path):
    with StateStore(tmp_path / "bot.db") as store, LogFiles(tmp_path / "logs", {"trades": "trades"}) as files:
        store.attach_logs(files)
        with pytest.raises(StateError, match="BOT_LOGS"):
            store.record_bot(BotRecords(task_runs=(_run("watchdog", 1.0),)))
        assert store.task_runs() == []


def test_every_bot_record_field_has_a_column(tmp_path):
    """A new field on TaskRun, Override or a record of engine/bot/records.py needs a migration."""
    from adapters.store.state import OVERRIDES, RELOADS, SCHEDULE, STATE_CHANGES, STATUS, TASK_RUNS

    with StateStore(tmp_path / "bot.db"), sqlite3.connect(tmp_path / "bot.db") as db:
        for table in (TASK_RUNS, SCHEDULE, STATE_CHANGES, OVERRIDES, RELOADS, STATUS):
            columns = {row[1] for row in db.execute(f"PRAGMA table_info({table.name})")}
            assert set(table.columns) <= columns, table.name


def test_migration_6_keeps_the_reloads_and_takes_refused_and_failed_ones(tmp_path):
    """A v5 state's reloads survive the rebuild (reason ''); refused and failed attempts, which
    v5 refused with a CHECK (and so stopped the bot), are recorded with what asked for them."""
    from adapters.store.state import MIGRATIONS

    db = tmp_path / "bot.db"
    with StateStore(db, migrations=MIGRATIONS[:5]) as store:
        assert store.schema_version() == 5
    insert = "INSERT INTO reloads (ts, old_version, new_version, outcome, errors, duration_s) VALUES (?, ?, ?, ?, ?, ?)"
    with sqlite3.connect(db) as conn:  # as the v5 code wrote them
        conn.execute(insert, (90.0, "rs-a", None, "invalid", '["signals.yaml:3:1: RB201 bad"]', 0.125))
        with pytest.raises(sqlite3.IntegrityError, match="CHECK constraint"):
            conn.execute(insert, (91.0, "rs-a", "rs-b", "refused", "[]", 0.0))
    conn.close()
    later = (
        Reload(92.0, "rs-a", "rs-c", "refused", ("the profile changed (paper → live): restart",), 0.1, "SIGHUP"),
        Reload(93.0, "rs-a", None, "failed", ("MemoryError",), 0.2, "edited: rules/risk.yaml"),
    )
    with StateStore(db, migrations=MIGRATIONS[:6]) as store:
        assert store.schema_version() == 6
        store.record_bot(BotRecords(reloads=later))
        assert store.reloads() == [*CYCLE.reloads, *later]
