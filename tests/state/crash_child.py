"""The process test_crash.py kills: applies lifecycle steps to a store until told to stop.

    python -m tests.state.crash_child DB UNTIL

It resumes after the step in cursor ``step``, replaying that step first (harmless by
design, and what a careful caller does when unsure the last write landed), prints
``ready <step>`` once the store is open, then applies steps up to UNTIL and exits 0.
"""

from __future__ import annotations

import sys

from adapters.store.state import StateStore

from .lifecycle import transition


def main(db: str, until: int) -> None:
    with StateStore(db) as store:
        done = int(store.cursor("step") or 0)
        if done:
            store.apply(transition(done))
        print("ready", done, flush=True)
        for step in range(done + 1, until + 1):
            store.apply(transition(step))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
