"""A paper process killed with SIGKILL at random moments and restarted every time ends with
exactly the database of an uninterrupted run: no trade, position, fill, order or funding
payment lost, duplicated or half-written, and PRAGMA integrity_check clean."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.lifecycle.market import write

ROOT = Path(__file__).resolve().parents[2]
MINUTES = 720
KILLS = 12

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")


def _command(snapshots: Path, db: Path, logs: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "engine.cli",
        "paper",
        str(snapshots),
        "--rules",
        str(ROOT / "rules"),
        "--state",
        str(db),
        "--logs",
        str(logs),
    ]


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def _tables(db: Path) -> dict:
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        tables = {
            table: conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
            for table in ("trades", "fills", "positions", "funding_payments", "orders", "cursors")
        }
        # the runner's resume state compares as values (JSON text may differ in e.g. -0.0 vs 0.0)
        tables["blobs"] = {name: json.loads(value) for name, value in conn.execute("SELECT name, value FROM blobs")}
        return tables


def test_killed_and_restarted_paper_run_equals_an_uninterrupted_run(tmp_path):
    snapshots = write(tmp_path / "market.jsonl", MINUTES)
    reference = tmp_path / "reference.db"
    done = subprocess.run(
        _command(snapshots, reference, tmp_path / "ref-logs"), env=_env(), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    expected = _tables(reference)
    assert len(expected["trades"]) >= 20 and expected["funding_payments"]

    crashed, rng, kills = tmp_path / "crashed.db", random.Random(20261124), 0
    errors = tmp_path / "stderr.txt"
    while True:
        with open(errors, "w") as err:
            process = subprocess.Popen(
                _command(snapshots, crashed, tmp_path / "logs"), env=_env(), stdout=subprocess.DEVNULL, stderr=err
            )
            if kills < KILLS:
                time.sleep(rng.uniform(0.4, 0.9))
                if process.poll() is None:
                    process.send_signal(signal.SIGKILL)
                    process.wait()
                    kills += 1
                    _tables(crashed)  # consistent after every kill
                    continue
            process.wait(timeout=120)
        assert process.returncode == 0, errors.read_text()
        break
    assert kills == KILLS, "the run finished before every planned kill; make it longer"
    assert _tables(crashed) == expected
