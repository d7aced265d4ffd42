"""A paper process killed with SIGKILL at seeded random points and restarted every time ends
with exactly the database of an uninterrupted run: no trade, position, fill, order or
funding payment lost, duplicated or half-written — nor any signal or signal outcome — and
PRAGMA integrity_check clean.

The child kills itself as its N-th SQL statement starts (tests/lifecycle/paper_crash_child.py),
so every kill lands where the seed says — in the migrations, the start-up or the middle of
a step's transaction — however fast or loaded the machine is."""

from __future__ import annotations

import json
import random
import signal
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from adapters.store.state import MIGRATIONS
from tests.lifecycle.market import write
from tests.lifecycle.processes import HUNG, ROOT, child_env, paper_args, run_cli

MINUTES = 720
KILLS = 12
LATEST = max(version for version, _, _ in MIGRATIONS)
SIGNAL_TABLES = ("signals", "signal_sets", "signal_outcomes")  # signal resolution: none lost or doubled either

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")


def _read_only(db: Path) -> closing[sqlite3.Connection]:
    """Checks never create the file, nor change it (a plain connect would create it)."""
    return closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True))


def _migrated_version(db: Path) -> int:
    """The last migration committed; 0 before the first."""
    with _read_only(db) as conn:
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'schema_migrations'").fetchone():
            return 0
        return conn.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()[0]


def _tables(db: Path) -> dict:
    with _read_only(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        tables = {
            table: conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
            for table in ("trades", "fills", "positions", "funding_payments", "orders", "cursors", *SIGNAL_TABLES)
        }
        # the runner's resume state compares as values (JSON text may differ in e.g. -0.0 vs 0.0)
        tables["blobs"] = {name: json.loads(value) for name, value in conn.execute("SELECT name, value FROM blobs")}
        return tables


def _consistent(db: Path) -> None:
    """After a kill: an intact file, with whole tables once the migrations are done."""
    if _migrated_version(db) == LATEST:
        _tables(db)
        return
    with _read_only(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def _statement_to_die_at(rng: random.Random, kill: int) -> int:
    """The first kill falls in the migrations of the new database (47 statements); then a
    quarter in the start-up of a resumed run (about 20: opening, resuming, recording the
    rule version), the rest in the run (about 10 statements a snapshot), after at most 600
    so that the run outlasts every kill."""
    if kill == 0:
        return rng.randint(2, 45)
    return rng.randint(1, 20) if rng.random() < 0.25 else rng.randint(21, 600)


def _kill_at(statement: int, command: list[str], errors: Path) -> None:
    with open(errors, "w") as err:
        child = [sys.executable, "-m", "tests.lifecycle.paper_crash_child", str(statement), *command]
        done = subprocess.run(child, cwd=ROOT, env=child_env(), stdout=subprocess.DEVNULL, stderr=err, timeout=HUNG)
    assert done.returncode == -signal.SIGKILL, f"not killed at statement {statement}:\n{errors.read_text()}"


def test_killed_and_restarted_paper_run_equals_an_uninterrupted_run(tmp_path):
    snapshots = write(tmp_path / "market.jsonl", MINUTES)
    reference = tmp_path / "reference.db"
    done = run_cli(paper_args(snapshots, reference, tmp_path / "ref-logs"))
    assert done.returncode == 0, done.stderr
    expected = _tables(reference)
    assert len(expected["trades"]) >= 20 and expected["funding_payments"]

    crashed, rng, errors = tmp_path / "crashed.db", random.Random(20261124), tmp_path / "stderr.txt"
    command = paper_args(snapshots, crashed, tmp_path / "logs")
    for kill in range(KILLS):
        _kill_at(_statement_to_die_at(rng, kill), command, errors)
        if kill == 0:
            assert _migrated_version(crashed) < LATEST, "the first kill should land in the migrations"
        _consistent(crashed)
    assert 0 < len(_tables(crashed)["trades"]) < len(expected["trades"]), "the kills should land mid-run"

    finish = run_cli(command)
    assert finish.returncode == 0, finish.stderr
    assert _tables(crashed) == expected
