"""Ctrl-C at any instant of `rulebot dry-run` ends with exit 130 and whole files.

Each case runs a real child that pauses at one instant (tests/dryrun/paused_child.py) —
before a runner step, before the command loads the rules, when the replay's loop has
ended, before each output file is written, with each one written to its temporary name
but not yet renamed, before the summary is printed, before the exit — and is sent SIGINT
there, so the instant is hit whatever the machine's speed. A short synthetic recording
(100 one-minute snapshots, a few trades) keeps each child short, and the children run two
or more at a time (a pause is a pause however many run beside it).
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.dryrun.paused_child import HUNG, start_paused
from tests.lifecycle.market import write

ROOT = Path(__file__).resolve().parents[2]
MINUTES = 100  # snapshots in the recording; the bundled rules step on every one
OUT_FILES = ("trades.jsonl", "decisions.jsonl", "metrics.json", "fingerprint.txt", "result.json")
FILES = len(OUT_FILES) + 1  # and the report

DURING = ["step 1", "step 2", "step 50", f"step {MINUTES - 1}", f"step {MINUTES}"]
AFTER = [
    "finished 1",
    *(f"write {n}" for n in range(1, FILES + 1)),
    *(f"replace {n}" for n in range(1, FILES + 1)),
    "echo 1",
    "exit 1",
]
BEFORE = "load_plan 1"


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Iterator[dict[str, Future]]:
    """Every case's interrupted run, started at once on a few workers; a test waits for its own."""
    market = write(tmp_path_factory.mktemp("market") / "m.jsonl", MINUTES)
    with ThreadPoolExecutor(max(2, os.cpu_count() or 2)) as pool:
        yield {
            point: pool.submit(interrupted_at, point, market, tmp_path_factory.mktemp(point.replace(" ", "-")))
            for point in [*DURING, *AFTER, BEFORE]
        }


def interrupted_at(point: str, market: Path, tmp_path: Path) -> tuple[int, str, str, Path, Path]:
    """Run a dry-run paused at ``point``, check what is on disk there, send SIGINT; return
    the exit code, stdout, stderr, the --out folder and the --report file."""
    out, report = tmp_path / "out", tmp_path / "report" / "r.html"
    report.parent.mkdir()
    args = ["dry-run", str(market), "--out", str(out), "--report", str(report), "--format", "json"]
    process, before = start_paused(point, args, cwd=ROOT)
    name, count = point.split()
    if name == "replace":  # the pause is the one meant: exactly that file is half-way in place
        temporary = [p.name for p in [*out.glob(".*.tmp"), *report.parent.glob(".*.tmp")]]
        assert len(temporary) == 1, temporary
        assert len([p for p in out.glob("*") if not p.name.startswith(".")]) == min(int(count) - 1, len(OUT_FILES))
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=HUNG)
    return process.returncode, stdout.decode(), before + stderr.decode(), out, report


def assert_whole(out: Path, report: Path, summary: dict) -> None:
    """Every file is there and whole, and they agree with each other and the summary."""
    assert sorted(p.name for p in out.iterdir()) == sorted(OUT_FILES)  # no temporary file left
    assert [p.name for p in report.parent.iterdir()] == [report.name]
    trades = [json.loads(line) for line in (out / "trades.jsonl").read_text().splitlines()]
    decisions = [json.loads(line) for line in (out / "decisions.jsonl").read_text().splitlines()]
    metrics = json.loads((out / "metrics.json").read_text())
    result = json.loads((out / "result.json").read_text())
    assert (out / "fingerprint.txt").read_text() == summary["fingerprint"] + "\n"
    assert metrics == summary
    assert result["fingerprint"] == summary["fingerprint"] and result["interrupted"] is summary["interrupted"]
    assert len(trades) == summary["metrics"]["trades"] and trades == result["trades"]
    assert decisions == result["decisions"]
    assert report.read_text().rstrip().endswith("</html>")


@pytest.mark.parametrize("point", DURING)
def test_ctrl_c_during_the_replay_stops_it_and_writes_what_was_done(point, runs):
    code, stdout, stderr, out, report = runs[point].result()
    assert code == 130, stderr
    summary = json.loads(stdout)
    assert summary["interrupted"] is True and summary["cycles"] == int(point.split()[1]) - 1, stderr
    assert_whole(out, report, summary)
    assert "Aborted" not in stderr and "Traceback" not in stderr


@pytest.mark.parametrize("point", AFTER)
def test_ctrl_c_after_the_replay_still_writes_every_file_whole(point, runs):
    """The replay had ended: the whole run is printed and written, then the exit is 130."""
    code, stdout, stderr, out, report = runs[point].result()
    assert code == 130, stderr
    summary = json.loads(stdout)
    assert summary["interrupted"] is False and summary["cycles"] == MINUTES, stderr
    assert_whole(out, report, summary)
    assert "Aborted" not in stderr and "Traceback" not in stderr


def test_ctrl_c_before_the_run_writes_nothing(runs):
    code, stdout, stderr, out, report = runs[BEFORE].result()
    assert code == 130, stderr
    assert stdout == "" and "stopped by Ctrl-C before the run had a result" in stderr
    assert not out.exists() and not list(report.parent.iterdir())
