"""Exactly-once records (issue 14): a paper run SIGKILLed at 55 seeded random instants and
resumed every time ends with the state, the hook runs and every log of an uninterrupted
run, byte for byte — no record lost, none written twice, a resumed value never of another
type (``leverage`` 2, not 2.0).

The kills are driven deterministically, never by sleeps (tests/lifecycle/paper_crash_child.py
``--chain``): as a chosen SQL statement starts (in the migrations, the start-up, the middle
of a step's transaction), just after a chosen COMMIT (before the step's records reach the
logs), or inside a chosen log line (after a chosen number of its bytes). After each kill
every log is checked to be a byte prefix of the uninterrupted run's."""

from __future__ import annotations

import random
import subprocess
import sys

import pytest

from tests.lifecycle.market import write
from tests.lifecycle.processes import HUNG, ROOT, child_env, paper_args, run_cli
from tests.lifecycle.test_paper_crash import _read_only

MINUTES = 400
KILLS = 55
TABLES = ("trades", "positions", "orders", "fills", "funding_payments", "hook_runs", "cursors", "outbox")
LOGS = ("predictive_signals", "signal_universe", "exit_decisions", "executed_trades", "post_trade")

pytestmark = [pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL, fork"), pytest.mark.slow]


def _state(db) -> dict:
    """The tables a run leaves, row for row (hook runs with their time and attempts)."""
    with _read_only(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return {table: conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall() for table in TABLES}


def _logs(folder) -> dict[str, bytes]:
    return {name: (folder / f"{name}.jsonl").read_bytes() for name in LOGS}


def _points(rng: random.Random) -> list[str]:
    """Where each run of the chain dies, counted from its start (a run makes about 22 SQL
    statements, one COMMIT and 7 log lines a step): about 5 steps on each time, so that
    the kills spread over most of the run and every run dies before it ends."""
    points = []
    for _ in range(KILLS):
        kind = rng.choice(("sql", "commit", "write"))
        if kind == "sql":
            points.append(f"sql:{rng.randint(1, 220)}")
        elif kind == "commit":  # the next thing after it: the step's first log line, or the next step
            points.append(f"commit:{rng.randint(1, 11)}")
        else:
            points.append(f"write:{rng.randint(1, 70)}:{rng.choice((0, 1, rng.randint(2, 400)))}")
    return points


def _paper(command: list[str]) -> None:
    done = run_cli(command)
    assert done.returncode == 0, done.stderr


def test_killed_and_resumed_paper_run_writes_every_record_exactly_once(tmp_path):
    snapshots = write(tmp_path / "market.jsonl", MINUTES)
    reference, reference_logs = tmp_path / "reference.db", tmp_path / "reference-logs"
    _paper(paper_args(snapshots, reference, reference_logs))
    expected, expected_logs = _state(reference), _logs(reference_logs)
    assert len(expected["trades"]) >= 20 and len(expected["hook_runs"]) == 5 * len(expected["trades"])
    assert all(expected_logs.values())

    crashed, logs = tmp_path / "crashed.db", tmp_path / "logs"
    command = paper_args(snapshots, crashed, logs)
    points = _points(random.Random(20261204))
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
    killed_mid_run = _state(crashed)
    assert 0 < len(killed_mid_run["trades"]) < len(expected["trades"]), "the kills should land mid-run"

    _paper(command)
    assert _state(crashed) == expected
    for name, content in _logs(logs).items():
        assert content == expected_logs[name], f"{name}.jsonl differs from the uninterrupted run's"
