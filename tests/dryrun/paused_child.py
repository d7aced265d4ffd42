"""The rulebot CLI, paused at a known point so a test can signal it there (a test hook).

    python -m tests.dryrun.paused_child STEP ARGS...

Runs ``rulebot ARGS...`` exactly as ``python -m engine.cli`` does, except that the STEP-th
``Runner.step`` of the process first writes ``paused before step STEP`` to stderr and waits
for a line (or end of file) on stdin. A test that waits for that line and then sends
SIGINT or SIGKILL hits the run mid-way whatever the machine's speed, where a sleep would
land anywhere from the imports to after the end. Nothing in the engine knows about it.
"""

from __future__ import annotations

import os
import runpy
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from engine.trading.runner import Runner, StepResult

PAUSED = "paused before step"
HUNG = 120.0  # seconds: only a hung child takes this long, however loaded the machine


def start_paused(step: int, args: list[str], *, cwd: Path) -> tuple[subprocess.Popen, str]:
    """Run ``rulebot ARGS`` in a child and return once it waits before its STEP-th step,
    with what it wrote to stderr until then. Its pipes are binary and unbuffered, so the
    marker is seen the moment it is written and ``communicate`` later gets the rest."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.dryrun.paused_child", str(step), *args],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(cwd)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        bufsize=0,
    )
    assert process.stderr is not None
    marker, seen, deadline = f"{PAUSED} {step}\n".encode(), b"", time.monotonic() + HUNG
    while marker not in seen:
        readable, _, _ = select.select([process.stderr], [], [], max(0.0, deadline - time.monotonic()))
        chunk = os.read(process.stderr.fileno(), 65536) if readable else b""
        if not chunk:  # the child ended, or hangs, before that step
            process.kill()
            _, rest = process.communicate()
            raise AssertionError(f"the child never paused before step {step}:\n{(seen + rest).decode()}")
        seen += chunk
    return process, seen.decode()


def pause_at(step: int) -> None:
    """Make the process's ``step``-th Runner.step wait for the parent first."""
    real_step = Runner.step
    taken = 0

    def step_pausing_once(self: Runner, snapshot: Any) -> StepResult:
        nonlocal taken
        taken += 1
        if taken == step:
            print(PAUSED, step, file=sys.stderr, flush=True)
            sys.stdin.readline()  # a signal arrives here; a line or EOF goes on
        return real_step(self, snapshot)

    Runner.step = step_pausing_once  # type: ignore[method-assign]


def main(argv: list[str]) -> None:
    # Ctrl-C as a terminal delivers it, even when the suite was started in the background,
    # where a shell makes children ignore SIGINT (the test would then prove nothing).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    pause_at(int(argv[0]))
    sys.argv = [sys.argv[0], *argv[1:]]
    runpy.run_module("engine.cli", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
