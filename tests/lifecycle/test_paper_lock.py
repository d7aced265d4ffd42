"""One process per state, with real processes: a second ``rulebot paper`` on the state of a
running one is refused at start (exit 6, RB805, naming the first's pid) and changes
nothing, the first finishes with the database of an uninterrupted run; the lock of a
SIGKILLed run is taken over by the next, which resumes to that same database.

The first run waits before a chosen Runner step (tests/dryrun/paused_child.py), so the
second starts while the first holds the state on any machine, loaded or not: no sleeps."""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

import pytest

from adapters.store.lock import StateLock, lock_path
from engine.cli.exit_codes import EXIT_LOCKED
from tests.dryrun.paused_child import start_paused
from tests.lifecycle.market import write
from tests.lifecycle.processes import HUNG, ROOT, paper_args, run_cli
from tests.lifecycle.test_paper_crash import _tables

MINUTES = 360
PAUSE_AT = 150  # a Runner step mid-run: trades are committed before it and made after it

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="flock and SIGKILL")


@pytest.fixture(scope="module")
def market(tmp_path_factory) -> tuple[Path, dict]:
    """The snapshots and the tables of an uninterrupted run over them."""
    folder = tmp_path_factory.mktemp("market")
    snapshots = write(folder / "market.jsonl", MINUTES)
    reference = folder / "reference.db"
    done = run_cli(paper_args(snapshots, reference, folder / "logs"))
    assert done.returncode == 0, done.stderr
    expected = _tables(reference)
    assert len(expected["trades"]) >= 10
    return snapshots, expected


def test_a_second_paper_run_on_a_held_state_is_refused_and_the_first_finishes_whole(market, tmp_path):
    snapshots, expected = market
    db = tmp_path / "paper.db"
    args = paper_args(snapshots, db, tmp_path / "logs")
    first, _ = start_paused(PAUSE_AT, args, cwd=ROOT)
    try:
        before = _tables(db)
        assert before["trades"], "the first run should have committed trades before the pause"
        second = run_cli(args)
        assert second.returncode == EXIT_LOCKED, second.stderr
        assert second.stderr.startswith("rulebot: RB805 error: the state database ")
        assert f"pid {first.pid} (rulebot paper {snapshots}" in second.stderr, second.stderr
        assert second.stdout == ""
        assert _tables(db) == before, "the refused run changed the state"
    finally:
        out, err = first.communicate(b"\n", timeout=HUNG)  # let the first go on
    assert first.returncode == 0, err.decode()
    assert out.decode().startswith(f"paper: {len(expected['trades'])} trade(s)")
    assert _tables(db) == expected
    assert lock_path(db).read_text() == "", "a clean end releases the lock"


def test_the_lock_of_a_killed_paper_run_is_taken_over_and_the_run_resumes(market, tmp_path):
    snapshots, expected = market
    db = tmp_path / "paper.db"
    args = paper_args(snapshots, db, tmp_path / "logs")
    killed, _ = start_paused(PAUSE_AT, args, cwd=ROOT)
    killed.send_signal(signal.SIGKILL)
    killed.communicate(timeout=HUNG)
    assert killed.returncode == -signal.SIGKILL
    assert json.loads(lock_path(db).read_text())["pid"] == killed.pid, "the killed run leaves its lock file"

    resumed = run_cli(args)
    assert resumed.returncode == 0, resumed.stderr
    assert "took over the lock of the state database" in resumed.stderr
    assert f"pid {killed.pid} (rulebot paper {snapshots}" in resumed.stderr, resumed.stderr
    assert _tables(db) == expected


def test_a_refused_run_does_not_create_or_migrate_the_database(market, tmp_path):
    snapshots, _ = market
    db = tmp_path / "new" / "paper.db"
    with StateLock(db, command="rulebot paper elsewhere"):
        refused = run_cli(paper_args(snapshots, db, tmp_path / "logs"))
    assert refused.returncode == EXIT_LOCKED, refused.stderr
    assert f"pid {os.getpid()} (rulebot paper elsewhere), since " in refused.stderr
    assert sorted(p.name for p in db.parent.iterdir()) == ["paper.db.lock"], "nothing but the lock file"
