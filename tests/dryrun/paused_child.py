"""The rulebot CLI, paused at a known point so a test can signal it there (a test hook).

    python -m tests.dryrun.paused_child POINT ARGS...

Runs ``rulebot ARGS...`` exactly as ``python -m engine.cli`` does, except that one call in
the process first writes ``paused before POINT`` to stderr and waits for a line (or end of
file) on stdin. POINT is ``STEP`` (a number: the STEP-th ``Runner.step``) or ``NAME N``
(the N-th call of one of the functions in ``_points``: the end of the replay, each output
file's writing and its rename into place, the summary's printing, the exit; a snapshot
build's N-th snapshot and its closing line; a running bot's (`rulebot run`, `rulebot paper`)
start-up, N-th snapshot taken from its feed, N-th step's transaction, N-th delivery of log
records, N-th log record and the release of its state lock; the bot commits its steps in
groups of tests.lifecycle.processes.GROUP_STEPS here, so the N-th delivery follows a known
step). A test that waits for that line and then
sends SIGINT or SIGKILL hits the run there whatever the machine's speed, where a sleep
would land anywhere from the imports to after the end.
Nothing in the engine knows about it.
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

from engine.trading.runner import Runner
from tests.lifecycle.processes import small_groups

PAUSED = "paused before"
HUNG = 120.0  # seconds: only a hung child takes this long, however loaded the machine


def start_paused(point: int | str, args: list[str], *, cwd: Path) -> tuple[subprocess.Popen, str]:
    """Run ``rulebot ARGS`` in a child and return once it waits before POINT (a step number
    or ``"NAME N"``), with what it wrote to stderr until then. Its pipes are binary and
    unbuffered, so the marker is seen the moment it is written and ``communicate`` later
    gets the rest."""
    point = f"step {point}" if isinstance(point, int) else point
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.dryrun.paused_child", point, *args],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(cwd)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        bufsize=0,
    )
    assert process.stderr is not None
    marker, seen, deadline = f"{PAUSED} {point}\n".encode(), b"", time.monotonic() + HUNG
    while marker not in seen:
        readable, _, _ = select.select([process.stderr], [], [], max(0.0, deadline - time.monotonic()))
        chunk = os.read(process.stderr.fileno(), 65536) if readable else b""
        if not chunk:  # the child ended, or hangs, before that point
            process.kill()
            _, rest = process.communicate()
            raise AssertionError(f"the child never paused before {point}:\n{(seen + rest).decode()}")
        seen += chunk
    return process, seen.decode()


def _points() -> dict[str, tuple[Any, str]]:
    """Where a child can pause: the owner and name of each function patched."""
    import click

    import adapters.snapshots.history.build
    import adapters.store.outbox
    import engine.cli.compose
    import engine.cli.dryrun
    import engine.cli.render_snapshots
    import engine.cli.run
    import engine.replay.dryrun
    from adapters.feeds.replay import ReplayFeed
    from adapters.store.lock import StateLock
    from adapters.store.outbox import LogFiles
    from adapters.store.state import StateStore

    return {
        "load_plan": (engine.cli.dryrun, "load_plan"),  # before the rules are read
        "step": (Runner, "step"),  # before the N-th runner step
        "finished": (engine.replay.dryrun, "finished"),  # the replay's loop has ended
        "echo": (click, "echo"),  # before the N-th message (the summary is the first)
        "write": (engine.cli.dryrun, "_write_text"),  # before the N-th output file is written
        "replace": (os, "replace"),  # the N-th file written to its temporary name, not renamed
        "exit": (engine.cli.dryrun, "_exit_after"),  # everything written, the exit code next
        # `snapshots build` into .jsonl: before the N-th snapshot is written
        "snapshot_to_json": (adapters.snapshots.history.build, "snapshot_to_json"),
        "written": (engine.cli.render_snapshots, "written"),  # a snapshot file is in place
        # `run` and its alias `paper`: the start-up, the N-th snapshot taken, each step's writes and log lines
        "run.load_plan": (engine.cli.run, "load_plan"),  # before the rules are read
        "lock": (StateLock, "acquire"),  # before the state lock is taken
        "open_state": (engine.cli.compose, "state_store"),  # before the database is opened and migrated
        "rule_version": (StateStore, "record_version"),  # the start-up's last write
        "feed": (ReplayFeed, "next"),  # before the N-th snapshot is taken from the replay feed
        "apply": (StateStore, "apply"),  # before the N-th step's transaction is written (in its group)
        "deliver": (LogFiles, "deliver"),  # the N-th group committed, its log lines not yet delivered
        "log": (adapters.store.outbox, "_append"),  # before the N-th JSON-lines log line is written
        "release": (StateLock, "release"),  # the summary printed, before the lock is released
    }


def pause_at(name: str, count: int) -> None:
    """Make the process's ``count``-th call of the function ``name`` wait for the parent first."""
    owner, attribute = _points()[name]
    real = getattr(owner, attribute)
    taken = 0

    def pausing_once(*args: Any, **kwargs: Any) -> Any:
        nonlocal taken
        taken += 1
        if taken == count:
            print(PAUSED, name, count, file=sys.stderr, flush=True)
            sys.stdin.readline()  # a signal arrives here; a line or EOF goes on
        return real(*args, **kwargs)

    setattr(owner, attribute, pausing_once)


def main(argv: list[str]) -> None:
    # Ctrl-C as a terminal delivers it, even when the suite was started in the background,
    # where a shell makes children ignore SIGINT (the test would then prove nothing).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    small_groups()
    name, count = argv[0].split()
    pause_at(name, int(count))
    sys.argv = [sys.argv[0], *argv[1:]]
    runpy.run_module("engine.cli", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
