"""Operator commands (engine/bot/control.py, `rulebot halt|reduce|resume`): recorded directly in
bot.db when no bot runs, handed to a running bot as a file and acknowledged by it otherwise
(a real child process holds the lock: tests/bot/holder_child.py); bad input is a clear error."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from adapters.store.state import StateStore
from engine.bot.control import (
    COMMAND_MALFORMED,
    COMMAND_UNACKNOWLEDGED,
    Command,
    CommandError,
    apply_command,
    commands_dir,
    done_path,
    submit,
    take_commands,
)
from engine.bot.records import BotRecords, StateChange
from engine.bot.tasks.base import Override
from engine.cli.app import main
from tests.lifecycle.processes import HUNG, ROOT, child_env

T = 1_800_000_000.0


def _cli(*args: str):
    """``rulebot ARGS``; the logs beside the state folder (never the working directory's)."""
    extra = (
        []
        if "--logs" in args or "--state" not in args
        else ["--logs", str(Path(args[args.index("--state") + 1]).parent / "logs")]
    )
    return CliRunner().invoke(main, [*args, *extra])


@pytest.fixture
def state(tmp_path) -> Path:
    folder = tmp_path / "state"
    folder.mkdir()
    return folder


def _db(state: Path) -> StateStore:
    return StateStore(state / "bot.db")


# ------------------------------------------------------------------ no bot running


def test_halt_reduce_resume_without_a_bot_are_recorded_for_the_next_start(state):
    result = _cli("halt", "--reason", "exchange maintenance", "--for", "2h", "--state", str(state))
    assert result.exit_code == 0, result.output
    assert (
        "HALTED by the operator: exchange maintenance" in result.output and "next start begins HALTED" in result.output
    )
    result = _cli("reduce", "--reason", "news", "--state", str(state))
    assert result.exit_code == 0, result.output
    with _db(state) as store:
        halt, reduce = store.active_overrides(now=store.state_changes()[0].ts + 1)
        assert (halt.state, halt.reason, reduce.state, reduce.until) == (
            "HALTED",
            "exchange maintenance",
            "REDUCING",
            None,
        )
        assert halt.until == pytest.approx(halt.set_ts + 7200)
        # the halt (set first) still rules: reduce records no change
        assert [(c.state, c.reason, c.source) for c in store.state_changes()] == [
            ("HALTED", "exchange maintenance", "operator")
        ]
    result = _cli("resume", "--reason", "maintenance over", "--state", str(state))
    assert result.exit_code == 0 and "lifted 2 override(s): HALTED by operator" in result.output
    with _db(state) as store:
        assert store.active_overrides(now=T * 2) == []
        last = store.state_changes()[-1]
        assert (last.state, last.reason, last.source) == ("ACTIVE", "resumed: maintenance over", "operator")
    assert not (state / "bot.db.lock").read_text()  # the lock was released
    logged = [json.loads(line) for line in (state.parent / "logs" / "state_changes.jsonl").read_text().splitlines()]
    assert [(c["state"], c["source"]) for c in logged] == [("HALTED", "operator"), ("ACTIVE", "operator")]


def test_resume_lifts_operator_overrides_only_and_says_what_still_holds(state):
    with _db(state) as store:
        store.record_bot(
            BotRecords(state_changes=(StateChange(T, "HALTED", "drawdown 12.00 % > 10 %", "kill_switch"),))
        )
    assert _cli("reduce", "--reason", "careful", "--state", str(state)).exit_code == 0
    result = _cli("resume", "--reason", "go", "--state", str(state))
    assert result.exit_code == 0
    assert (
        "trading stays HALTED: drawdown 12.00 % > 10 % (kill_switch) — resume lifts the operator's overrides and recovery_cycle's halt only"
        in (result.output)
    )
    with _db(state) as store:
        assert store.state_changes()[-1].source == "kill_switch"


def test_resume_lifts_a_recovery_halt_but_not_the_watchdogs_state():
    """recovery_cycle halts for a person to decide which book is right: resume is how they say
    so. The watchdog lifts its own REDUCING when it finds the bot healthy."""
    held = (
        Override("rec", "HALTED", "broker holds BTCUSDT long, the bot flat", T, None, source="recovery_cycle"),
        Override("wd", "REDUCING", "watchdog: feed stale", T + 1, None, source="watchdog"),
    )
    command = Command.new("resume", "checked the broker", None, now=T + 5)
    records, outcome = apply_command(command, T + 5, held, ("HALTED", held[0].reason, "recovery_cycle"))
    assert [o.id for o in records.overrides_lifted] == ["rec"]
    assert (outcome["state"], outcome["source"]) == ("REDUCING", "watchdog")
    assert "lifted 1 override(s): HALTED by recovery_cycle" in outcome["message"]


@pytest.mark.parametrize(
    "args, code, says",
    [
        (["halt", "--reason", "x", "--state", "{missing}"], 1, "no state folder"),
        (["halt", "--reason", "   ", "--state", "{state}"], 1, "--reason must say why"),
        (["halt", "--state", "{state}"], 2, "Missing option '--reason'"),
        (["reduce", "--reason", "x", "--for", "soon", "--state", "{state}"], 2, "is not a duration"),
        (["halt", "--reason", "x", "--wait", "0", "--state", "{state}"], 2, "--wait"),
    ],
)
def test_bad_input_is_a_clear_error_and_records_nothing(state, args, code, says):
    filled = [a.format(state=state, missing=state / "nope") for a in args]
    proc = subprocess.run(
        [sys.executable, "-m", "engine.cli", *filled],
        cwd=ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=HUNG,
    )
    assert proc.returncode == code, proc.stderr
    assert says in proc.stderr and "Traceback" not in proc.stderr
    assert not (state / "bot.db").exists()


# ------------------------------------------------------------------ the files the bot reads


def test_a_malformed_command_file_is_rejected_and_the_others_still_taken(state):
    good = Command.new("halt", "drill", None, now=T)
    submit(state, good)
    (commands_dir(state) / "garbage.json").write_text("{not json")
    (commands_dir(state) / "wrong.json").write_text(json.dumps({"id": "abc", "action": "halt"}))
    (commands_dir(state) / ".x.partial").write_text("half")  # a command being written: not read
    assert take_commands(state) == [good]
    for name in ("garbage", "wrong"):
        done = json.loads(done_path(state, name).read_text())
        assert done["outcome"]["ok"] is False and done["outcome"]["code"] == COMMAND_MALFORMED
        assert not (commands_dir(state) / f"{name}.json").exists()
    assert (
        "missing for_s, issued_by, issued_ts, reason"
        in json.loads(done_path(state, "wrong").read_text())["outcome"]["message"]
    )


def test_a_command_applied_again_after_a_crash_changes_nothing():
    command = Command.new("halt", "drill", 60.0, now=T)
    records, outcome = apply_command(command, T, (), ("ACTIVE", "", ""))
    assert len(records.overrides_set) == 1 and records.state_changes[0].state == "HALTED" and outcome["ok"]
    assert "(for 1m, until " in outcome["message"] and outcome["message"].endswith("Z)")  # words, not epochs
    again, outcome = apply_command(command, T + 5, records.overrides_set, ("HALTED", "drill", "operator"), seen=True)
    assert not again and "already applied" in outcome["message"]


def test_a_new_command_refuses_what_the_bot_could_not_apply():
    with pytest.raises(CommandError, match="resume takes no --for"):
        Command.new("resume", "x", 60.0)
    with pytest.raises(CommandError, match="positive duration"):
        Command.new("halt", "x", 0.0)


# ------------------------------------------------------------------ a bot holds the lock


def _holder(state: Path, mode: str) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("holder_child.py")), str(state), mode],
        cwd=ROOT,
        env=child_env(),
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None and child.stdout.readline().strip() == "READY"  # blocks until it holds the lock
    return child


def _stop(child: subprocess.Popen[str], state: Path) -> dict:
    (state / "stop").touch()
    out, _ = child.communicate(timeout=HUNG)
    assert child.returncode == 0
    return json.loads(out.strip().splitlines()[-1])


def test_a_running_bot_is_sent_the_command_and_acknowledges_it(state):
    child = _holder(state, "ack")
    try:
        result = _cli("halt", "--reason", "drill", "--for", "10m", "--wait", str(HUNG), "--state", str(state))
        assert result.exit_code == 0, result.output
        assert "waiting up to" in result.output and f"pid {child.pid}" in result.output
        assert "HALTED by the operator: drill" in result.output
        assert list(commands_dir(state).glob("*.json")) == []  # moved to done/
        (done,) = (commands_dir(state) / "done").glob("*.json")
        assert json.loads(done.read_text())["command"]["action"] == "halt"
        resumed = _cli("resume", "--reason", "drill over", "--wait", str(HUNG), "--state", str(state))
        assert resumed.exit_code == 0 and "lifted 1 override(s): HALTED by operator (drill)" in resumed.output
    finally:
        _stop(child, state)
    with _db(state) as store:  # the bot recorded both
        assert [c.state for c in store.state_changes()] == ["HALTED", "ACTIVE"]


def test_a_bot_that_does_not_acknowledge_leaves_the_command_waiting(state):
    child = _holder(state, "deaf")
    try:
        result = _cli("reduce", "--reason", "r", "--wait", "0.2", "--state", str(state))
    finally:
        _stop(child, state)
    assert isinstance(result.exception, CommandError) and result.exception.code == COMMAND_UNACKNOWLEDGED
    assert "did not acknowledge reduce within 0.2 s" in str(result.exception)
    (waiting,) = commands_dir(state).glob("*.json")
    assert json.loads(waiting.read_text())["reason"] == "r"
    with _db(state) as store:  # nothing was recorded: the bot never took it
        assert store.active_overrides(T) == [] and store.state_changes() == []
