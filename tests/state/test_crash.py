"""A real crash test: a child process applies lifecycle transitions and is killed with
SIGKILL at seeded random points (during start-up, migration, replay or a transaction);
after each kill the database must be intact and hold exactly the steps up to its cursor.

The child kills itself as its N-th SQL statement starts (tests/state/crash_child.py), so
each kill lands where the seed says on any machine, loaded or not — not after a sleep.

SIGKILL tests the process dying mid-write, not the machine losing power: what the kernel
already accepted survives. ``synchronous=FULL`` is what covers power loss (docs/state.md).
"""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from adapters.store.state import MIGRATIONS, StateStore

from .lifecycle import PHASES, Model, expected_fill_count, raw

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")

ROOT = Path(__file__).resolve().parents[2]
KILLS = 30
SEED = 20240611
FOREVER = 10**9
LATEST = max(version for version, _, _ in MIGRATIONS)
HUNG = 120  # seconds: only a hung child takes this long, however loaded the machine


def _spawn(db: Path, until: int, *die_at: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.state.crash_child", str(db), str(until), *map(str, die_at)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _statement_to_die_at(rng: random.Random, kill: int) -> int:
    """The first kill falls in the migrations of the new database (about 45 statements; a
    kill's check migrates what is left); then a quarter in start-up and the replay of the
    last step (about 17), the rest mid-run (8 or 9 statements a step)."""
    if kill == 0:
        return rng.randint(2, 45)
    return rng.randint(1, 17) if rng.random() < 0.25 else rng.randint(18, 100)


def _kill_at(db: Path, statement: int) -> None:
    child = _spawn(db, FOREVER, statement)
    _, err = child.communicate(timeout=HUNG)
    assert child.returncode == -signal.SIGKILL, err


def _migrated_version(db: Path) -> int:
    """The last migration committed (0 before the first), read without creating or changing anything."""
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'schema_migrations'").fetchone():
            return 0
        return conn.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()[0]


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


def test_sigkill_at_seeded_points_never_leaves_a_half_written_step(tmp_path):
    rng = random.Random(SEED)
    db = tmp_path / "state" / "crash.db"
    model, progress = Model(), []
    for kill in range(KILLS):
        _kill_at(db, _statement_to_die_at(rng, kill))
        if kill == 0:
            assert _migrated_version(db) < LATEST, "the first kill should land in the migrations"
        progress.append(_verify(db, model))
    advanced = sum(b > a for a, b in zip([0, *progress], progress))
    assert advanced >= KILLS // 3, f"too few kills landed mid-run: {progress}"

    until = progress[-1] + 3 * PHASES + 1  # finish cleanly, ending mid-lifecycle
    child = _spawn(db, until)
    _, err = child.communicate(timeout=HUNG)
    assert child.returncode == 0, err
    assert _verify(db, model) == until
