"""``rulebot paper`` that SIGKILLs itself at a chosen SQL statement (a test hook).

    python -m tests.lifecycle.paper_crash_child DIE_AT ARGS...

Runs ``rulebot ARGS...`` exactly as ``python -m engine.cli`` does, but dies as the DIE_AT-th
SQL statement of the process starts (see tests/state/crash_child.py), so
test_paper_crash.py kills it at a chosen point of the migrations, the start-up or a step's
transaction on any machine — a kill after a sleep lands anywhere, even before the database
exists. Nothing in the engine knows about it.
"""

from __future__ import annotations

import runpy
import sys

from tests.state.crash_child import die_at_statement


def main(argv: list[str]) -> None:
    die_at_statement(int(argv[0]))
    sys.argv = [sys.argv[0], *argv[1:]]
    runpy.run_module("engine.cli", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
