"""logs/reloads.jsonl: one line per reload attempt, flushed and fsynced as it is written.

A reload is not part of any state transaction (it changes no trading state), so its line
cannot ride the outbox; it is made durable on its own before the loop goes on.
"""

from __future__ import annotations

import os

from adapters.store.jsonl import JsonlLog
from engine.bot.reload import ReloadOutcome, reload_record


class ReloadLog:
    """Appends ``reload_record(outcome)`` lines to ``path`` (logs/reloads.jsonl)."""

    def __init__(self, path: str | os.PathLike[str]):
        self._log = JsonlLog(path, fsync=True)

    def record(self, outcome: ReloadOutcome) -> None:
        """One attempt's line; for a changed outcome, write it after the swap (it says applied)."""
        self._log.write(reload_record(outcome))

    def close(self) -> None:
        self._log.close()

    def __enter__(self) -> ReloadLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
