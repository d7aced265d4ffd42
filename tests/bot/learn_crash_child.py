"""``rulebot ARGS`` that SIGKILLs itself just after the first learning cycle that wrote a
learned overlay is audited: the overlay is in the rules folder and the cycle's line in the
audit log, but the cycle's step (and its task runs) is not committed (a test hook).

    python -m tests.bot.learn_crash_child run --paper --learn ...

A restart with the same arguments runs that cycle again (test_run_learn.py). Nothing in the
engine knows about this.
"""

from __future__ import annotations

import os
import runpy
import signal
import sys
from typing import Any

import engine.cli.learning_apply as learning_apply

_audit_cycle = learning_apply.audit_cycle


def _audit_then_die(logs_dir: str, cycle: Any, writes: list[Any]) -> bool:
    appended = _audit_cycle(logs_dir, cycle, writes)
    if any(w.status == learning_apply.APPLIED for w in writes):
        os.kill(os.getpid(), signal.SIGKILL)
    return appended


if __name__ == "__main__":
    learning_apply.audit_cycle = _audit_then_die  # type: ignore[assignment]
    sys.argv = ["rulebot", *sys.argv[1:]]
    runpy.run_module("engine.cli", run_name="__main__", alter_sys=True)
