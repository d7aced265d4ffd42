"""``rulebot paper`` (or ``rulebot run --paper``) that SIGKILLs itself at a chosen point (a test hook).

    python -m tests.lifecycle.paper_crash_child DIE_AT ARGS...
    python -m tests.lifecycle.paper_crash_child --chain REFERENCE_LOGS POINT[,POINT...] ARGS...

The first form runs ``rulebot ARGS...`` exactly as ``python -m engine.cli`` does, but dies
as the DIE_AT-th SQL statement of the process starts (see tests/state/crash_child.py), so
test_paper_crash.py kills it at a chosen point of the migrations, the start-up or a step's
transaction on any machine — a kill after a sleep lands anywhere, even before the database
exists.

The second form (test_paper_exactly_once.py) kills a whole chain of runs, one per POINT,
each resuming from what the previous one left: it imports rulebot once and forks one run
per point (a fresh process as far as the state, the logs and the lock can tell, without
paying the imports fifty times). A point is counted from the run's start:

- ``sql:N``     as the N-th SQL statement starts;
- ``commit:N``  just after the N-th COMMIT: at the next SQL statement or log write;
- ``write:N:C`` in the N-th log line written, after its first C bytes (0: before it).

After each kill it checks that every log is a byte prefix of the uninterrupted run's
(REFERENCE_LOGS): nothing written twice, nothing out of order, at any instant (tasks.jsonl
compared whole line by whole line with its wall-clock durations zeroed, see
tests.lifecycle.processes.comparable). ARGS may be `paper …` or `run --paper …`; both forms
commit the bot's steps in groups of tests.lifecycle.processes.GROUP_STEPS (small_groups), so
a kill at the N-th statement or COMMIT falls at a known step. It prints
one line per point, ``killed POINT`` or ``survived POINT <status>``, and exits 0 when every
run was killed. Nothing in the engine knows about any of this.
"""

from __future__ import annotations

import importlib
import os
import runpy
import signal
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from tests.lifecycle.processes import comparable, small_groups
from tests.state.crash_child import die_at_statement

# what `rulebot paper` imports, imported once before the forks
PRELOADED = (
    "engine.cli.app",
    "engine.cli.paper",
    "engine.cli.run",
    "engine.bot.loop",
    "engine.trading.runner",
    "adapters.store.outbox",
    "adapters.paper.broker",
    "adapters.snapshots.columnar",
)
TAIL = 1 << 16  # bytes of each log compared with the reference after a kill (its end: what a crash touches)


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def die_at_point(point: str) -> None:
    """Arm the kill of ``point`` (see the module docstring) in this process."""
    import adapters.store.outbox as outbox

    kind, *numbers = point.split(":")
    target = int(numbers[0])
    counts = {"sql": 0, "commit": 0, "write": 0}
    armed = False  # commit: the N-th COMMIT has started; the next event kills

    def statement(sql: str) -> None:
        nonlocal armed
        if armed:
            _die()
        counts["sql"] += 1
        if kind == "sql" and counts["sql"] == target:
            _die()
        if sql.strip().upper() == "COMMIT":
            counts["commit"] += 1
            armed = kind == "commit" and counts["commit"] == target

    real_connect: Callable[..., sqlite3.Connection] = sqlite3.connect

    def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        conn = real_connect(*args, **kwargs)
        conn.set_trace_callback(statement)
        return conn

    real_append = outbox._append

    def append(file: BinaryIO, data: bytes) -> None:
        if armed:
            _die()
        counts["write"] += 1
        if kind == "write" and counts["write"] == target:
            file.write(data[: min(int(numbers[1]), len(data))])
            file.flush()
            _die()
        real_append(file, data)

    sqlite3.connect = connect  # type: ignore[assignment]
    outbox._append = append  # type: ignore[assignment]


def _logs(args: list[str]) -> Path:
    return Path(args[args.index("--logs") + 1])


def _prefix_problems(logs: Path, reference: Path) -> list[str]:
    """The logs that are not a byte prefix of the reference's (their end is compared)."""
    problems = []
    for expected in sorted(reference.glob("*.jsonl")):
        path = logs / expected.name
        if not path.exists():
            continue
        if expected.name.startswith("tasks."):
            whole = path.read_bytes()
            whole = whole[: whole.rfind(b"\n") + 1]  # a torn last line is cut by the restart
            got, want = comparable(path.name, whole), comparable(path.name, expected.read_bytes())
            if not want.startswith(got):
                problems.append(f"{path.name} ({len(whole)} bytes) is not a prefix of the uninterrupted run's")
            continue
        size = path.stat().st_size
        start = max(0, size - TAIL)
        with open(path, "rb") as got_file, open(expected, "rb") as want_file:
            got_file.seek(start)
            want_file.seek(start)
            if size > expected.stat().st_size or got_file.read() != want_file.read(size - start):
                problems.append(f"{path.name} ({size} bytes) is not a prefix of the uninterrupted run's")
    return problems


def chain(reference: Path, points: list[str], args: list[str]) -> int:
    for module in PRELOADED:
        importlib.import_module(module)
    small_groups()

    failed = 0
    for point in points:
        pid = os.fork()
        if pid == 0:  # the run: armed, then rulebot as `python -m engine.cli` runs it
            try:
                die_at_point(point)
                sys.argv = ["rulebot", *args]
                runpy.run_module("engine.cli", run_name="__main__", alter_sys=True)
            except SystemExit as end:
                os._exit(end.code if isinstance(end.code, int) else 1)
            except BaseException:
                os._exit(70)
            os._exit(0)
        _, status = os.waitpid(pid, 0)
        killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        problems = _prefix_problems(_logs(args), reference)
        print("killed" if killed else "survived", point, "" if killed else status, *problems, flush=True)
        failed += not killed or bool(problems)
    return 1 if failed else 0


def main(argv: list[str]) -> None:
    if argv[0] == "--chain":
        sys.exit(chain(Path(argv[1]), argv[2].split(","), argv[3:]))
    small_groups()
    die_at_statement(int(argv[0]))
    sys.argv = [sys.argv[0], *argv[1:]]
    runpy.run_module("engine.cli", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
