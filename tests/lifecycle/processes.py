"""Running `rulebot paper` (and `rulebot run --paper`) as a real child process, the same way in
every process test."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HUNG = 120  # seconds: only a hung child takes this long, however loaded the machine


def child_env() -> dict[str, str]:
    """The environment of a child: this checkout first on the import path."""
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def paper_args(snapshots: Path, db: Path, logs: Path) -> list[str]:
    """`rulebot paper` over ``snapshots`` with the default rules, this state and these logs."""
    return ["paper", str(snapshots), "--rules", str(ROOT / "rules"), "--state", str(db), "--logs", str(logs)]


def run_args(snapshots: Path, state: Path, logs: Path) -> list[str]:
    """`rulebot run --paper` replaying ``snapshots`` at --speed max with the default rules, this
    state folder (its database is ``state/bot.db``) and these logs."""
    return [
        "run",
        "--paper",
        "--feed",
        f"replay:{snapshots}",
        "--rules",
        str(ROOT / "rules"),
        "--state",
        str(state),
        "--logs",
        str(logs),
    ]


GROUP_STEPS = 5  # a child's group of steps committed together (see small_groups)


def small_groups() -> None:
    """Make this process's bot commit its steps in groups of GROUP_STEPS, never by wall time (a
    test hook, called by the children before rulebot runs). At --speed max the bot commits
    every 500 steps or wall second, whichever comes first: where a child pauses or is killed
    at its N-th commit would depend on the machine's speed, and a run of a few hundred steps
    would be one group. The crash guarantee is the same for any group size."""
    import engine.bot.loop as loop

    loop.GROUP_STEPS, loop.GROUP_WALL_S = GROUP_STEPS, math.inf


def comparable(name: str, content: bytes) -> bytes:
    """A log's content as runs are compared: tasks.jsonl records each task's wall-clock
    ``duration_s`` (a measurement, different in every run), zeroed here; every other byte and
    every other log as written."""
    if not name.startswith("tasks.") or not content:
        return content
    lines = []
    for line in content.splitlines(keepends=True):
        if not line.endswith(b"\n"):  # a torn last line stays as it is (and is then compared as bytes)
            lines.append(line)
            continue
        record = json.loads(line)
        record["duration_s"] = 0
        lines.append(json.dumps(record, separators=(",", ":")).encode() + b"\n")
    return b"".join(lines)


def run_cli(args: list[str], timeout: float = HUNG) -> subprocess.CompletedProcess[str]:
    """``rulebot ARGS`` to its end, its output captured."""
    return subprocess.run(
        [sys.executable, "-m", "engine.cli", *args],
        cwd=ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
