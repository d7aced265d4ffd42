"""`rulebot status` (engine/cli/status.py): everything it shows, read from bot.db read-only —
while a writer runs (the writer never sees SQLITE_BUSY from it) and after it ended (nothing
created or changed) — and a clear error for a missing state."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from adapters.store.state import StateStore
from engine.bot.records import BotRecords, BotStatus, Reload, ScheduleEntry, StateChange
from engine.bot.tasks.base import Override, TaskRun
from engine.cli.app import main
from engine.cli.status import NoState, gather, render
from engine.ports import Transition
from tests.bot.test_control import _holder, _stop
from tests.lifecycle.helpers import position

NOW = 1_800_000_000.0
KEYS = {
    "state", "now", "bot", "version", "last_reload", "trading", "overrides", "positions",
    "heartbeats", "market_data", "schedule", "tasks",
}  # fmt: skip


@pytest.fixture
def state(tmp_path) -> Path:
    folder = tmp_path / "state"
    long = position(entry=100.0, opened_at=NOW - 3600)
    short = position(id="pos-2", symbol="ETHUSDT", direction="SHORT", entry=50.0, quantity=2.0, opened_at=NOW - 60)
    run = TaskRun("job-fee", "fee_audit", NOW - 600, NOW - 599, 0.5, "failed", "fee audit failed", error="KeyError: x")
    with StateStore(folder / "bot.db") as store:
        store.apply(Transition(positions=(long, short)))
        store.record_bot(
            BotRecords(
                task_runs=(run,),
                schedule=(ScheduleEntry("job-fee", NOW + 300, NOW - 600),),
                state_changes=(
                    StateChange(NOW - 900, "REDUCING", "BTCUSDT: 3 refusals in 5m", "market_data"),
                    StateChange(NOW - 120, "HALTED", "drill", "operator"),
                ),
                overrides_set=(Override("ov1", "HALTED", "drill", NOW - 120, NOW + 480),),
                heartbeats=(("loop", NOW - 30), ("feed", NOW - 35)),
                reloads=(Reload(NOW - 200, "rs-a", None, "invalid", ("signals.yaml:4:3: RB201 no",), 0.02),),
                status=BotStatus("rs-a", NOW - 7200, 4242, NOW - 30, {"BTCUSDT": 102.0}),
            )
        )
    return folder


def test_status_gathers_every_part(state):
    report = gather(state, NOW)
    assert set(report) == KEYS
    assert report["bot"] == {"running": False, "pid": None, "command": None, "since": None}
    assert report["version"] == {
        "live": "rs-a",
        "since": NOW - 7200,
        "pid": 4242,
        "last_cycle_ts": NOW - 30,
        "last_cycle_age_s": 30.0,
    }
    assert report["last_reload"]["outcome"] == "invalid" and report["last_reload"]["errors"] == [
        "signals.yaml:4:3: RB201 no"
    ]
    assert report["trading"] == {
        "state": "HALTED",
        "reason": "drill",
        "source": "operator",
        "since": NOW - 120,
        "pending": None,
    }
    assert [(o["id"], o["left_s"]) for o in report["overrides"]] == [("ov1", 480.0)]
    btc, eth = report["positions"]
    assert (btc["price"], btc["unrealized_pnl_usd"], btc["unrealized_pnl_pct"]) == (102.0, 2.0, pytest.approx(2.0))
    assert eth["price"] is None and eth["unrealized_pnl_usd"] is None  # no last price for it
    assert report["heartbeats"] == [
        {"name": "feed", "ts": NOW - 35, "age_s": 5.0},  # on the bot's clock: its last cycle
        {"name": "loop", "ts": NOW - 30, "age_s": 0.0},
    ]
    assert report["market_data"] == {"state": "REDUCING", "reason": "BTCUSDT: 3 refusals in 5m", "ts": NOW - 900}
    assert report["schedule"] == [{"job_id": "job-fee", "next_ts": NOW + 300, "in_s": 330.0, "last_ts": NOW - 600}]
    assert report["tasks"][0]["status"] == "failed" and report["tasks"][0]["error"] == "KeyError: x"


def test_status_says_when_an_override_ended_since_the_state_was_recorded(state):
    report = gather(state, NOW + 600)  # the halt held until NOW + 480
    assert report["overrides"] == [] and report["trading"]["state"] == "HALTED"
    assert report["trading"]["pending"] == {"state": "ACTIVE", "reason": "", "source": ""}
    assert "  pending ACTIVE: an override ended; recorded at the bot's next cycle" in render(report)


def test_status_text_and_json(state):
    text = CliRunner().invoke(main, ["status", "--state", str(state)])
    assert text.exit_code == 0, text.output
    for line in (
        "bot       not running",
        "version   rs-a live since",
        "reload    ",
        "signals.yaml:4:3: RB201 no",
        "trading   HALTED: drill (operator) since",
        "override HALTED by operator: drill",
        "data      REDUCING at",
        "BTCUSDT LONG 1 @ 100 at 102, P&L +2.00 USD (+2.00 %)",
        "ETHUSDT SHORT 2 @ 50 P&L unknown (no price yet)",
        "heartbeats (at the last cycle) feed 5s ago, loop 0s ago",
        "job job-fee: next",
        "task fee_audit: failed at",
    ):
        assert line in text.output, line
    as_json = CliRunner().invoke(main, ["status", "--state", str(state), "--format", "json"])
    assert as_json.exit_code == 0 and set(json.loads(as_json.output)) == KEYS


def test_status_on_a_missing_state_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(main, ["status", "--state", str(tmp_path / "nope")])
    assert isinstance(result.exception, NoState) and result.exception.code == "RB800"
    assert "no bot state at" in str(result.exception) and not (tmp_path / "nope").exists()


def _files(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def test_status_creates_and_changes_nothing_on_a_stopped_state(state):
    before = _files(state)
    assert "bot.db-wal" not in before  # the store closed cleanly
    gather(state, NOW)
    assert CliRunner().invoke(main, ["status", "--state", str(state)]).exit_code == 0
    assert _files(state) == before


def test_status_beside_a_running_writer_never_makes_it_wait(state):
    child = _holder(state, "write")
    try:
        for _ in range(40):
            report = gather(state, NOW)
        assert report["bot"]["running"] is True and report["bot"]["pid"] == child.pid
        assert "holder_child write" in report["bot"]["command"]
    finally:
        counts = _stop(child, state)
    assert counts["writes"] > 0 and counts["busy"] == 0
    with StateStore(state / "bot.db") as store:
        assert store.task_runs(limit=1)[0].summary.startswith("write ")
