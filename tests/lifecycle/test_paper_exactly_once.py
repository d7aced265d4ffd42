"""Exactly-once records (issues 14 and 16): a paper run SIGKILLed at seeded random instants
and resumed every time ends with the state, the hook runs and every log of an uninterrupted
run, byte for byte — no record lost, none written twice, a resumed value never of another
type (``leverage`` 2, not 2.0). Driven through both command lines: `rulebot paper FILE` and
the command it is an alias of, `rulebot run --paper --feed replay:FILE --state DIR` (whose
bot's own tables — task runs, the schedule, trading-state changes, overrides, heartbeats —
are compared too). The bot commits its steps in groups (here of GROUP_STEPS, see
tests.lifecycle.processes.small_groups): a kill inside a group loses the group, and the
resumption makes it again to the same records.

The kills are driven deterministically, never by sleeps (tests/lifecycle/paper_crash_child.py
``--chain``): as a chosen SQL statement starts (in the migrations, the start-up, the middle
of a group's transaction), just after a chosen COMMIT (before the group's records reach the
logs), or inside a chosen log line (after a chosen number of its bytes). After each kill
every log is checked to be a byte prefix of the uninterrupted run's (tasks.jsonl with its
wall-clock durations zeroed)."""

from __future__ import annotations

import random
import subprocess
import sys

import pytest

from engine.cli.compose import RunLogs
from tests.lifecycle.market import write
from tests.lifecycle.processes import HUNG, ROOT, child_env, comparable, paper_args, run_args, run_cli
from tests.lifecycle.test_paper_crash import SIGNAL_TABLES, _read_only

MINUTES = 400
KILLS = {"paper": 55, "run": 30}  # run: fewer, the suite's time is bounded; the same guarantees
TABLES = ("trades", "positions", "orders", "fills", "funding_payments", "hook_runs", "cursors", *SIGNAL_TABLES)
BOT_TABLES = ("task_schedule", "state_changes", "overrides", "heartbeats")  # and task_runs (see _state)
LOGS = (
    "predictive_signals",
    "signal_universe",
    "exit_decisions",
    "executed_trades",
    "post_trade",
    "tasks",
    "signal_outcomes",
)

pytestmark = [pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL, fork"), pytest.mark.slow]


def _state(db, bot: bool = False) -> dict:
    """The tables a run leaves, row for row (hook runs with their time and attempts); with
    ``bot``, the bot's tables too (task runs without their wall-clock duration)."""
    with _read_only(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        tables = {table: conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall() for table in TABLES}
        if bot:
            for table in BOT_TABLES:
                tables[table] = conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
            tables["task_runs"] = conn.execute(
                "SELECT seq, job_id, task, scheduled_ts, started_ts, status, summary, missed, error "
                "FROM task_runs ORDER BY seq"
            ).fetchall()
        return tables


def _delivered_outbox(db, logs) -> None:
    """The outbox (the last committed group's log lines, kept to deliver again after a crash)
    holds only lines already at the end of their logs. Which lines those are depends on where
    the last group began, so the table is checked against the logs, not against another run's."""
    with _read_only(db) as conn:
        rows = conn.execute("SELECT log, line FROM outbox ORDER BY seq").fetchall()
    by_log: dict[str, list[str]] = {}
    for log, line in rows:
        by_log.setdefault(RunLogs.NAMES[log], []).append(line)
    assert by_log, "a finished run keeps its last group's lines"
    for name, lines in by_log.items():
        written = (logs / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
        assert written[-len(lines) :] == lines, f"{name}.jsonl does not end with the outbox's lines"


def _logs(folder) -> dict[str, bytes]:
    return {name: comparable(f"{name}.jsonl", (folder / f"{name}.jsonl").read_bytes()) for name in LOGS}


def _points(rng: random.Random, kills: int) -> list[str]:
    """Where each run of the chain dies, counted from its start (a resumed run makes about 20
    SQL statements and 3 COMMITs to start, then about 22 statements and 7 log lines a step,
    and one COMMIT a group of GROUP_STEPS steps): a group or two on each time, so that the
    kills spread over most of the run and every run dies before it ends."""
    points = []
    for _ in range(kills):
        kind = rng.choice(("sql", "commit", "write"))
        if kind == "sql":
            points.append(f"sql:{rng.randint(1, 260)}")
        elif kind == "commit":  # the next thing after it: the group's first log line, or the next step
            points.append(f"commit:{rng.randint(1, 5)}")
        else:
            points.append(f"write:{rng.randint(1, 60)}:{rng.choice((0, 1, rng.randint(2, 400)))}")
    return points


def _paper(command: list[str]) -> None:
    done = run_cli(command)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("command_line", ["paper", "run"])
def test_killed_and_resumed_paper_run_writes_every_record_exactly_once(command_line, tmp_path):
    snapshots = write(tmp_path / "market.jsonl", MINUTES)
    if command_line == "paper":
        args, where = paper_args, lambda path: path.with_suffix(".db")
    else:  # `rulebot run --paper --feed replay:FILE --state DIR`: the database is DIR/bot.db
        args, where = run_args, lambda path: path / "bot.db"
    bot = command_line == "run"
    reference, reference_logs = tmp_path / "reference", tmp_path / "reference-logs"
    _paper(args(snapshots, where(reference) if command_line == "paper" else reference, reference_logs))
    expected, expected_logs = _state(where(reference), bot), _logs(reference_logs)
    assert len(expected["trades"]) >= 20 and len(expected["hook_runs"]) == 6 * len(
        expected["trades"]
    )  # six post-trade hooks
    assert all(expected_logs.values())
    assert expected["signal_outcomes"] and len(expected["signal_sets"]) == 1  # one rule version
    _delivered_outbox(where(reference), reference_logs)
    if bot:
        assert expected["task_runs"] and expected["task_schedule"] and expected["heartbeats"]

    crashed, logs = tmp_path / "crashed", tmp_path / "logs"
    command = args(snapshots, where(crashed) if command_line == "paper" else crashed, logs)
    points = _points(random.Random(20261204), KILLS[command_line])
    chain = subprocess.run(
        [sys.executable, "-m", "tests.lifecycle.paper_crash_child", "--chain", str(reference_logs), ",".join(points)]
        + command,
        cwd=ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=HUNG * 4,
    )
    assert chain.returncode == 0, chain.stdout + chain.stderr[-3000:]
    assert chain.stdout.splitlines() == [f"killed {point} " for point in points]
    killed_mid_run = _state(where(crashed), bot)
    assert 0 < len(killed_mid_run["trades"]) < len(expected["trades"]), "the kills should land mid-run"

    _paper(command)
    assert _state(where(crashed), bot) == expected
    _delivered_outbox(where(crashed), logs)
    for name, content in _logs(logs).items():
        assert content == expected_logs[name], f"{name}.jsonl differs from the uninterrupted run's"
