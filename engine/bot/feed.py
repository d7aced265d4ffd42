"""Where the running bot's market snapshots come from: a Feed. Replay feeds (snapshot files,
`--feed replay:FILE…`) give recorded snapshots in time order and end; real-time feeds
(`--feed tail:FILE`, and the venue feeds of the venues issue) give snapshots as they are
made and never end. The implementations live in adapters/feeds/."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from engine.language.diagnostics import Diagnostic
    from engine.market.snapshot import Snapshot


class Feed(Protocol):
    realtime: bool  # True: the wall clock drives the schedules; False: the snapshots' time does
    name: str  # how the operator named it (`replay:FILE…`, `tail:FILE`), for logs and status
    problems: list[Diagnostic]  # what could not be read (a snapshot skipped, a file refused)

    @property
    def problems_dropped(self) -> int:
        """Problems logged but not kept in ``problems`` (a feed that runs for months)."""
        ...

    def next(self, wake: threading.Event, timeout_s: float | None) -> Snapshot | None:
        """The next snapshot; None when the feed ended (``ended``), when ``timeout_s`` passed
        with nothing new (real time), or when ``wake`` was set."""
        ...

    @property
    def ended(self) -> bool: ...

    def close(self) -> None: ...
