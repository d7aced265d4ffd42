"""The declared schedules (schedules.yaml) driven by a clock that is passed in: the wall
clock live, the snapshots' time in dry-run. Pure: ``due(now)`` says which jobs run now, and
``due_rows(times)`` says it for a whole recorded clock at once (the dry-run fast path)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import numpy as np

if TYPE_CHECKING:  # the compiled schedules the plan carries; only their fields are read here
    from engine.language.kinds.schedules import Job, Spec

DAY = 86400.0
WEEK = 7 * DAY


def _next_every(every_s: float, after: float) -> float:
    """The first multiple of the interval (UTC-aligned) at or after ``after``."""
    return math.ceil(after / every_s) * every_s


def _next_at(minute: int, weekdays: tuple[int, ...], after: float) -> float:
    """The next ``minute`` of a UTC day (on an allowed weekday) at or after ``after``."""
    day = math.floor(after / DAY) * DAY
    for offset in range(8):
        candidate = day + offset * DAY + minute * 60
        weekday = (int((day + offset * DAY) // DAY) + 3) % 7  # 1970-01-01 was a Thursday
        if candidate >= after and (not weekdays or weekday in weekdays):
            return candidate
    raise ValueError("no allowed weekday")  # unreachable: weekdays come validated


@dataclass
class _Slot:
    job: Job
    next_ts: float
    missed: int = 0


@dataclass(frozen=True, slots=True)
class Due:
    job_id: str
    tasks: tuple[str, ...]
    scheduled_ts: float
    missed: int  # runs collapsed into this one because the clock jumped over them


class Scheduler:
    def __init__(self, spec: Spec, start_ts: float) -> None:
        self._slots = [_Slot(job, self._first(job, start_ts)) for job in spec.jobs]

    @staticmethod
    def _first(job: Job, after: float) -> float:
        if job.every_s is not None:
            return _next_every(job.every_s, after)
        # the schema's oneOf gives every job exactly one of `every` and `at`: no interval means a time of day
        return _next_at(cast(int, job.at_minute), job.weekdays, after)

    def due(self, now: float) -> list[Due]:
        """Jobs due at ``now``; a job the clock skipped several times runs once (missed counted)."""
        out: list[Due] = []
        for slot in self._slots:
            if slot.next_ts > now:
                continue
            scheduled = slot.next_ts
            slot.next_ts, missed = self._after(slot.job, scheduled, now)
            out.append(Due(slot.job.id, slot.job.tasks, scheduled, missed))
        return out

    def upcoming(self) -> dict[str, float]:
        """Each job's next run (job id → epoch s), as ``due`` will see it."""
        return {slot.job.id: slot.next_ts for slot in self._slots}

    def next_ts(self) -> float:
        """The soonest next run of any job (inf with no job): how long a real-time loop may sleep."""
        return min((slot.next_ts for slot in self._slots), default=math.inf)

    def due_rows(self, times: np.ndarray) -> dict[str, np.ndarray]:
        """For an ascending clock ``times``, the rows at which each job is due: exactly the
        rows where calling ``due`` at every time in turn would return it (and the scheduler
        is left as those calls would leave it). Jobs never due are absent (ids are unique)."""
        times = np.asarray(times, dtype=float)
        rows = {slot.job.id: self._slot_rows(slot, times) for slot in self._slots}
        return {job_id: r for job_id, r in rows.items() if len(r)}

    def _slot_rows(self, slot: _Slot, times: np.ndarray) -> np.ndarray:
        first = int(np.searchsorted(times, slot.next_ts, side="left"))
        if first == len(times):
            return np.empty(0, dtype=np.int64)
        every = slot.job.every_s
        whole = times[first:]
        if (
            every is not None
            and every == int(every)
            and slot.next_ts == int(slot.next_ts)
            and bool(np.all(whole == np.floor(whole)))
        ):
            # after a run at ``now`` the next is at the following multiple: due where the
            # count of whole intervals moves on (the integer shortcut of ``_after``, at once)
            runs = whole.astype(np.int64) // int(every)
            rows = first + np.concatenate(([0], 1 + np.flatnonzero(runs[1:] != runs[:-1])))
            slot.next_ts = float((int(times[rows[-1]]) // int(every) + 1) * int(every))
            return rows
        stepped: list[int] = []
        i = first
        while i < len(times):
            stepped.append(i)
            slot.next_ts, _ = self._after(slot.job, slot.next_ts, float(times[i]))
            i = int(np.searchsorted(times, slot.next_ts, side="left"))
        return np.array(stepped, dtype=np.int64)

    @classmethod
    def _after(cls, job: Job, scheduled: float, now: float) -> tuple[float, int]:
        """The next run after ``now`` and how many runs after ``scheduled`` the clock skipped.

        Whole-second intervals at a whole-second clock are counted in integers (a replay of
        5-minute snapshots skips four runs of a 60 s job every cycle); anything else skips
        whole periods at once and steps through the last few runs. ValueError rather than a
        loop that never ends when a step no longer moves the clock (a time like 1e300)."""
        every = job.every_s
        if every is not None and every == int(every) and now == int(now) and scheduled == int(scheduled):
            step, first, last = int(every), int(scheduled) // int(every), int(now) // int(every)
            return float((max(last, first) + 1) * step), max(0, last - first)
        following, missed = cls._skip_periods(job, cls._first(job, scheduled + 1e-6), now)
        while following <= now:
            later = cls._first(job, following + 1e-6)
            if not later > following:  # a clock beyond float precision: never loop on it
                raise ValueError(f"cannot schedule after {now!r}: the time is too large to step through")
            missed += 1
            following = later
        return following, missed

    @staticmethod
    def _skip_periods(job: Job, following: float, now: float) -> tuple[float, int]:
        """Jump over all but the last whole periods between a run at ``following`` and ``now``
        (an ``every`` job repeats each interval, an ``at`` job each week: a calendar week has
        the same runs as any other), so the stepping after it takes a few steps, not one per
        run: a clock that jumps years ahead must not catch them up one day at a time."""
        period = job.every_s if job.every_s is not None else WEEK
        skipped = math.floor((now - following) / period) - 1
        if skipped <= 0:
            return following, 0
        if job.every_s is not None:  # runs are multiples of the interval: stay on them exactly
            return (round(following / period) + skipped) * period, skipped
        return following + skipped * WEEK, skipped * (len(set(job.weekdays)) or 7)
