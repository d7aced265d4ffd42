"""Ctrl-C at any instant of `rulebot paper` (an alias of `rulebot run --paper` on a replay at
--speed max, engine/cli/run.py) ends with exit 130, whole files and a released lock, and the
same command then resumes to exactly an uninterrupted run.

Each case runs a real child that pauses at one instant (tests/dryrun/paused_child.py) and
is sent SIGINT there, so the instant is hit whatever the machine's speed: while the rules
are read, before the lock, the database's opening and the rule version's recording; before
the first snapshot is taken from the feed; before a step, its transaction, the delivery of
a group's log lines (the group committed, its lines not yet in the logs) and single log lines
(between two lines of one group); before the last snapshot and the last step; before the
summary and after it. The child commits its steps in groups of GROUP_STEPS, so the step a
delivery follows is known. Then the interrupted state is checked (PRAGMA integrity_check,
every log line whole JSON, the lock file emptied) and the run is started again with the same
arguments: its database and logs must equal those of an uninterrupted run. Two hours of
synthetic one-minute snapshots (a few trades) keep each child short; the cases run two or
more at a time.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sys
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from adapters.store.lock import lock_path
from engine.cli.exit_codes import EXIT_INTERRUPTED
from engine.trading.runner import CURSOR
from tests.dryrun.paused_child import HUNG, start_paused
from tests.lifecycle.market import T0, write
from tests.lifecycle.processes import GROUP_STEPS, ROOT, comparable, paper_args, run_cli
from tests.lifecycle.test_paper_crash import _read_only, _tables

MINUTES = 120  # snapshots; the bundled rules step on every one and close a few trades

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child and flock"),
]

# Ctrl-C during start-up of a new state: exit 130, no database left behind
START = ["run.load_plan 1", "lock 1", "open_state 1", "rule_version 1"]
# Ctrl-C during the run: (point, steps committed when it stops; None: read from the summary)
DURING = {
    "feed 1": 0,  # before the first snapshot is taken: no step made
    "step 1": 1,  # a step under way is finished whole
    "apply 2": 2,  # before the second step's writes
    "log 1": GROUP_STEPS,  # the first group committed, none of its log lines written
    "log 2": GROUP_STEPS,  # between two log lines of one group
    "deliver 1": GROUP_STEPS,  # the first group committed (with its hook runs), its log lines to come
    "deliver 18": 18 * GROUP_STEPS,  # the same mid-run
    "log 301": None,  # mid-run, between two log lines
    "step 60": 60,
    f"feed {MINUTES}": MINUTES - 1,  # before the last snapshot is taken
    f"step {MINUTES}": MINUTES,  # the last step: all were made, the run still says it was stopped
}
# Ctrl-C after the last step: the run is whole, the exit is still 130 (echo 1 is the "live" line)
AFTER = ["echo 2", "release 1"]


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    db: Path
    logs: Path


def _interrupted(point: str, args: list[str], db: Path, logs: Path) -> Run:
    process, before = start_paused(point, args, cwd=ROOT)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=HUNG)
    return Run(process.returncode, stdout.decode(), before + stderr.decode(), db, logs)


def _case(point: str, snapshots: Path, folder: Path) -> tuple[Run, dict, Run]:
    """Interrupt a run on a new state at ``point``, look at what it left, resume it."""
    db, logs = folder / "state" / "paper.db", folder / "logs"
    args = paper_args(snapshots, db, logs)
    stopped = _interrupted(point, args, db, logs)
    left = _state(db, logs) if db.exists() else {"tables": None, "logs": _logs(logs)}
    resumed = run_cli(args)
    return stopped, left, Run(resumed.returncode, resumed.stdout, resumed.stderr, db, logs)


def _resumed_start_case(point: str, snapshots: Path, folder: Path) -> tuple[dict, Run, dict, Run]:
    """Stop a run mid-way, then stop its resumption at ``point`` of its start-up, resume."""
    db, logs = folder / "state" / "paper.db", folder / "logs"
    args = paper_args(snapshots, db, logs)
    first = _interrupted("step 40", args, db, logs)
    assert first.code == EXIT_INTERRUPTED, first.stderr
    before = _state(db, logs)
    stopped = _interrupted(point, args, db, logs)
    after = _state(db, logs)
    resumed = run_cli(args)
    return before, stopped, after, Run(resumed.returncode, resumed.stdout, resumed.stderr, db, logs)


def _state(db: Path, logs: Path) -> dict:
    """The database's tables (integrity checked) and hook runs, and each log's records."""
    tables = _tables(db)
    with _read_only(db) as conn:
        tables["hook_runs"] = conn.execute(
            "SELECT trade_id, hook, status, error, attempts FROM hook_runs ORDER BY trade_id, hook"
        ).fetchall()
    return {"tables": tables, "logs": _logs(logs)}


def _logs(folder: Path) -> dict[str, str]:
    """Each log's text, compared byte for byte; fails on a line that is not a whole JSON object."""
    texts = {}
    for path in sorted(folder.glob("*.jsonl")):
        text = path.read_text(encoding="utf-8")
        assert text == "" or text.endswith("\n"), f"{path.name}: a torn last line"
        for line in text.splitlines():
            json.loads(line)
        texts[path.name] = comparable(path.name, text.encode()).decode()
    return texts


@pytest.fixture(scope="module")
def market(tmp_path_factory) -> Path:
    return write(tmp_path_factory.mktemp("market") / "market.jsonl", MINUTES)


@pytest.fixture(scope="module")
def reference(market, tmp_path_factory) -> tuple[dict, str]:
    """The state, logs and summary line of an uninterrupted run."""
    folder = tmp_path_factory.mktemp("reference")
    done = run_cli(paper_args(market, folder / "paper.db", folder / "logs"))
    assert done.returncode == 0, done.stderr
    state = _state(folder / "paper.db", folder / "logs")
    assert len(state["tables"]["trades"]) >= 4 and state["tables"]["hook_runs"]
    assert sum(text.count("\n") for text in state["logs"].values()) > 301
    return state, done.stdout


@pytest.fixture(scope="module")
def runs(market, tmp_path_factory) -> Iterator[dict[str, Future]]:
    """Every case, started at once on a few workers; a test waits for its own."""
    with ThreadPoolExecutor(max(2, os.cpu_count() or 2)) as pool:
        cases = {
            point: pool.submit(_case, point, market, tmp_path_factory.mktemp(point.replace(" ", "-")))
            for point in [*START, *DURING, *AFTER]
        }
        for point in ("open_state 1", "rule_version 1"):
            folder = tmp_path_factory.mktemp("resumed-" + point.replace(" ", "-"))
            cases["resumed " + point] = pool.submit(_resumed_start_case, point, market, folder)
        yield cases


def _assert_resumed_equals(resumed: Run, reference: tuple[dict, str]) -> None:
    expected, summary = reference
    assert resumed.code == 0, resumed.stderr
    assert _outcome(resumed.stdout) == _outcome(summary)
    assert _state(resumed.db, resumed.logs) == expected
    assert lock_path(resumed.db).read_text() == ""


def _where(summary: str) -> str:
    """The summary's "; state …" part, which names the run's own files."""
    return summary[summary.index("; state ") :]


def _outcome(summary: str) -> str:
    """The summary without what differs between a run and its resumption: how many steps,
    task runs and reloads this process made, and the files it names."""
    head = summary[: summary.index("; state ")]
    return re.sub(r"; \d+ new step\(s\), \d+ reload\(s\), \d+ task run\(s\)( \(\d+ failed\))?;", ";", head)


def _assert_clean_stop(stopped: Run) -> None:
    assert stopped.code == EXIT_INTERRUPTED, stopped.stderr
    assert "Traceback" not in stopped.stderr and "Aborted" not in stopped.stderr, stopped.stderr
    lock = lock_path(stopped.db)
    assert not lock.exists() or lock.read_text() == "", "the state lock was not released"


@pytest.mark.parametrize("point", START)
def test_ctrl_c_during_start_up_leaves_no_database(point, runs, reference):
    stopped, left, resumed = runs[point].result()
    _assert_clean_stop(stopped)
    assert stopped.stdout == "" and "stopped by Ctrl-C" in stopped.stderr, stopped.stderr
    assert left["tables"] is None, "Ctrl-C during start-up left a database behind"
    assert not stopped.db.parent.exists() or not list(stopped.db.parent.glob("paper.db-*"))
    assert not any(left["logs"].values()), "a log record was written"
    _assert_resumed_equals(resumed, reference)


@pytest.mark.parametrize("point", ["open_state 1", "rule_version 1"])
def test_ctrl_c_during_a_resumed_start_up_leaves_the_database_as_it_was(point, runs, reference):
    before, stopped, after, resumed = runs["resumed " + point].result()
    _assert_clean_stop(stopped)
    assert f"{stopped.db} holds no new step" in stopped.stderr, stopped.stderr
    assert after == before
    _assert_resumed_equals(resumed, reference)


@pytest.mark.parametrize("point", DURING)
def test_ctrl_c_during_the_run_stops_between_steps_and_resumes_exactly(point, runs, reference):
    stopped, left, resumed = runs[point].result()
    expected, _ = reference
    _assert_clean_stop(stopped)
    assert left["tables"] is not None
    said = _steps_said(stopped.stdout)
    steps = DURING[point] if DURING[point] is not None else said
    assert said == steps, stopped.stdout
    trades = left["tables"]["trades"]
    assert stopped.stdout.startswith(f"paper: {len(trades)} trade(s), "), stopped.stdout
    cursor = dict(left["tables"]["cursors"]).get(CURSOR)
    assert cursor == (T0 + 60 * (steps - 1) if steps else None), (cursor, steps)
    # what was written is what an uninterrupted run wrote up to there, each step whole
    assert set(trades) <= set(expected["tables"]["trades"])  # (the table is in id order, not time order)
    assert {run[0] for run in left["tables"]["hook_runs"]} == {trade[0] for trade in trades}
    for name, text in left["logs"].items():
        assert text == expected["logs"][name][: len(text)], name
    assert left["logs"]["executed_trades.jsonl"].count("\n") == len(trades), "a committed trade without its log line"
    _assert_resumed_equals(resumed, reference)


@pytest.mark.parametrize("point", AFTER)
def test_ctrl_c_after_the_last_step_still_ends_whole(point, runs, reference):
    stopped, left, resumed = runs[point].result()
    expected, summary = reference
    _assert_clean_stop(stopped)
    assert stopped.stdout == summary.replace(_where(summary), _where(stopped.stdout))
    assert left == expected
    _assert_resumed_equals(resumed, reference)


def _steps_said(stdout: str) -> int:
    """N of the summary's "N new step(s)", checking it says it was stopped by Ctrl-C."""
    assert stdout.startswith("paper: ") and stdout.count("\n") == 1, stdout
    assert "; stopped by Ctrl-C: the same command resumes the run; " in stdout, stdout
    found = re.search(r"; (\d+) new step\(s\), ", stdout)
    assert found is not None, stdout
    return int(found.group(1))
