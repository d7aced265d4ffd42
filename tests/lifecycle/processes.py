"""Running `rulebot paper` as a real child process, the same way in every process test."""

from __future__ import annotations

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
