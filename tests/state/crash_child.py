"""The process test_crash.py kills: applies lifecycle steps to a store until told to stop.

    python -m tests.state.crash_child DB UNTIL [DIE_AT]

It resumes after the step in cursor ``step``, replaying that step first (harmless by
design, and what a careful caller does when unsure the last write landed), prints
``ready <step>`` once the store is open, then applies steps up to UNTIL and exits 0.

With DIE_AT it SIGKILLs itself as the DIE_AT-th SQL statement of the process starts
(counted from opening the database: migrations, reads, BEGIN, each write, COMMIT), so a
crash lands at a chosen point of start-up, migration, replay or a transaction whatever
the machine's speed; the statement and everything after it never happen.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import sys
from collections.abc import Callable
from typing import Any

from adapters.store.state import StateStore

from .lifecycle import transition


def die_at_statement(n: int) -> None:
    """Every connection opened from now on SIGKILLs the process as its ``n``-th statement starts."""
    real_connect: Callable[..., sqlite3.Connection] = sqlite3.connect
    started = 0

    def count(statement: str) -> None:
        nonlocal started
        started += 1
        if started == n:
            os.kill(os.getpid(), signal.SIGKILL)

    def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        conn = real_connect(*args, **kwargs)
        conn.set_trace_callback(count)
        return conn

    sqlite3.connect = connect  # type: ignore[assignment]


def main(db: str, until: int) -> None:
    with StateStore(db) as store:
        done = int(store.cursor("step") or 0)
        if done:
            store.apply(transition(done))
        print("ready", done, flush=True)
        for step in range(done + 1, until + 1):
            store.apply(transition(step))


if __name__ == "__main__":
    if len(sys.argv) > 3:
        die_at_statement(int(sys.argv[3]))
    main(sys.argv[1], int(sys.argv[2]))
