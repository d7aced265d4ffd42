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

Days (``StateStore.close_log_day``): between two steps whose snapshots fall on different
UTC days, each log's lines so far become ``<log>.<day>.jsonl.gz`` (gzip, written whole and
byte-for-byte the same when written again) and the log starts again empty; closed days
older than the rules' ``learning.logs.keep`` are deleted (``prune``). The live log is always
``<log>.jsonl``: only closed files are compressed, and only whole ones.
"""

from __future__ import annotations

import gzip
import logging
import os
import re
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import BinaryIO

from adapters.store.state import LOG_BEHIND, StateError

logger = logging.getLogger(__name__)

DAY_FILE = re.compile(r"^(?P<stem>.+)\.(?P<day>\d{4}-\d{2}-\d{2})\.jsonl\.gz$")  # a closed day of a log


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

    def day_file(self, name: str, day: str) -> Path:
        """The closed file of log ``name`` for the UTC day ``day`` (YYYY-MM-DD)."""
        return self.files[name].with_name(f"{self.files[name].stem}.{day}.jsonl.gz")

    def archive(self, day: str) -> list[str]:
        """Write each non-empty log whole into its closed file for ``day`` (durable, replacing a
        file an interrupted close left); returns the names of the logs written. The gzip header
        holds no name or time, so writing the same lines again gives the same bytes."""
        closed = []
        for name, length in sorted(self.lengths().items()):
            if not length:
                continue
            target = self.day_file(name, day)
            partial = target.with_name(target.name + ".partial")
            with open(self.files[name], "rb") as source, open(partial, "wb") as raw:
                with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as packed:
                    shutil.copyfileobj(source, packed, 1 << 20)
                raw.flush()
                os.fsync(raw.fileno())
            os.replace(partial, target)
            closed.append(name)
        if closed:
            _sync_folder(self.folder)
        return closed

    def empty(self, names: Sequence[str]) -> None:
        """Cut the named logs to nothing (their lines are in their closed files)."""
        for name in names:
            file = self._open[name]
            os.ftruncate(file.fileno(), 0)
            os.fsync(file.fileno())

    def prune(self, oldest_kept: str) -> list[Path]:
        """Delete the closed day files of these logs from days before ``oldest_kept``
        (YYYY-MM-DD); returns them. The live logs are never deleted."""
        stems = {path.stem for path in self.files.values()}
        removed = []
        for path in sorted(self.folder.iterdir()):
            match = DAY_FILE.match(path.name)
            if match and match["stem"] in stems and match["day"] < oldest_kept:
                path.unlink(missing_ok=True)
                removed.append(path)
        if removed:
            logger.info("deleted %d closed log file(s) from before %s (learning.logs.keep)", len(removed), oldest_kept)
        return removed


def _sync_folder(folder: Path) -> None:
    """Make renames in ``folder`` durable (a directory fsync, where the OS has one)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
