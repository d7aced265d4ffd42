"""The replay feed (``--feed replay:FILE…``): the recorded snapshots of files, in time order.

It never waits: the replay clock paces the bot, so ``next`` ignores its timeout and its
wake event and simply gives the next snapshot, exactly as ``read_many`` (and so dry-run)
reads them."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence

from adapters.snapshots.columnar import count_snapshots, read_many
from engine.language.diagnostics import Diagnostic
from engine.market.snapshot import Snapshot

logger = logging.getLogger(__name__)


class ReplayFeed:
    """Every valid snapshot of ``paths`` (any snapshot format), in the order given; what
    cannot be read is collected in ``problems``, never raised."""

    realtime = False

    def __init__(self, paths: Sequence[str]):
        self.paths = list(paths)
        self.name = "replay:" + ",".join(self.paths)
        self.problems: list[Diagnostic] = []
        self.problems_dropped = 0  # a replay keeps every problem: its files are finite
        self._snapshots: Iterator[Snapshot] = read_many(self.paths, self.problems)
        self._ended = False

    def next(self, wake: threading.Event, timeout_s: float | None) -> Snapshot | None:
        """The next snapshot, or None once the files are exhausted (then ``ended``)."""
        if self._ended:
            return None
        snapshot = next(self._snapshots, None)
        if snapshot is None:
            self._ended = True
            logger.debug("%s ended", self.name)
        return snapshot

    @property
    def ended(self) -> bool:
        return self._ended

    def count(self) -> int | None:
        """How many snapshots the files hold (for progress), None when any file's is unknown.
        An upper bound: snapshots skipped as invalid or out of order are counted."""
        total = 0
        for path in self.paths:
            found = count_snapshots(path)
            if found is None:
                return None
            total += found
        return total

    def close(self) -> None:
        """Closes the file readers; ``next`` gives None afterwards."""
        close = getattr(self._snapshots, "close", None)
        if close is not None:
            close()
        self._ended = True
