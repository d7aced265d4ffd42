"""The scheduler: jobs due at their UTC-aligned times, a jump of the clock runs a job once
with the skipped runs counted, and the integer shortcut agrees with stepping run by run."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.bot.scheduler import Scheduler

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
    scheduler = Scheduler(Spec((Job("m", every_s=60.0),)), 1_700_000_000.0)  # first run at the next whole minute
    first = scheduler.due(1_700_000_040.0)
    assert [(d.scheduled_ts, d.missed) for d in first] == [(1_700_000_040.0, 0)]
    assert scheduler.due(1_700_000_070.0) == []
    jumped = scheduler.due(1_700_000_400.0)  # runs at :100 … :400 collapse into one
    assert [(d.scheduled_ts, d.missed) for d in jumped] == [(1_700_000_100.0, 5)]
    assert scheduler.due(1_700_000_459.0) == [] and len(scheduler.due(1_700_000_460.0)) == 1


def test_a_daily_job_runs_at_its_minute_on_its_weekdays():
    monday_0700 = 4 * DAY + 7 * 3600  # 1970-01-05 was a Monday
    scheduler = Scheduler(Spec((Job("d", at_minute=420, weekdays=(0,)),)), monday_0700 - 60)
    assert [d.scheduled_ts for d in scheduler.due(monday_0700)] == [monday_0700]
    assert scheduler.due(monday_0700 + DAY) == []  # Tuesday
    assert [d.scheduled_ts for d in scheduler.due(monday_0700 + 7 * DAY)] == [monday_0700 + 7 * DAY]


@settings(deadline=None)  # stepping up to 10**6 / every runs is slow on a busy machine, not wrong
@given(
    every=st.integers(1, 7200),
    start=st.integers(1_600_000_000, 1_800_000_000),
    jump=st.integers(0, 10**6),
    fraction=st.sampled_from([0.0, 0.25, 0.5]),
)
def test_the_integer_shortcut_agrees_with_stepping_run_by_run(every, start, jump, fraction):
    job = Job("j", every_s=float(every))
    scheduled = Scheduler._first(job, float(start))
    now = scheduled + jump + fraction
    assert Scheduler._after(job, scheduled, now) == _stepping(job, scheduled, now)


def _jobs():
    every = st.builds(
        lambda i, e: Job(f"e{i}", every_s=e),
        st.integers(0, 99),
        st.one_of(st.sampled_from([60.0, 300.0, 3600.0]), st.integers(1, 7200).map(float), st.floats(0.5, 5000.0)),
    )
    daily = st.builds(
        lambda i, m, w: Job(f"d{i}", at_minute=m, weekdays=tuple(sorted(set(w)))),
        st.integers(0, 99),
        st.integers(0, 1439),
        st.lists(st.integers(0, 6), max_size=3),
    )
    return st.lists(st.one_of(every, daily), min_size=1, max_size=4, unique_by=lambda j: j.id)


@settings(deadline=None, max_examples=150)
@given(
    jobs=_jobs(),
    start=st.integers(1_600_000_000, 1_800_000_000),
    gaps=st.lists(
        st.one_of(st.sampled_from([60, 300]), st.integers(1, 20_000), st.floats(0.1, 50_000.0)),
        min_size=1,
        max_size=300,
    ),
)
def test_due_rows_are_the_rows_where_stepping_due_returns_each_job(jobs, start, gaps):
    """The bulk form (the dry-run fast path) against calling due() at every time: the same
    rows for every job, integer clocks and fractional ones, and the same state afterwards."""
    import numpy as np

    times = np.cumsum([float(start)] + list(gaps))
    stepped, bulk = Scheduler(Spec(tuple(jobs)), float(start) - 7.0), Scheduler(Spec(tuple(jobs)), float(start) - 7.0)
    expected: dict[str, list[int]] = {}
    for row, now in enumerate(times.tolist()):
        for due in stepped.due(now):
            expected.setdefault(due.job_id, []).append(row)
    got = bulk.due_rows(times)
    assert {k: v.tolist() for k, v in got.items()} == expected
    later = float(times[-1]) + 86_400 * 8
    assert [(d.job_id, d.scheduled_ts) for d in bulk.due(later)] == [
        (d.job_id, d.scheduled_ts) for d in stepped.due(later)
    ]


def _within(seconds: float, call):
    """``call()``, failed (TimeoutError) if it runs longer than ``seconds``: a catch-up that
    spins must fail the test, not hang the suite."""
    import signal

    def expire(*_):
        raise TimeoutError(f"still running after {seconds}s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return call()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_a_clock_decades_ahead_is_caught_up_at_once_with_every_skipped_run_counted():
    """From 2025 to 2099 in one jump: the skipped runs are counted arithmetically (a
    fractional clock once stepped through them one by one: 39 million minutes)."""
    start = 1_748_131_200.0  # 2025-05-25, a Sunday
    now = start + 74 * 365 * DAY + 0.5
    minute = Job("m", every_s=60.0)
    scheduled = Scheduler._first(minute, start)
    assert _within(2, lambda: Scheduler._after(minute, scheduled, now)) == (
        start + 74 * 365 * DAY + 60,
        74 * 365 * 1440,
    )
    mondays = Job("d", at_minute=420, weekdays=(0,))
    scheduled = Scheduler._first(mondays, start)  # Monday 2025-05-26 07:00
    following, missed = _within(2, lambda: Scheduler._after(mondays, scheduled, now))
    assert (following - scheduled) % (7 * DAY) == 0 and following > now >= following - 7 * DAY
    assert missed == round((following - scheduled) / (7 * DAY)) - 1


@settings(deadline=None, max_examples=100)
@given(
    job=_jobs().map(lambda jobs: jobs[0]), start=st.integers(1_600_000_000, 1_800_000_000), periods=st.floats(0, 400)
)
def test_catching_up_whole_periods_at_once_agrees_with_stepping_run_by_run(job, start, periods):
    """Up to 400 intervals (an `every` job) or weeks (an `at` job) skipped: the same next
    run and the same count as the reference, which steps through them one by one."""
    scheduled = Scheduler._first(job, float(start))
    now = scheduled + periods * (job.every_s or 7 * DAY)
    assert Scheduler._after(job, scheduled, now) == _stepping(job, scheduled, now)


def test_a_clock_beyond_float_precision_is_refused_not_spun_on():
    """At 1e300 adding a microsecond no longer moves the clock: the catch-up loop used to
    spin forever there (a snapshot ts of 1e300 hung dry-run). Readers refuse such times
    now; the scheduler still refuses to loop on them."""
    daily = Job("d", at_minute=0)
    with pytest.raises(ValueError):
        _within(2, lambda: Scheduler._after(daily, 1e300, 2e300))
