"""The tail feed (``--feed tail:FILE``): a real-time feed following a JSON-lines snapshot
file as another process appends to it (``rulebot snapshots``, a venue recorder).

It gives the complete lines already in the file first, then each line as it is completed;
a line without its final newline is a writer mid-append and waits. Waiting is
``wake.wait(poll_s)`` between one read and one stat() of the file — no busy loop, so an
idle bot costs next to no CPU. The file may not exist yet; when it is truncated or replaced
(another inode: rotation, delete-and-create) it is read again from its beginning. Lines
mean what they mean in a snapshot file (adapters.snapshots.files.parse_line); a bad line
or one going back in time is a problem in ``problems`` (the first ones; all are logged) and
skipped, never an exception.
A truncation immediately followed by writing past the old size is not seen (as with
``tail -F``): writers rotate or replace, they do not rewrite in place."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from typing import BinaryIO

from adapters.snapshots.files import not_after, parse_line
from engine.language.diagnostics import Diagnostic
from engine.market.snapshot import Snapshot

logger = logging.getLogger(__name__)

_CHUNK = 1 << 20  # bytes read per step: a large existing file is not held whole
_LINES = 1000  # complete lines read ahead; more are read as these are given
KEPT_PROBLEMS = 100  # a bot runs for months: the first problems are kept, the rest only logged and counted


class TailFeed:
    """Snapshots appended to the JSON-lines file ``path``, as they come; never ends."""

    realtime = True

    def __init__(self, path: str, *, poll_s: float = 0.25):
        if path.endswith((".gz", ".parquet")):
            kind = "gzip" if path.endswith(".gz") else "columnar (.parquet)"
            raise ValueError(
                f"tail:{path}: a {kind} snapshot file cannot be followed as it grows; "
                "tail a .jsonl file, or replay this one (replay:FILE)"
            )
        if poll_s <= 0:
            raise ValueError(f"tail:{path}: poll_s must be positive, not {poll_s!r}")
        self.path = path
        self.name = "tail:" + path
        self.poll_s = poll_s
        self.problems: list[Diagnostic] = []  # the first KEPT_PROBLEMS; every one is logged
        self.problems_dropped = 0  # problems logged but not kept
        self._handle: BinaryIO | None = None
        self._identity: tuple[int, int] | None = None  # (st_dev, st_ino) of the open file
        self._offset = 0  # bytes read from the open file, the partial line included
        self._partial = b""  # the start of a line whose newline has not been written yet
        self._lines: deque[tuple[int, bytes]] = deque()  # complete lines not yet parsed
        self._number = 0  # line number of the last complete line read
        self._last_ts = float("-inf")  # of the last snapshot given, across restarts
        self._waiting_logged = False

    @property
    def ended(self) -> bool:
        return False

    def next(self, wake: threading.Event, timeout_s: float | None) -> Snapshot | None:
        """The next complete snapshot of the file; None when ``timeout_s`` passed with
        nothing new or ``wake`` was set. Lines already there are given without waiting
        (``wake`` interrupts a wait, it does not hide what has arrived)."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while True:
            snapshot = self._take()
            if snapshot is not None:
                return snapshot
            if wake.is_set():
                return None
            if deadline is None:
                wait = self.poll_s
            else:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                wait = min(self.poll_s, left)
            if wake.wait(wait):
                return None

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
        self._handle, self._identity = None, None

    # ------------------------------------------------------------------ reading

    def _take(self) -> Snapshot | None:
        """The first good snapshot among the lines read so far, reading what the file has
        gained (and noticing it replaced or truncated) when none is left."""
        while True:
            while self._lines:
                number, raw = self._lines.popleft()
                snapshot = self._parse(number, raw)
                if snapshot is not None:
                    return snapshot
            self._read()
            if not self._lines:
                return None

    def _parse(self, number: int, raw: bytes) -> Snapshot | None:
        if not raw.strip():
            return None
        snapshot, found = parse_line(raw, self.path, number)
        if snapshot is not None and snapshot.ts <= self._last_ts:
            found.append(not_after(snapshot.ts, self._last_ts, self.path, number))
            snapshot = None
        for problem in found:
            logger.warning("%s:%d: %s %s; skipped", problem.file, problem.line, problem.code, problem.message)
        room = max(0, KEPT_PROBLEMS - len(self.problems))
        self.problems.extend(found[:room])
        self.problems_dropped += len(found) - len(found[:room])
        if snapshot is not None:
            self._last_ts = snapshot.ts
        return snapshot

    def _read(self) -> None:
        """Reads what the file has gained into complete lines, checking the file at the
        path first: a new one is opened from its start."""
        self._follow()
        while self._handle is not None and len(self._lines) < _LINES:
            chunk = self._handle.read(_CHUNK)
            if not chunk:
                return
            self._offset += len(chunk)
            self._split(chunk)

    def _split(self, chunk: bytes) -> None:
        *complete, self._partial = (self._partial + chunk).split(b"\n")
        for raw in complete:
            self._number += 1
            self._lines.append((self._number, raw))

    def _follow(self) -> None:
        """Opens the file when it appears; reopens it from the start when the path now
        names another file, and rereads it when it shrank below what was read."""
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            if self._handle is None and not self._waiting_logged:
                logger.info("%s: %s does not exist yet; waiting for it", self.name, self.path)
                self._waiting_logged = True
            return  # a replaced file's old handle is still read to its end meanwhile
        except OSError as error:
            logger.warning("%s: cannot stat %s: %s", self.name, self.path, error.strerror or error)
            return
        identity = (stat.st_dev, stat.st_ino)
        if self._handle is not None and identity == self._identity:
            if stat.st_size < self._offset:
                logger.warning(
                    "%s: %s shrank from %d to %d bytes (truncated); reading it again from its beginning",
                    self.name,
                    self.path,
                    self._offset,
                    stat.st_size,
                )
                self._handle.seek(0)
                self._restart()
            return
        if self._handle is not None:
            self._drain()
            logger.warning("%s: %s was replaced by another file; reading it from its beginning", self.name, self.path)
            self.close()
        self._open(identity)

    def _drain(self) -> None:
        """The complete lines the old file gained before it was replaced are still given."""
        assert self._handle is not None
        self._split(self._handle.read())

    def _open(self, identity: tuple[int, int]) -> None:
        try:
            handle = open(self.path, "rb")  # noqa: SIM115 - held open across calls, closed by close()
        except OSError as error:
            logger.warning("%s: cannot open %s: %s", self.name, self.path, error.strerror or error)
            return
        actual = os.fstat(handle.fileno())
        self._handle, self._identity = handle, (actual.st_dev, actual.st_ino)
        if self._identity != identity:
            logger.debug("%s: %s was replaced while being opened", self.name, self.path)
        self._restart()
        self._waiting_logged = False
        logger.info("%s: following %s", self.name, self.path)

    def _restart(self) -> None:
        self._offset, self._partial, self._number = 0, b"", 0
