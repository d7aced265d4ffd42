"""adapters.store.lock: one process per state database. The lock is held while a StateLock
is open, a second one (another process, or another descriptor in this one) is refused
naming the holder, a lock file left by a killed holder is taken over with a note, and a
clean release empties the file."""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from adapters.store.lock import StateLock, lock_path
from adapters.store.state import StateError
from engine.common.errors import RulebotError, StateLocked
from engine.language.codes import ALL_CODES

ROOT = Path(__file__).resolve().parents[2]
HUNG = 120  # seconds: only a hung child takes this long, however loaded the machine
HOLDER = """
import sys
from adapters.store.lock import StateLock
lock = StateLock(sys.argv[1], command="rulebot paper held-by-child").acquire()
print("held", flush=True)
sys.stdin.read()
"""


def _holder_in_child(db: Path) -> subprocess.Popen:
    """A child process holding the lock of ``db``; returns once it says it holds it."""
    child = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(db)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    line = child.stdout.readline()  # blocks until the child holds the lock, or ends
    assert line == "held\n", f"the child did not take the lock (exit {child.wait(HUNG)})"
    return child


def test_the_lock_file_names_its_holder(tmp_path):
    db = tmp_path / "state" / "paper.db"
    with StateLock(db, command="rulebot paper x.jsonl") as lock:
        assert lock.held and lock.path == lock_path(db) == tmp_path / "state" / "paper.db.lock"
        holder = json.loads(lock.path.read_text())
        assert holder["pid"] == os.getpid() and holder["command"] == "rulebot paper x.jsonl"
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", holder["since"]) and holder["host"]
        assert not db.exists(), "the lock never opens the database"
    assert not lock.held


def test_a_second_lock_is_refused_naming_the_holder(tmp_path):
    db = tmp_path / "paper.db"
    with StateLock(db, command="rulebot paper first.jsonl"):
        with pytest.raises(StateLocked) as refused:
            StateLock(db, command="rulebot paper second.jsonl").acquire()
        message = str(refused.value)
        assert f"pid {os.getpid()} (rulebot paper first.jsonl), since " in message
        assert str(db) in message and "--state" in message
        assert refused.value.holder["pid"] == os.getpid()
        assert isinstance(refused.value, RulebotError) and refused.value.code == "RB805" in ALL_CODES
        assert "second.jsonl" not in lock_path(db).read_text(), "the refused lock wrote nothing"


def test_another_process_holding_the_lock_refuses_this_one(tmp_path):
    db = tmp_path / "paper.db"
    child = _holder_in_child(db)
    try:
        with pytest.raises(StateLocked, match=rf"pid {child.pid} \(rulebot paper held-by-child\)"):
            StateLock(db).acquire()
    finally:
        child.communicate("", timeout=HUNG)  # end of stdin: the child ends, the kernel frees the lock
    assert child.returncode == 0
    with StateLock(db):
        pass


def test_the_lock_of_a_killed_holder_is_taken_over_with_a_note(tmp_path, caplog):
    db = tmp_path / "paper.db"
    child = _holder_in_child(db)
    child.send_signal(signal.SIGKILL)
    child.communicate(timeout=HUNG)
    assert child.returncode == -signal.SIGKILL
    assert json.loads(lock_path(db).read_text())["pid"] == child.pid, "a killed holder leaves its file"
    with caplog.at_level(logging.WARNING, logger="adapters.store.lock"), StateLock(db, command="next") as lock:
        assert json.loads(lock.path.read_text())["pid"] == os.getpid()
    (note,) = [r.getMessage() for r in caplog.records]
    assert "took over the lock" in note and f"pid {child.pid} (rulebot paper held-by-child)" in note


def test_a_released_lock_leaves_an_empty_file_and_no_note(tmp_path, caplog):
    db = tmp_path / "paper.db"
    lock = StateLock(db).acquire()
    lock.release()
    lock.release()  # twice is fine
    assert lock_path(db).read_text() == ""
    with caplog.at_level(logging.WARNING, logger="adapters.store.lock"), StateLock(db):
        pass
    assert not caplog.records


def test_an_unreadable_lock_file_still_refuses(tmp_path):
    db = tmp_path / "paper.db"
    with StateLock(db) as lock:
        lock.path.write_text("not json")  # the flock is on the file, not on what it says
        with pytest.raises(StateLocked, match="an unknown process \\(the lock file says 'not json'\\)"):
            StateLock(db).acquire()


def test_a_filesystem_without_locks_is_a_clear_error(tmp_path, monkeypatch):
    def no_locks(fd: int, operation: int) -> None:
        raise OSError(errno.ENOLCK, os.strerror(errno.ENOLCK))

    monkeypatch.setattr(fcntl, "flock", no_locks)
    with pytest.raises(StateError, match="may not support file locks") as failed:
        StateLock(tmp_path / "paper.db").acquire()
    assert failed.value.code == "RB800" and "keep the state on a local filesystem" in str(failed.value)
