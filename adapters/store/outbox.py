"""Exactly-once JSON-lines logs: the run's logs (logs/*.jsonl), written only through the
state store's outbox (adapters/store/state.py ``attach_logs``, ``apply``).

Why it is exactly once, across a kill at any instant:

1. A step's log records are inserted into the ``outbox`` table in the step's own
   transaction, with everything else the step changed: committed together or not at all.
2. After the commit they are appended to their logs, one whole line per ``write``, flushed,
   and each log is fsynced before anything else is committed (so a length recorded later is
   never longer than what the disk holds).
3. The next transaction that writes records first records each log's length in
   ``log_offsets`` — the logs then end exactly after the rows still in the outbox, which
   were all delivered — and replaces those rows with its own.

So the database always says: every log holds, up to its recorded length, exactly the
records of every step before the rows in the outbox, and nothing of those rows or later
steps (a later step is not committed; the rows may be delivered wholly, partly or not at
all). On restart (``attach_logs``, before trading resumes) each log is cut back to its
recorded length — removing whatever part of the outbox's rows had reached it, a torn line
included — and the rows are delivered again. Nothing is lost (the rows are committed) and
nothing is written twice (what reached the log after its recorded length is cut first).

A log shorter than its recorded length lost records the database no longer has: it is
refused (RB806) rather than written to, and nothing is cut or appended.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import BinaryIO

from adapters.store.state import LOG_BEHIND, StateError

logger = logging.getLogger(__name__)


def _append(file: BinaryIO, data: bytes) -> None:
    """One whole line in one write (a test hook replaces it to kill between and inside lines)."""
    file.write(data)
    file.flush()


class LogFiles:
    """The JSON-lines files of a run, by log name (the runner's sink names): opened for
    appending in binary, so what the outbox counts is bytes."""

    def __init__(self, folder: str | os.PathLike[str], files: Mapping[str, str]):
        self.folder = Path(folder)
        self.files = {name: self.folder / f"{stem}.jsonl" for name, stem in files.items()}
        self.names = frozenset(self.files)
        self._open: dict[str, BinaryIO] = {}

    def __enter__(self) -> LogFiles:
        self.folder.mkdir(parents=True, exist_ok=True)
        try:
            for name, path in self.files.items():
                self._open[name] = open(path, "ab")
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        opened, self._open = self._open, {}
        for file in opened.values():
            file.close()

    def lengths(self) -> dict[str, int]:
        """Each log's length in bytes, as written so far."""
        return {name: os.fstat(file.fileno()).st_size for name, file in self._open.items()}

    def restore(self, offsets: Mapping[str, int]) -> None:
        """Cut each log back to its recorded length; refuse (RB806, before any change) when a
        log is shorter than that, or one the database knows is not among these logs."""
        unknown = sorted(set(offsets) - self.names)
        if unknown:
            raise StateError(
                f"the state database records the log(s) {', '.join(unknown)}, which this run does not write; "
                f"nothing was written",
                LOG_BEHIND,
            )
        sizes = self.lengths()
        short = [(name, sizes[name], length) for name, length in sorted(offsets.items()) if sizes[name] < length]
        if short:
            detail = "; ".join(
                f"{self.files[n]} has {size} bytes, {length} were delivered" for n, size, length in short
            )
            raise StateError(
                f"log(s) shorter than the state database records delivering: {detail}. They were cut or "
                f"replaced outside rulebot, or --logs names another folder than the run's; restore them or "
                f"resume with the run's --logs. Nothing was written",
                LOG_BEHIND,
            )
        for name, length in sorted(offsets.items()):
            if sizes[name] > length:
                file = self._open[name]
                logger.info(
                    "cutting %s back from %d to %d bytes (delivered again)", self.files[name], sizes[name], length
                )
                os.ftruncate(file.fileno(), length)
                os.fsync(file.fileno())

    def deliver(self, lines: Sequence[tuple[str, str]]) -> None:
        """Append each line to its log, then make every touched log durable."""
        touched = {}
        for name, text in lines:
            file = self._open[name]
            _append(file, (text + "\n").encode("utf-8"))
            touched[name] = file
        for file in touched.values():
            os.fsync(file.fileno())
