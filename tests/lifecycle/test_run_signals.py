"""`rulebot run --paper` on a replay stops on a signal at the end of the cycle under way, with
the summary saying so: SIGTERM exits 0, Ctrl-C (SIGINT) exits 130, and Ctrl-C during start-up
leaves no new state database. Started again with the same arguments, it ends with the state
and logs of an uninterrupted run (`rulebot paper`, its alias, is covered at every instant by
test_paper_sigint.py; this is the `run` command line itself).

The child pauses before a chosen instant (tests/dryrun/paused_child.py) and is signalled
there: no sleeps."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import pytest

from adapters.store.lock import lock_path
from engine.cli.exit_codes import EXIT_INTERRUPTED, EXIT_OK
from engine.trading.runner import CURSOR
from tests.dryrun.paused_child import HUNG, start_paused
from tests.lifecycle.market import T0, write
from tests.lifecycle.processes import ROOT, run_args, run_cli
from tests.lifecycle.test_paper_crash import _tables
from tests.lifecycle.test_paper_sigint import _logs, _outcome

MINUTES = 120
STOP_AT = 70  # the step under way when the signal comes (trades were made before it)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform == "win32", reason="SIGINT and SIGTERM to a child"),
]


@pytest.fixture(scope="module")
def market(tmp_path_factory) -> Path:
    return write(tmp_path_factory.mktemp("market") / "market.jsonl", MINUTES)


@pytest.fixture(scope="module")
def reference(market, tmp_path_factory) -> tuple[dict, dict, str]:
    folder = tmp_path_factory.mktemp("reference")
    done = run_cli(run_args(market, folder / "state", folder / "logs"))
    assert done.returncode == EXIT_OK, done.stderr
    assert "; the feed ended; " in done.stdout, done.stdout
    tables = _tables(folder / "state" / "bot.db")
    assert tables["trades"], "the reference run should trade"
    return tables, _logs(folder / "logs"), done.stdout


def _signalled(point: str, signum: int, args: list[str]) -> tuple[int, str, str]:
    process, before = start_paused(point, args, cwd=ROOT)
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=HUNG)
    return process.returncode, stdout.decode(), before + stderr.decode()


@pytest.mark.parametrize(
    ("signum", "code", "said"), [(signal.SIGTERM, EXIT_OK, "SIGTERM"), (signal.SIGINT, EXIT_INTERRUPTED, "Ctrl-C")]
)
def test_a_signal_finishes_the_cycle_under_way_and_the_same_command_resumes(
    signum, code, said, market, reference, tmp_path
):
    state, logs = tmp_path / "state", tmp_path / "logs"
    args = run_args(market, state, logs)
    exit_code, stdout, stderr = _signalled(f"step {STOP_AT}", signum, args)
    assert exit_code == code, stderr
    assert "Traceback" not in stderr, stderr
    assert stdout.startswith("run: ") and f"; {STOP_AT} new step(s), " in stdout, stdout
    assert f"; stopped by {said}: the same command resumes the run; " in stdout, stdout
    db = state / "bot.db"
    assert dict(_tables(db)["cursors"])[CURSOR] == T0 + 60 * (STOP_AT - 1)  # the step under way, whole
    assert lock_path(db).read_text() == ""

    resumed = run_cli(args)
    expected_tables, expected_logs, summary = reference
    assert resumed.returncode == EXIT_OK, resumed.stderr
    assert f"; {MINUTES - STOP_AT} new step(s), " in resumed.stdout, resumed.stdout
    assert _outcome(resumed.stdout) == _outcome(summary)
    assert _tables(db) == expected_tables
    assert _logs(logs) == expected_logs


def test_ctrl_c_during_start_up_leaves_no_state_database(market, tmp_path):
    state = tmp_path / "state"
    exit_code, stdout, stderr = _signalled("open_state 1", signal.SIGINT, run_args(market, state, tmp_path / "logs"))
    assert exit_code == EXIT_INTERRUPTED, stderr
    assert (
        stdout == "" and f"rulebot run: stopped by Ctrl-C during start-up; {state / 'bot.db'} was not created" in stderr
    )
    assert not list(state.glob("bot.db*")) or [p.name for p in state.glob("bot.db*")] == ["bot.db.lock"]
