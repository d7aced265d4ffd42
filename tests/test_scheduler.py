"""The scheduler: jobs due at their UTC-aligned times, a jump of the clock runs a job once
with the skipped runs counted, and the integer shortcut agrees with stepping run by run."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.scheduler import Scheduler

DAY = 86400.0


@dataclass(frozen=True)
class Job:
    id: str
    every_s: float | None = None
    at_minute: int | None = None
    weekdays: tuple[int, ...] = ()
    tasks: tuple[str, ...] = ("t",)


@dataclass(frozen=True)
class Spec:
    jobs: tuple


def _stepping(job, scheduled: float, now: float) -> tuple[float, int]:
    """The reference: run after run."""
    missed, following = 0, Scheduler._first(job, scheduled + 1e-6)
    while following <= now:
        missed += 1
        following = Scheduler._first(job, following + 1e-6)
    return following, missed


def test_a_minute_job_runs_every_minute_and_counts_the_runs_a_jump_skipped():
    scheduler = Scheduler(Spec((Job("m", every_s=60.0),)), 1_700_000_000.0)   # first run at the next whole minute
    first = scheduler.due(1_700_000_040.0)
    assert [(d.scheduled_ts, d.missed) for d in first] == [(1_700_000_040.0, 0)]
    assert scheduler.due(1_700_000_070.0) == []
    jumped = scheduler.due(1_700_000_400.0)                     # runs at :100 … :400 collapse into one
    assert [(d.scheduled_ts, d.missed) for d in jumped] == [(1_700_000_100.0, 5)]
    assert scheduler.due(1_700_000_459.0) == [] and len(scheduler.due(1_700_000_460.0)) == 1


def test_a_daily_job_runs_at_its_minute_on_its_weekdays():
    monday_0700 = 4 * DAY + 7 * 3600        # 1970-01-05 was a Monday
    scheduler = Scheduler(Spec((Job("d", at_minute=420, weekdays=(0,)),)), monday_0700 - 60)
    assert [d.scheduled_ts for d in scheduler.due(monday_0700)] == [monday_0700]
    assert scheduler.due(monday_0700 + DAY) == []               # Tuesday
    assert [d.scheduled_ts for d in scheduler.due(monday_0700 + 7 * DAY)] == [monday_0700 + 7 * DAY]


@settings(deadline=None)       # stepping up to 10**6 / every runs is slow on a busy machine, not wrong
@given(every=st.integers(1, 7200), start=st.integers(1_600_000_000, 1_800_000_000), jump=st.integers(0, 10**6),
       fraction=st.sampled_from([0.0, 0.25, 0.5]))
def test_the_integer_shortcut_agrees_with_stepping_run_by_run(every, start, jump, fraction):
    job = Job("j", every_s=float(every))
    scheduled = Scheduler._first(job, float(start))
    now = scheduled + jump + fraction
    assert Scheduler._after(job, scheduled, now) == _stepping(job, scheduled, now)
