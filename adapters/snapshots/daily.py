"""Recording a live run's snapshots: ``<folder>/<YYYY-MM-DD>.jsonl.gz``, one file per UTC
day of the snapshots' time, each line written whole by adapters.snapshots.files
SnapshotRecorder (one gzip member per snapshot, fsynced: a crash or Ctrl-C loses at most
the line being written, which the reader then skips as torn). The folder is a recording
`rulebot dry-run FOLDER/*` replays; a restarted recorder appends to the day's file."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from adapters.snapshots.files import SnapshotRecorder
from engine.market.snapshot import Snapshot

logger = logging.getLogger(__name__)

SUFFIX = ".jsonl.gz"


def day_file(folder: str | os.PathLike[str], ts: float) -> Path:
    """The file of the UTC day of ``ts`` in ``folder``."""
    return Path(folder) / f"{time.strftime('%Y-%m-%d', time.gmtime(ts))}{SUFFIX}"


class DailyRecorder:
    """Appends each snapshot to the file of its UTC day in ``folder`` (created when needed)."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self.written = 0
        self._writer: SnapshotRecorder | None = None

    @property
    def path(self) -> Path | None:
        """The file written last (None before the first snapshot)."""
        return None if self._writer is None else self._writer.path

    def append(self, snapshot: Snapshot) -> None:
        """OSError when the snapshot cannot be written (the caller says so and goes on)."""
        path = day_file(self.folder, snapshot.ts)
        if self._writer is None or self._writer.path != path:
            self._writer = SnapshotRecorder(path)
        self._writer.append(snapshot)
        self.written += 1
