"""Stands in for the bot's loop in the control and status tests: holds ``<state>/bot.db``'s
lock, prints READY, and until ``<state>/stop`` appears, each turn:

- ``ack``: takes the operator's commands and applies them as the loop does (engine/bot/control.py:
  ``apply_command``, recorded, then acknowledged);
- ``deaf``: holds the lock and reads no command (a `rulebot paper` run);
- ``write``: records a heartbeat and a task run, counting the writes and SQLITE_BUSY failures.

At the end it prints one JSON line: {"writes": n, "busy": n}.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from adapters.store.lock import StateLock
from adapters.store.state import StateError, StateStore
from engine.bot.control import acknowledge, apply_command, current_state, recorded_conditions, take_commands
from engine.bot.records import BotRecords
from engine.bot.tasks.base import TaskRun


def main(state: Path, mode: str) -> None:
    writes = busy = 0
    with StateLock(state / "bot.db", command=f"holder_child {mode}"), StateStore(state / "bot.db") as store:
        if mode == "write":  # any lock a reader took would fail a write at once, not after a wait
            store._db.execute("PRAGMA busy_timeout = 0")
        print("READY", flush=True)
        while not (state / "stop").exists():
            now = time.time()
            if mode == "ack":
                for command in take_commands(state):
                    changes = store.state_changes()
                    records, outcome = apply_command(
                        command,
                        now,
                        store.active_overrides(now),
                        current_state(changes),
                        recorded_conditions(changes),
                        seen=store.has_override(command.id),
                    )
                    store.record_bot(records)
                    acknowledge(state, command, outcome)
            elif mode == "write":
                run = TaskRun("job-watchdog", "watchdog", now, now, 0.001, "ok", f"write {writes}")
                try:
                    store.record_bot(BotRecords(task_runs=(run,), heartbeats=(("loop", now),)))
                    writes += 1
                except StateError as error:
                    if "locked" not in str(error) and "busy" not in str(error):
                        raise
                    busy += 1
            time.sleep(0.01)  # a polling turn, like the loop's cycle; nothing waits on it
    print(json.dumps({"writes": writes, "busy": busy}), flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2])
