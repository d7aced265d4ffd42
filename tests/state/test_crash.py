"""A real crash test: a child process applies lifecycle transitions and is killed with
SIGKILL at random moments (during start-up, migration, replay or a transaction); after
each kill the database must be intact and hold exactly the steps up to its cursor.

SIGKILL tests the process dying mid-write, not the machine losing power: what the kernel
already accepted survives. ``synchronous=FULL`` is what covers power loss (docs/state.md).
"""

from __future__ import annotations

import os
import random
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from adapters.store.state import StateStore

from .lifecycle import PHASES, Model, expected_fill_count, raw

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")

ROOT = Path(__file__).resolve().parents[2]
KILLS = 30
SEED = 20240611
FOREVER = 10**9


def _spawn(db: Path, until: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.state.crash_child", str(db), str(until)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_ready(child: subprocess.Popen, timeout: float = 10.0) -> None:
    readable, _, _ = select.select([child.stdout], [], [], timeout)
    line = child.stdout.readline() if readable else ""
    if not line.startswith("ready"):
        child.kill()
        _, err = child.communicate()
        pytest.fail(f"the child did not start: {line!r}\n{err}")


def _kill_at_random(db: Path, rng: random.Random) -> None:
    """Mostly mid-run; sometimes during start-up, migration or the replay of the last step."""
    child = _spawn(db, FOREVER)
    try:
        if rng.random() < 0.25:
            time.sleep(rng.uniform(0.0, 0.12))
        else:
            _wait_ready(child)
            time.sleep(rng.uniform(0.0, 0.08))
    finally:
        os.kill(child.pid, signal.SIGKILL)
        _, err = child.communicate()
    assert child.returncode == -signal.SIGKILL, err


def _invariants(conn) -> dict[str, int]:
    """Lifecycle rules that hold after every step, checked with plain SQL."""
    one = lambda sql: conn.execute(sql).fetchone()[0]  # noqa: E731
    return {
        "positions without their entry fill": one(
            "SELECT count(*) FROM positions p WHERE NOT EXISTS (SELECT 1 FROM fills f WHERE f.client_order_id = p.id)"
        ),
        "trades whose position still exists": one("SELECT count(*) FROM trades t JOIN positions p ON p.id = t.id"),
        "duplicate fills": one("SELECT count(*) - count(DISTINCT fill_id) FROM fills"),
        "orders without exactly one fill": one(
            "SELECT count(*) FROM orders o WHERE (SELECT count(*) FROM fills f "
            "WHERE f.client_order_id = o.client_order_id) <> 1"
        ),
        "orders without a position": one("SELECT count(*) FROM orders WHERE position_id IS NULL"),
        "foreign key violations": len(conn.execute("PRAGMA foreign_key_check").fetchall()),
    }


def _verify(db: Path, model: Model) -> int:
    """The database after a crash: intact, and exactly steps 1..cursor. Returns the cursor."""
    with raw(db) as conn:  # before the store opens (and maybe migrates) anything
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with StateStore(db) as store:
        assert store.integrity_check() == "ok"
        steps = int(store.cursor("step") or 0)
        model.advance_to(steps)
        model.assert_matches(store)
        assert len(store.fills()) == expected_fill_count(steps)
        assert len(store.trades()) == steps // PHASES
        assert len(store.open_positions()) == (1 if steps % PHASES else 0)
    with raw(db) as conn:
        assert _invariants(conn) == dict.fromkeys(_invariants(conn), 0)
    return steps


def test_sigkill_at_random_moments_never_leaves_a_half_written_step(tmp_path):
    rng = random.Random(SEED)
    db = tmp_path / "state" / "crash.db"
    model, progress = Model(), []
    for _ in range(KILLS):
        _kill_at_random(db, rng)
        progress.append(_verify(db, model))
    advanced = sum(b > a for a, b in zip([0, *progress], progress))
    assert advanced >= KILLS // 3, f"too few kills landed mid-run: {progress}"

    until = progress[-1] + 3 * PHASES + 1  # finish cleanly, ending mid-lifecycle
    child = _spawn(db, until)
    _, err = child.communicate(timeout=30)
    assert child.returncode == 0, err
    assert _verify(db, model) == until
