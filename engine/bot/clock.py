"""The bot's clocks. Replay: the time is the snapshots' own, paced at ``speed`` times real
time (None: as fast as possible). Wall: the machine's UTC clock. Waiting is always on an
event, so a stop, an operator command or a reload wakes the loop at once."""

from __future__ import annotations

import threading
import time


class ReplayClock:
    """Simulated time: ``advance(ts)`` moves it to the next snapshot's time, first waiting
    (ts − now) / speed real seconds when a speed is set."""

    realtime = False

    def __init__(self, speed: float | None) -> None:
        if speed is not None and not speed > 0:
            raise ValueError(f"speed must be above 0, got {speed!r}")
        self.speed = speed
        self._now: float | None = None
        self._due_real: float | None = None  # the monotonic instant the next time may start

    def now(self) -> float:
        if self._now is None:
            raise RuntimeError("the replay clock has no time before the first snapshot")
        return self._now

    def advance(self, ts: float, wake: threading.Event) -> bool:
        """Move to ``ts`` (paced); False when ``wake`` interrupted the wait (the time did not move)."""
        if self._now is not None and self.speed is not None and ts > self._now:
            start = self._due_real if self._due_real is not None else time.monotonic()
            target = start + (ts - self._now) / self.speed
            if wake.wait(max(0.0, target - time.monotonic())):
                return False
            self._due_real = max(target, time.monotonic() - 1.0)  # a late machine catches up, never bursts
        self._now = ts if self._now is None else max(self._now, ts)
        return True


class WallClock:
    """Real time (epoch seconds, UTC)."""

    realtime = True
    speed = 1.0

    def now(self) -> float:
        return time.time()

    def sleep_until(self, ts: float, wake: threading.Event) -> bool:
        """Wait until ``ts`` or ``wake``; True when ``wake`` ended the wait."""
        return wake.wait(max(0.0, ts - time.time()))
