"""The process test_migration_v3.py kills in the middle of migration 3:

    python -m tests.state.v3_crash_child DB PREFIX

Opens DB with the real migrations and SIGKILLs itself right after executing the first
statement of migration 3 that starts with PREFIX (e.g. ``DROP TABLE fills``), so the
transaction is neither committed nor rolled back by this process.
"""

from __future__ import annotations

import os
import signal
import sys

import adapters.store.state as state


def main(db: str, prefix: str) -> None:
    real = state._statements

    def dying(script: str):
        for statement in real(script):
            yield statement  # the caller executes it before asking for the next
            if script is state._V3 and statement.startswith(prefix):
                os.kill(os.getpid(), signal.SIGKILL)

    state._statements = dying
    state.StateStore(db).close()
    print("migrated without dying: no statement starts with", repr(prefix), flush=True)
    sys.exit(3)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
