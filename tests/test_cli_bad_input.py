"""Bad input never crashes rulebot: a clear message naming the file and why, exit code 1
(2 for a bad command line), never a traceback or the internal-error exit code 3."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "engine.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


@pytest.fixture()
def files(tmp_path) -> dict:
    corrupt = tmp_path / "corrupt.snapshots.parquet"
    corrupt.write_bytes(b"not parquet at all")
    wrong_type = tmp_path / "wrong-type.snapshots.parquet"  # a rulebot file whose price is text
    pq.write_table(
        pa.table({"ts": [60.0], "symbol": ["A"], "price": ["expensive"]}).replace_schema_metadata(
            {b"rulebot.format": b"rulebot-snapshots", b"rulebot.format_version": b"1"}
        ),
        wrong_type,
    )
    garbage = tmp_path / "garbage.jsonl"
    garbage.write_text("{nope\n[1, 2]\n", encoding="utf-8")
    not_db = tmp_path / "state.db"
    not_db.write_text("not sqlite", encoding="utf-8")
    not_gzip = tmp_path / "plain.jsonl.gz"
    not_gzip.write_text('{"ts": 1748131200, "symbols": {}}\n', encoding="utf-8")
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    good = tmp_path / "good.jsonl"
    good.write_text('{"ts": 1748131200, "symbols": {"BTCUSDT": {"price": 100000}}}\n', encoding="utf-8")
    far = tmp_path / "far.jsonl"  # a clock at 1e300 hung dry-run
    far.write_text(good.read_text(encoding="utf-8") + '{"ts": 1e300, "symbols": {}}\n', encoding="utf-8")
    return {
        "corrupt": corrupt,
        "garbage": garbage,
        "not_db": not_db,
        "good": good,
        "tmp": tmp_path,
        "wrong_type": wrong_type,
        "not_gzip": not_gzip,
        "empty": empty,
        "far": far,
        **_bad_columnar(tmp_path),
        "gz_corrupt": _corrupt_gzip(tmp_path),
    }


def _bad_columnar(tmp_path) -> dict:
    """Dense columnar files (the dry-run fast path takes the good one) spoiled one way each."""
    from adapters.snapshots.columnar import write_columnar
    from engine.market.snapshot import parse_snapshot

    path = tmp_path / "dense.snapshots.parquet"
    write_columnar(
        [
            parse_snapshot(
                {
                    "ts": 1748131200 + 60 * i,
                    "symbols": {
                        "BTCUSDT": {"price": 100000.0, "candles": [[1748131140 + 60 * i, 1e5, 1e5, 1e5, 1e5, 1.0]]}
                    },
                }
            )[0]
            for i in range(30)
        ],
        path,
    )
    table = pq.read_table(path)
    spoiled = {
        "ms_ts": table.set_column(0, "ts", pa.compute.multiply(table.column("ts"), 1000)),
        "no_symbol": table.drop_columns(["symbol"]),
        "bin_version": table.replace_schema_metadata({**table.schema.metadata, b"rulebot.format_version": b"\xff\xfe"}),
    }
    out = {}
    for name, bad in spoiled.items():
        out[name] = tmp_path / f"{name}.snapshots.parquet"
        pq.write_table(bad.replace_schema_metadata({**table.schema.metadata, **bad.schema.metadata}), out[name])
    return out


def _corrupt_gzip(tmp_path):
    """Three gzip members of 100 snapshots; the second's deflate data starts with an invalid
    block type, so reading stops after line 100 and 200 snapshots are lost."""
    import gzip

    members = [
        gzip.compress(
            "".join(
                f'{{"ts": {1748131200 + 60 * i}, "symbols": {{"BTCUSDT": {{"price": 1e5}}}}}}\n'
                for i in range(k * 100, k * 100 + 100)
            ).encode(),
            mtime=0,
        )
        for k in range(3)
    ]
    members[1] = members[1][:10] + b"\x07" + members[1][11:]  # BFINAL=1, BTYPE=11: reserved, invalid
    path = tmp_path / "corrupt.jsonl.gz"
    path.write_bytes(b"".join(members))
    return path


@pytest.mark.parametrize(
    "args, needle",
    [
        (["dry-run", "{corrupt}"], "RB710"),
        (["dry-run", "{wrong_type}"], "RB710"),
        (["dry-run", "{wrong_type}", "--replay", "scalar"], "RB710"),
        (["dry-run", "{garbage}"], "RB711"),
        (["explain", "{corrupt}"], "RB710"),
        (["snapshots", "info", "{corrupt}"], "RB710"),
        (["paper", "{good}", "--state", "{not_db}", "--logs", "{tmp}/logs"], "RB800"),
        (["snapshots", "build", "{garbage}", "--out", "{tmp}/x.snapshots.parquet"], "garbage.jsonl"),
        (["dry-run", "{not_gzip}"], "RB710"),
        (["snapshots", "info", "{not_gzip}"], "RB710"),
        (["dry-run", "{empty}"], "no snapshot that could be read"),
        (["dry-run", "{far}"], "RB702"),
        (["dry-run", "{ms_ts}"], "it looks like milliseconds"),
        (["snapshots", "info", "{ms_ts}"], "RB702"),
        (["explain", "{ms_ts}"], "RB702"),
        (["dry-run", "{no_symbol}"], "no `symbol` column"),
        (["snapshots", "info", "{no_symbol}"], "no `symbol` column"),
        (["dry-run", "{bin_version}"], "RB710"),
        (["dry-run", "{gz_corrupt}"], "compressed data is damaged (invalid block type, found at byte"),
        (["snapshots", "info", "{gz_corrupt}"], "reading stopped at line 101: the 100 lines before it were read"),
    ],
)
def test_bad_files_exit_1_with_a_located_message(files, args, needle):
    done = run(*[a.format(**files) for a in args])
    assert done.returncode == 1, done.stdout + done.stderr
    assert needle in done.stdout + done.stderr  # `snapshots info` reports on stdout
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr


@pytest.mark.parametrize(
    "args, option",
    [
        (["dry-run", "{good}", "--out", "{blocker}/out"], "--out"),
        (["dry-run", "{good}", "--report", "{blocker}/reports/r.html"], "--report"),
        (["paper", "{good}", "--state", "{tmp}/p.db", "--logs", "{blocker}/logs"], "--logs"),
        (["schema", "signals", "--out", "{blocker}/schemas"], "--out"),
        (["explain", "{good}", "--log", "{blocker}/logs/s.jsonl"], "--log"),
    ],
)
def test_an_output_that_cannot_be_written_is_a_usage_error_before_any_work(files, args, option):
    """A folder that cannot be created (a file stands in its way) is named with the option,
    exit 2, before the command runs: nothing is computed only to be lost."""
    blocker = files["tmp"] / "a-file"
    blocker.write_text("in the way", encoding="utf-8")
    done = run(*[a.format(blocker=blocker, **files) for a in args])
    assert done.returncode == 2, done.stdout + done.stderr
    assert option in done.stderr and "cannot write into" in done.stderr
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr
    assert not (files["tmp"] / "p.db").exists()  # paper stopped before opening its state


@pytest.mark.parametrize(
    "blob, value",
    [
        ("broker", '{"positions": 5}'),  # valid JSON, not a broker's state
        ("pending", '{"x": {"kind": "entry"}}'),  # a pending order without its fields
        ("pending", "[1, 2]"),
    ],
)
def test_a_saved_run_that_cannot_be_resumed_is_refused_untouched(files, blob, value):
    """paper resumes from its state database; a malformed saved state is RB804 (exit 1),
    before anything is traded or recorded — never an internal error."""
    import sqlite3

    state = files["tmp"] / "state.sqlite"
    first = run("paper", str(files["good"]), "--state", str(state), "--logs", str(files["tmp"] / "logs"))
    assert first.returncode == 0, first.stderr
    with sqlite3.connect(state) as db:
        db.execute("UPDATE blobs SET value = ? WHERE name = ?", (value, blob))
        if not db.execute("SELECT count(*) FROM blobs WHERE name = ?", (blob,)).fetchone()[0]:
            db.execute("INSERT INTO blobs (name, value) VALUES (?, ?)", (blob, value))
        before = db.execute("SELECT count(*) FROM rule_versions").fetchone()[0]
    again = run("paper", str(files["good"]), "--state", str(state), "--logs", str(files["tmp"] / "logs"))
    assert again.returncode == 1, again.stdout + again.stderr
    assert (
        "RB804" in again.stderr
        and f"saved {'paper-broker state' if blob == 'broker' else 'pending orders'}" in again.stderr
    )
    assert "Traceback" not in again.stderr and "internal error" not in again.stderr
    with sqlite3.connect(state) as db:
        assert db.execute("SELECT count(*) FROM rule_versions").fetchone()[0] == before
        assert db.execute("SELECT value FROM blobs WHERE name = ?", (blob,)).fetchone()[0] == value


@pytest.mark.parametrize(
    "edit, says",
    [
        (lambda state: state.update(now=state["now"] + 3600), "the run's cursor"),  # ahead of the run
        (lambda state: state.update(fees="abc"), "fees must be a finite number"),
        (lambda state: state["settings"].update(starting_balance=-5.0), "settings.starting_balance"),
    ],
)
def test_an_edited_broker_state_is_refused_naming_what(files, edit, says):
    """The broker state and the run's cursor are saved in one transaction; a state edited
    by hand (or corrupt) is RB804 naming the field, before anything is traded."""
    import json
    import sqlite3

    state_db = files["tmp"] / "edited.sqlite"
    logs = str(files["tmp"] / "logs")
    assert run("paper", str(files["good"]), "--state", str(state_db), "--logs", logs).returncode == 0
    with sqlite3.connect(state_db) as db:
        saved = json.loads(db.execute("SELECT value FROM blobs WHERE name = 'broker'").fetchone()[0])
        edit(saved)
        db.execute("UPDATE blobs SET value = ? WHERE name = 'broker'", (json.dumps(saved),))
    again = run("paper", str(files["good"]), "--state", str(state_db), "--logs", logs)
    assert again.returncode == 1 and "RB804" in again.stderr and says in again.stderr, again.stderr
    assert "Traceback" not in again.stderr


def test_paper_over_files_without_a_readable_snapshot_exits_1(files):
    done = run("paper", str(files["empty"]), "--state", str(files["tmp"] / "e.db"), "--logs", str(files["tmp"] / "l"))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "no snapshot that could be read" in done.stderr and "Traceback" not in done.stderr


def test_a_long_list_of_input_problems_is_cut_after_50(files):
    many = files["tmp"] / "many.jsonl"
    many.write_text("{bad\n" * 120 + '{"ts": 1748131200, "symbols": {}}\n', encoding="utf-8")
    done = run("paper", str(many), "--state", str(files["tmp"] / "m.db"), "--logs", str(files["tmp"] / "l"))
    assert done.returncode == 1
    assert done.stderr.count("RB711") == 50 and "… 70 more" in done.stderr
