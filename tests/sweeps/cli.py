"""`rulebot sweep` as a real process, the way the sweep tests start it: the repository's rules
over the bundled sample, cut at ``to`` so a variant replays in seconds."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample" / "sample.snapshots.parquet"
RULES = ROOT / "rules"
TO = "2025-05-21T08:00:00Z"  # two days of the sample


def command(spec: Path, out: Path, *extra: str, to: str = TO) -> list[str]:
    return [sys.executable, "-m", "engine.cli", "sweep", str(spec), str(SAMPLE), "--rules", str(RULES),
            "--out", str(out), "--to", to, *extra]  # fmt: skip


def run_sweep(spec: Path, out: Path, *extra: str, to: str = TO) -> subprocess.CompletedProcess:
    """The sweep run to its end."""
    return subprocess.run(
        command(spec, out, *extra, to=to), cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=900
    )


def start_sweep(spec: Path, out: Path, *extra: str) -> subprocess.Popen:
    """The sweep started: the caller signals, kills and waits."""
    return subprocess.Popen(
        command(spec, out, *extra), cwd=ROOT, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}
