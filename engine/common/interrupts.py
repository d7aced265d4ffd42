"""Ctrl-C (SIGINT) that stops a replay at once but never cuts its result short.

A command installs a :class:`Guard` for its whole body. While the guard is *live*, SIGINT
raises KeyboardInterrupt as usual, so a long replay stops where it is. Once the work is
done (the replay calls :func:`defer` when its loop ends, however it ends) the guard only
records the signal: computing the result, printing it and writing its files then run to
the end, and the command exits 130 afterwards. Without a guard, :func:`defer` does nothing
and SIGINT behaves as Python's default.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

_active: Guard | None = None


class Guard:
    """Whether SIGINT raises now (live) or is only recorded (deferred), and whether one came."""

    def __init__(self) -> None:
        self.deferred = False
        self.arrived = False
        # Called (in the signal handler) whenever SIGINT arrives: a command whose work stops
        # itself at a safe point (the running bot, after its cycle) is asked to stop here.
        self.on_arrival: Callable[[], None] | None = None

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.arrived = True
        if self.on_arrival is not None:
            self.on_arrival()
        if not self.deferred:
            # One KeyboardInterrupt is enough to stop the work; a second Ctrl-C while the
            # interrupted work is being wrapped up must not cut the wrapping-up short.
            self.deferred = True
            raise KeyboardInterrupt

    def live(self) -> None:
        """Let SIGINT raise again: a further piece of work starts, unless Ctrl-C came while
        deferred, which stops it before it starts (and, as in the handler, leaves further
        Ctrl-C deferred, so the stopped work is wrapped up whole)."""
        if self.arrived:
            raise KeyboardInterrupt
        self.deferred = False


@contextmanager
def guarded() -> Iterator[Guard]:
    """Install a guard on SIGINT for the block; the previous handler is restored after it."""
    global _active
    guard, outer = Guard(), _active
    if threading.current_thread() is not threading.main_thread():  # only it may set handlers
        yield guard
        return
    previous = signal.signal(signal.SIGINT, guard._handle)
    _active = guard
    try:
        yield guard
    finally:
        _active = outer
        signal.signal(signal.SIGINT, previous)


def defer() -> None:
    """The work is done: from now on SIGINT is recorded by the active guard, not raised."""
    if _active is not None:
        _active.deferred = True
