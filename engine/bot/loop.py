"""The running bot: one loop that reads a feed, drives the declared schedules on a clock,
steps the Runner on every bot cycle, runs the other scheduled tasks, applies operator
commands and hot reloads, and records all of it in the state.

The loop is the one place where trading state changes (through the Runner it steps and the
actions the tasks return). Everything outside it reaches it through ``wake``: a snapshot
arriving, a reload ready, an operator command, a stop. Reloads and commands are handled
between cycles, so no evaluation ever sees two plans.

Two ways to run, chosen by the feed:

- **replay** (``feed.realtime`` False): the clock is the snapshots' time, paced by ``--speed``;
  per snapshot the scheduler says what is due, exactly as ``rulebot dry-run`` does, so at any
  speed the trades are dry-run's. At ``--speed max`` steps are committed in groups (one fsync
  per group) with the crash guarantee of one step.
- **real time**: the wall clock drives the schedules; snapshots are queued as they arrive and
  the bot cycle steps those that came since the last cycle. Between due times the loop sleeps
  on ``wake``.

What a restart resumes: every snapshot at or before the run's cursor only warms the features
(the state already holds what it did); task runs, state changes and heartbeats of a cycle are
committed with its step (or, in a cycle without a step, under the bot's own cursor), so a
cycle replayed after a crash records nothing twice.
"""

from __future__ import annotations

import collections
import logging
import math
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

from engine.bot import states
from engine.bot.control import apply_command, current_state
from engine.bot.records import BotRecords, BotStatus, LiftedOverride, Reload, ScheduleEntry, StateChange
from engine.bot.scheduler import Due, Scheduler
from engine.bot.tasks import TASKS, is_loop_task
from engine.bot.tasks.base import (
    BOT_CYCLE,
    Action,
    CancelOrder,
    ExpireOverride,
    ForgetPending,
    OptimizeState,
    OutFile,
    Override,
    PruneLogs,
    RunLearning,
    SetTradingState,
    TaskOutcome,
    TaskRun,
    TradingState,
)
from engine.ports import Transition
from engine.trading.pipeline import Carry
from engine.versions.live import record_live
from engine.versions.model import LIVE

if TYPE_CHECKING:
    from engine.bot.control import Command
    from engine.bot.feed import Feed
    from engine.bot.reload import Reloader, ReloadOutcome
    from engine.language.compiler import Plan
    from engine.market.snapshot import Snapshot
    from engine.trading.runner import Runner

logger = logging.getLogger(__name__)

BOT_CURSOR = "bot_ts"  # the last cycle the bot recorded without a step (replay: a snapshot's time)
RING_S = 86400.0  # how much recent market a reload's new plan is warmed on
GROUP_STEPS = 500  # at --speed max, steps per committed group ...
GROUP_WALL_S = 1.0  # ... or wall seconds, whichever comes first
COMMAND_POLL_S = 1.0  # how often operator commands are looked for (wall seconds)
DAY = 86400.0
RECONCILIATION = "portfolio_reconciliation"  # run again after the live venue reconnects
RECONNECT_JOB = "reconnect"  # the job id its task run is recorded under
RECENT_RUNS = 200  # the task runs tasks see (watchdog streaks, the last fee audit, the digest's failures)


class Host(Protocol):
    """The outside world the loop needs (files, disk, the commands folder), wired by the CLI
    (engine/cli/compose.py): the engine never does this I/O itself."""

    def log_sizes(self) -> dict[str, int]: ...  # file name in the logs folder → bytes

    def disk_free(self) -> int: ...  # free bytes where the state and logs live

    def write_file(self, out: OutFile) -> None: ...  # atomically, under the logs folder

    def prune_logs(self, before_day: str) -> int: ...  # closed day files deleted

    def new_day(self, last_ts: float | None, next_ts: float) -> None: ...  # close a UTC day's logs

    def take_commands(self) -> list[Command]: ...  # operator commands waiting ([] without a folder)

    def acknowledge(self, command: Command, outcome: Mapping[str, Any]) -> None: ...


class Learning(Protocol):
    """The bot's learning (``rulebot run --learn``), wired by the CLI
    (engine/cli/learning_apply.py ``BotLearning``): one cycle of the named learners on the live
    plan, its data from the bot's store, applied through the promotion gate into the rules
    folder and audited; returns what became of each learner's write (``LearnerWrite``:
    ``learner``, ``status``, ``reason``, ``version``, ``promotion``)."""

    def run(self, plan: Plan, store: Any, job: str, learner_ids: Iterable[str], now: float) -> Sequence[Any]: ...


class Clock(Protocol):
    realtime: bool

    def now(self) -> float: ...


@dataclass
class Summary:
    """What one run of the loop did, for the command's closing lines."""

    snapshots: int = 0
    steps: int = 0
    warmed: int = 0
    refused: int = 0
    reloads: int = 0
    task_runs: int = 0
    failed_tasks: int = 0
    stopped: bool = False  # by a signal, before the feed ended
    ended: bool = False  # a replay feed was read to its end


@dataclass
class _Cycle:
    """What one cycle records, gathered as it runs."""

    runs: list[TaskRun] = field(default_factory=list)
    overrides_set: list[Override] = field(default_factory=list)
    overrides_lifted: list[LiftedOverride] = field(default_factory=list)
    state_changes: list[StateChange] = field(default_factory=list)


class Bot:
    """The loop of ``rulebot run``; see the module docstring."""

    def __init__(
        self,
        runner: Runner,
        feed: Feed,
        clock: Any,
        host: Host,
        *,
        group_commits: bool = False,
        on_step: Callable[[], None] | None = None,
        learning: Learning | None = None,
    ) -> None:
        self.runner, self.store = runner, runner.store
        self.learning = learning  # None: the learn task only says learning is off
        self.feed, self.clock, self.host = feed, clock, host
        self.wake = threading.Event()
        self.summary = Summary()
        self.reloader: Reloader | None = None
        self._stop = threading.Event()
        self._group_commits = group_commits
        self._on_step = on_step
        self._group: Any = None
        self._group_steps = 0
        self._group_started = 0.0
        self._sizes: collections.deque[tuple[float, dict[str, int]]] = collections.deque()  # (ts, log sizes)
        self._scheduler: Scheduler | None = None
        self._queue: list[Snapshot] = []  # real time: arrived, not yet stepped
        self._next: Snapshot | None = None  # replay: taken from the feed, its time not yet reached
        self._ring: collections.deque[tuple[int, Snapshot]] = collections.deque()
        self._ring_lock = threading.Lock()
        self._seq = 0
        self._beats: dict[str, float] = {}
        self._recent_runs: collections.deque[TaskRun] | None = None  # the store's last runs, kept as written
        self._last_commands = -math.inf
        self._live_since = time.time()
        stored = self.store.bot_status()  # until this process's first cycle, the last one recorded
        self._last_cycle_ts: float | None = stored.last_cycle_ts if stored is not None else None
        self._schedule_recorded = False  # every job's next run is recorded at the first cycle
        self._recorded: tuple[TradingState, str, str] = current_state(self.store.state_changes(limit=1))
        bot_cursor = self.store.cursor(BOT_CURSOR)
        self._done_ts = runner.cursor if feed.realtime else _latest(runner.cursor, bot_cursor)
        self._promoted: dict[str, Mapping[str, Any]] = {}  # learned version written → the gate's numbers
        self._learned: str | None = None  # replay: a learned version written, the reload to wait for

    # ------------------------------------------------------------------ control from outside

    def stop(self) -> None:
        """Finish the cycle under way, commit, and return from ``run`` (signal-handler safe)."""
        self._stop.set()
        self.wake.set()

    def attach(self, reloader: Reloader) -> None:
        self.reloader = reloader

    def prepare(self, plan: Plan) -> tuple[Any, Any, Carry, int]:
        """For a reload, on the reloader's thread: a pipeline and sanity layer for ``plan``,
        warmed on the recent market the live one has seen in the parts it cannot carry over
        from the live pipeline (``Carry``); the last sequence number warmed."""
        with self._ring_lock:  # the live plan: reloads are one at a time
            recent = list(self._ring)
        pipeline, screen, carry = self.runner.reload_pipeline(plan, (snapshot for _, snapshot in recent))
        return pipeline, screen, carry, recent[-1][0] if recent else 0

    # ------------------------------------------------------------------ the loop

    def run(self) -> Summary:
        """Run until stopped or until a replay feed ends; the last group is committed on the
        way out whatever ends the loop."""
        try:
            while not self._stop.is_set():
                self._between_cycles()
                if self._stop.is_set():
                    break
                if self.feed.realtime:
                    self._realtime_turn()
                    if self.feed.ended:  # a real-time feed ends only when it cannot go on (a venue's fatal error)
                        self.summary.ended = True
                        break
                elif not self._replay_turn():
                    self.summary.ended = True
                    break
            self.summary.stopped = self._stop.is_set() and not self.summary.ended
        finally:
            self._close_group()
        return self.summary

    def _replay_turn(self) -> bool:
        """One snapshot of a replay; False when the feed has ended."""
        if self._next is None:
            self._next = self.feed.next(self.wake, None)
            if self._next is None:
                return False
            if self._stop.is_set():  # a stop that came while the snapshot was read: no new cycle starts
                return True
        if self.clock.speed is not None:
            self._close_group()  # a paced replay waits: nothing stays uncommitted while it does
        if not self.clock.advance(self._next.ts, self.wake):
            return True  # woken: a stop, a reload or a command first; the snapshot waits
        snapshot, self._next = self._next, None
        self._arrived(snapshot)
        if self._scheduler is None:
            self._scheduler = Scheduler(self.runner.plan.schedules, snapshot.ts)
        due = self._scheduler.due(snapshot.ts)
        if self._done_ts is not None and snapshot.ts <= self._done_ts:
            self._warm(snapshot)  # the state already holds this cycle
            return True
        self._cycle(snapshot.ts, due, [snapshot])
        return True

    def _realtime_turn(self) -> None:
        """Wait for a snapshot, a due job or a wake; then run what is due."""
        now = self.clock.now()
        if self._scheduler is None:
            self._scheduler = Scheduler(self.runner.plan.schedules, now)
            # the feed's beat counts from when the bot started listening: a feed that never
            # delivers goes stale (and the watchdog says so) like one that stopped
            self._beats.setdefault("feed", now)
        until = min(self._scheduler.next_ts(), now + COMMAND_POLL_S)
        snapshot = self.feed.next(self.wake, max(0.0, until - now))
        if snapshot is not None:
            self._arrived(snapshot)
            if self.runner.cursor is not None and snapshot.ts <= self.runner.cursor:
                self._warm(snapshot)
            elif not self._queue or snapshot.ts > self._queue[-1].ts:
                self._queue.append(snapshot)
        now = self.clock.now()
        due = self._scheduler.due(now)
        if due:
            queued, self._queue = self._queue, []
            self._cycle(now, due, queued)

    def _arrived(self, snapshot: Snapshot) -> None:
        self.summary.snapshots += 1
        self._beats["feed"] = self.clock.now() if self.feed.realtime else snapshot.ts

    def _warm(self, snapshot: Snapshot) -> None:
        self.runner.warm(snapshot)
        self._remember(snapshot)
        self.summary.warmed += 1

    def _remember(self, snapshot: Snapshot) -> None:
        """Keep the snapshot the live pipeline just took, for a reload to warm its own on."""
        with self._ring_lock:
            self._seq += 1
            self._ring.append((self._seq, snapshot))
            while self._ring and self._ring[0][1].ts < snapshot.ts - RING_S:
                self._ring.popleft()

    # ------------------------------------------------------------------ one cycle

    def _cycle(self, now: float, due: Sequence[Due], snapshots: Sequence[Snapshot]) -> None:
        """The due tasks, then the trading state, then the step of each snapshot (the bot
        cycle) with everything the cycle records committed in the last step's transaction."""
        cycle = _Cycle()
        trading = False
        if snapshots:  # a new UTC day's logs start before anything of the cycle is written
            self._new_day(snapshots[0].ts)
        # The beats of this cycle come before its tasks: the watchdog must see the loop and a
        # live reloader as alive now. Beaten after them, a replay whose snapshots are further
        # apart than the staleness limit (5-minute recordings) would look stale at every run and
        # be reduced to exits only, trading unlike dry-run on the same file.
        self._beats["loop"] = now
        if self.reloader is not None and self.reloader.is_alive():
            self._beats["reloader"] = now
        for job in due:
            for task in job.tasks:
                if task == BOT_CYCLE:
                    trading = True
                elif task in TASKS and not is_loop_task(task):
                    self._run_task(job, task, now, cycle)
        for job in self._after_reconnect(now, due):
            self._run_task(job, RECONCILIATION, now, cycle)
        lifted = {lift.id for lift in cycle.overrides_lifted}  # lifted now: this cycle trades without them
        held = [o for o in self.store.active_overrides(now) if o.id not in lifted]
        self.runner.held = states.held([*held, *cycle.overrides_set])
        self._record_state(now, cycle)
        records = self._records(now, due, cycle)
        if trading and snapshots:
            started = time.monotonic()
            for i, snapshot in enumerate(snapshots):
                self._step(snapshot, records if i == len(snapshots) - 1 else None)
            self._ran(records.task_runs)
            self._overran(BOT_CYCLE, due, time.monotonic() - started)
        else:
            for snapshot in snapshots:
                self._warm(snapshot)
            if records.task_runs or records.state_changes or records.overrides_set or records.overrides_lifted:
                self._apply_bot(now, records)
                self._ran(records.task_runs)

    def _after_reconnect(self, now: float, due: Sequence[Due]) -> list[Due]:
        """Live: the venue answered again after failing, so the books are compared now rather
        than at the next scheduled reconciliation (unless that one is due this cycle)."""
        take = getattr(self.runner.broker, "take_reconnected", None)
        if take is None or not take() or any(RECONCILIATION in d.tasks for d in due):
            return []
        logger.warning("the venue answers again: reconciling now")
        return [Due(RECONNECT_JOB, (RECONCILIATION,), now, 0)]

    def _new_day(self, ts: float) -> None:
        """Close the logs' last UTC day when ``ts`` starts another (between committed steps)."""
        cursor = self.runner.cursor
        if cursor is not None and math.floor(cursor / DAY) != math.floor(ts / DAY):
            self._close_group()
            self.host.new_day(cursor, ts)

    def _step(self, snapshot: Snapshot, records: BotRecords | None) -> None:
        self._new_day(snapshot.ts)
        self._open_group()
        result = self.runner.step(snapshot, bot=records)
        self._remember(snapshot)
        self.summary.steps += 1
        self.summary.refused += len(result.screened.refusals)
        self._group_steps += 1
        if self._group is not None and (
            self._group_steps >= GROUP_STEPS or time.monotonic() - self._group_started >= GROUP_WALL_S
        ):
            self._close_group()
        if self._on_step is not None:
            self._on_step()

    def recent_runs(self) -> list[TaskRun]:
        """The last RECENT_RUNS task runs the store holds, oldest first: read once, then kept
        in step with what the loop writes (``_ran``), instead of read and decoded per task."""
        if self._recent_runs is None:
            self._recent_runs = collections.deque(self.store.task_runs(limit=RECENT_RUNS), maxlen=RECENT_RUNS)
        return list(self._recent_runs)

    def _ran(self, runs: Sequence[TaskRun]) -> None:
        """``runs`` were handed to the store (committed, or in the open group whose reads see
        them): the kept recent runs follow, as the store's own query would."""
        if self._recent_runs is not None:
            self._recent_runs.extend(runs)

    def _apply_bot(self, now: float, records: BotRecords) -> None:
        """A cycle without a step: its records under the bot's cursor (a replay after a crash
        records them once)."""
        self._open_group()
        self.store.apply(Transition(cursors=((BOT_CURSOR, now),), bot=records))

    def _records(self, now: float, due: Sequence[Due], cycle: _Cycle) -> BotRecords:
        self._last_cycle_ts = now
        return BotRecords(
            task_runs=tuple(cycle.runs),
            schedule=self._schedule_entries(now, due),
            state_changes=tuple(cycle.state_changes),
            overrides_set=tuple(cycle.overrides_set),
            overrides_lifted=tuple(cycle.overrides_lifted),
            heartbeats=tuple(sorted(self._beats.items())),
            status=self._status(),
        )

    def _status(self) -> BotStatus:
        return BotStatus(self.runner.plan.version, self._live_since, os.getpid(), self._last_cycle_ts, self._prices())

    def _schedule_entries(self, now: float, due: Sequence[Due]) -> tuple[ScheduleEntry, ...]:
        """The jobs that ran with their next run; at the first cycle (and after a reload that
        changed the schedules) every job, so that status shows each one's next run."""
        upcoming = self._scheduler.upcoming() if self._scheduler is not None else {}
        ran = {job.job_id for job in due}
        if self._schedule_recorded:
            return tuple(ScheduleEntry(job_id, upcoming[job_id], now) for job_id in sorted(ran))
        self._schedule_recorded = True
        last = {entry.job_id: entry.last_ts for entry in self.store.schedule()}
        return tuple(
            ScheduleEntry(job_id, next_ts, now if job_id in ran else last.get(job_id))
            for job_id, next_ts in sorted(upcoming.items())
        )

    def _prices(self) -> dict[str, float]:
        with self._ring_lock:
            last = self._ring[-1][1] if self._ring else None
        if last is None:
            return {}
        prices = {}
        for name, symbol in last.symbols.items():
            price = symbol.get("price") or (symbol.candles[-1].close if symbol.candles else None)
            if price is not None and math.isfinite(price):
                prices[name] = float(price)
        return prices

    def _record_state(self, now: float, cycle: _Cycle) -> None:
        """Record the trading state when it differs from the last one recorded."""
        state, reason, source = self.runner.trading_state(now)
        if (state, source) == (self._recorded[0], self._recorded[2]) or (state == states.ACTIVE == self._recorded[0]):
            return  # the same state held by the same source (a kill switch's measure moving is no change)
        if state == states.ACTIVE:  # nothing holds it: say what ended
            reason, source = f"cleared: {self._recorded[1]}", self._recorded[2] or states.POLICY
        change = StateChange(now, state, reason, source)
        cycle.state_changes.append(change)
        self._recorded = (state, reason, source)
        logger.warning("trading is %s: %s (%s)", state, reason, source)

    # ------------------------------------------------------------------ tasks

    def _run_task(self, job: Due, task: str, now: float, cycle: _Cycle) -> None:
        """Run one task; a task that raises is recorded as failed and the loop goes on."""
        module = TASKS[task]
        params = self.runner.plan.schedules.task_params.get(task) or module.Params()
        started = time.monotonic()
        error = ""
        try:
            outcome: TaskOutcome = module.run(params, _Context(self, now, job.job_id))
        except Exception as exc:  # a task's bug must not stop trading: recorded, the watchdog counts them
            logger.exception("task %s failed", task)
            outcome = TaskOutcome("failed", f"raised {type(exc).__name__}: {exc}"[:300])
            error = f"{type(exc).__name__}: {exc}"[:2000]
        duration = time.monotonic() - started
        for action in outcome.actions:
            if isinstance(action, RunLearning):  # the cycle is the task's work: its outcome and duration
                outcome, error = self._learn(action, now, outcome)
                duration = time.monotonic() - started
            else:
                self._act(action, now, cycle)
        for out in outcome.files:
            try:
                self.host.write_file(out)
            except (OSError, ValueError) as exc:
                logger.error("task %s: could not write %s: %s", task, out.path, exc)
        run = TaskRun(
            job.job_id, task, job.scheduled_ts, now, duration, outcome.status, outcome.summary, job.missed, error
        )
        cycle.runs.append(run)
        self.summary.task_runs += 1
        self.summary.failed_tasks += outcome.status == "failed"
        level = logging.INFO if outcome.status == "ok" else logging.WARNING
        logger.log(level, "task %s %s in %.3f s: %s", task, outcome.status, duration, outcome.summary)
        self._overran(task, [job], duration)

    def _overran(self, task: str, due: Sequence[Due], duration: float) -> None:
        jobs = {j.id: j for j in self.runner.plan.schedules.jobs}
        for d in due:
            every = jobs[d.job_id].every_s if d.job_id in jobs else None
            if every is not None and duration > every and self.feed.realtime:
                logger.warning("task %s overran its %g s interval: it took %.1f s", task, every, duration)

    def _act(self, action: Action, now: float, cycle: _Cycle) -> None:
        """Carry out what a task asked (the loop is the one place state changes)."""
        if isinstance(action, SetTradingState):
            self._set_state(action, now, cycle)
        elif isinstance(action, ExpireOverride):
            if not any(lift.id == action.override_id for lift in cycle.overrides_lifted):
                cycle.overrides_lifted.append(LiftedOverride(action.override_id, now, action.reason))
        elif isinstance(action, CancelOrder):
            self.runner.cancel(action.client_order_id, action.reason)
        elif isinstance(action, ForgetPending):
            self.runner.forget(action.client_order_id, action.reason)
        elif isinstance(action, PruneLogs):
            self.host.prune_logs(action.before_day)
        elif isinstance(action, OptimizeState):
            self._close_group()
            self.store.optimize()

    def _learn(self, action: RunLearning, now: float, asked: TaskOutcome) -> tuple[TaskOutcome, str]:
        """One learning cycle (``rulebot run --learn``): each promoted version is written into the
        rules folder and a reload asked for; its gate numbers wait for the reload that makes it
        live. A failure is the task's (recorded with its error; the bot goes on trading the live
        plan). The task's outcome, and the error ("" when none)."""
        if self.learning is None:
            return replace(asked, summary="learning is off (run with --learn)", actions=()), ""
        self._close_group()  # the cycle's writes come after every step before it is committed
        try:
            writes = self.learning.run(self.runner.plan, self.store, action.job, action.learners, now)
        except Exception as exc:  # a learning bug or an unreadable feed file must not stop trading
            logger.exception("learning cycle of job %s failed", action.job)
            error = f"{type(exc).__name__}: {exc}"
            return replace(asked, status="failed", summary=f"learning failed: {error}"[:300]), error[:2000]
        applied = [w for w in writes if w.status == "applied" and w.version is not None]
        for write in applied:
            self._promoted[write.version] = dict(write.promotion or {})
        if applied and self.reloader is not None:
            self.reloader.request("learned: " + ", ".join(f"{w.learner} {w.version}" for w in applied))
            if not self.feed.realtime:
                self._learned = applied[-1].version
        said = "; ".join(f"{w.learner} {w.status}" + (f" {w.version}" if w.version else "") for w in writes)
        details = {**asked.details, "writes": [w.as_dict() for w in writes]}
        return replace(asked, summary=f"learning cycle: {said or 'nothing to apply'}", details=details), ""

    def _set_state(self, action: SetTradingState, now: float, cycle: _Cycle) -> None:
        """A task holds a state (an override with the task as its source), or lifts its own."""
        active = [*self.store.active_overrides(now), *cycle.overrides_set]
        mine = [o for o in active if o.source == action.source]
        if action.state == states.ACTIVE:
            for override in mine:
                cycle.overrides_lifted.append(LiftedOverride(override.id, now, action.reason))
            return
        if any(o.state == action.state and o.reason == action.reason for o in mine):
            return  # already held for the same reason
        override_id = f"{action.source}-{int(now * 1000)}-{len(cycle.overrides_set)}"
        cycle.overrides_set.append(Override(override_id, action.state, action.reason, now, action.until, action.source))

    def sizes_day_ago(self, now: float) -> dict[str, int]:
        """The log sizes about a day before ``now`` (sampled at most hourly as tasks ask; {}
        until the bot has run a day), for the watchdog's growth check."""
        if not self._sizes or now - self._sizes[-1][0] >= 3600.0:
            self._sizes.append((now, self.host.log_sizes()))
        while len(self._sizes) > 1 and self._sizes[1][0] <= now - DAY:
            self._sizes.popleft()
        oldest_ts, oldest = self._sizes[0]
        return dict(oldest) if oldest_ts <= now - DAY else {}

    # ------------------------------------------------------------------ between cycles

    def _between_cycles(self) -> None:
        """Reloads and operator commands, never inside a cycle."""
        self.wake.clear()
        if self.reloader is not None and self._learned is not None:
            self._await_learned()
        elif self.reloader is not None:
            outcome = self.reloader.take()
            if outcome is not None:
                self._reload(outcome)
        if time.monotonic() - self._last_commands >= COMMAND_POLL_S:
            self._last_commands = time.monotonic()
            self._commands()

    def _await_learned(self) -> None:
        """A replay waits for the reload of the version its learners just wrote, so the version
        goes live at the next cycle whatever the machine's speed (real time does not wait).
        The reloader is strictly serial: at most one outcome was under way before the learner
        asked, so the second one taken at the latest has seen the learned file."""
        assert self.reloader is not None
        version, self._learned = self._learned, None
        for _ in range(2):
            outcome = self.reloader.take()
            while outcome is None and not self._stop.is_set():
                self.wake.wait(COMMAND_POLL_S)
                self.wake.clear()
                outcome = self.reloader.take()
            if outcome is None:
                return
            self._reload(outcome)
            if version in (self.runner.plan.version, outcome.new_version) or outcome.status in ("invalid", "failed"):
                return

    def _now(self) -> float | None:
        try:
            return float(self.clock.now())
        except RuntimeError:  # a replay clock before the first snapshot
            return None

    def _commands(self) -> None:
        commands = self.host.take_commands()
        now = self._now()
        if not commands or now is None:
            return
        self._close_group()
        portfolio = self.runner.portfolio(now)
        for command in commands:
            records, outcome = apply_command(
                command,
                now,
                self.store.active_overrides(now),
                self._recorded,
                states.conditions(self.runner.plan, portfolio),
                seen=self.store.has_override(command.id),
            )
            self.store.record_bot(records)
            for change in records.state_changes:
                self._recorded = (change.state, change.reason, change.source)
            self.host.acknowledge(command, outcome)
            logger.warning("operator %s: %s", command.action, outcome["message"])

    def _reload(self, outcome: ReloadOutcome) -> None:
        """Swap to a new valid plan between cycles, or keep the live one; record the attempt."""
        assert self.reloader is not None
        now = self._now() or time.time()
        old = self.runner.plan
        errors = outcome.errors
        status = {"changed": "ok"}.get(outcome.status, outcome.status)
        if outcome.status == "changed" and outcome.plan is not None:
            refused = unreloadable(old, outcome.plan)
            if refused:
                self.reloader.declined(outcome)
                status, errors = "refused", tuple(refused)
                logger.warning("reload to %s refused: %s", outcome.new_version, "; ".join(refused))
            else:
                self._swap(outcome)
        duration = max(0.0, time.time() - outcome.requested_ts)
        reload = Reload(
            now, outcome.old_version, outcome.new_version, status, tuple(errors), round(duration, 6), outcome.reason
        )
        self._close_group()
        self.store.record_bot(BotRecords(reloads=(reload,), status=self._status()))  # status: the live version
        self.summary.reloads += 1

    def _swap(self, outcome: ReloadOutcome) -> None:
        assert self.reloader is not None and outcome.plan is not None
        pipeline, screen, carry, warmed_to = outcome.prepared
        with self._ring_lock:  # what the live pipeline took while the new one was prepared
            missed = [snapshot for seq, snapshot in self._ring if seq > warmed_to]
        old = self.runner.plan
        self._close_group()
        self.runner.adopt_reloaded(outcome.plan, pipeline, screen, carry, missed)
        if outcome.plan.schedules != old.schedules and self._scheduler is not None:
            now = self._now()
            self._scheduler = Scheduler(outcome.plan.schedules, now if now is not None else time.time())
            self._schedule_recorded = False
        entry = record_live(self.store, outcome.plan.version, outcome.plan.canonical, f"hot reload ({outcome.reason})")
        numbers = self._promoted.pop(outcome.plan.version, None)
        if numbers is not None and entry.promotion == LIVE:  # a learner's version, live: the gate's numbers
            self.store.mark_promotion(entry.seq, LIVE, numbers)
        self._live_since = time.time()
        self.reloader.accepted(outcome)
        logger.warning("reloaded: %s → %s live", old.version, outcome.plan.version)

    # ------------------------------------------------------------------ group commits

    def _open_group(self) -> None:
        if self._group_commits and self._group is None:
            self._group = self.store.group()
            self._group.__enter__()
            self._group_steps, self._group_started = 0, time.monotonic()

    def _close_group(self) -> None:
        """Commit the open group; its log records are delivered after the commit."""
        group, self._group = self._group, None
        if group is not None:
            group.__exit__(None, None, None)


def unreloadable(old: Plan, new: Plan) -> list[str]:
    """What a reload cannot change in a running bot (the broker was made for the old plan):
    each difference says so; a restart applies it."""
    found = []
    if new.profile != old.profile:
        found.append(f"the profile changed ({old.profile} → {new.profile})")
    if new.venues.execution_venue != old.venues.execution_venue:
        found.append(f"the execution venue changed ({old.venues.execution_venue} → {new.venues.execution_venue})")
    elif new.venues.exchange(new.venues.execution_venue) != old.venues.exchange(old.venues.execution_venue):
        found.append(f"the settings of venue {new.venues.execution_venue} changed (fees, instruments, funding)")
    if dict(new.paper_broker) != dict(old.paper_broker):
        found.append("paper_broker settings changed (starting balance, slippage)")
    if new.risk.liquidation != old.risk.liquidation:
        found.append("risk.liquidation changed (the broker's maintenance margin)")
    return [f"{what}: a reload cannot change it; restart the bot to apply it" for what in found]


def _latest(*times: float | None) -> float | None:
    known = [t for t in times if t is not None]
    return max(known) if known else None


class _Context:
    """The TaskContext a task reads: views of the runner, the broker, the store and the host,
    computed when the task asks."""

    def __init__(self, bot: Bot, now: float, job_id: str = "") -> None:
        self._bot, self._now, self._job_id = bot, now, job_id

    @property
    def now(self) -> float:
        return self._now

    @property
    def job_id(self) -> str:
        return self._job_id

    @property
    def learning(self) -> bool:
        return self._bot.learning is not None

    @property
    def plan(self) -> Any:
        return self._bot.runner.plan

    @property
    def trading_state(self) -> tuple[TradingState, str]:
        state, reason, _ = self._bot.runner.trading_state(self._now)
        return state, reason

    @property
    def open_positions(self) -> Sequence[Any]:
        return list(self._bot.runner.positions.values())

    @property
    def market_ts(self) -> float | None:
        return self._bot.runner.cursor

    @property
    def pending_orders(self) -> Mapping[str, float]:
        broker = self._bot.runner.broker
        sent = {}
        for client_id in self._bot.runner.pending:
            order = broker.order(client_id)
            sent[client_id] = order.created_at if order is not None else self._now
        return sent

    @property
    def broker_open_orders(self) -> Sequence[Any]:
        return list(self._bot.runner.broker.open_orders())

    @property
    def broker_positions(self) -> Sequence[Any]:
        return list(self._bot.runner.broker.positions())

    @property
    def equity_usd(self) -> float:
        return float(self._bot.runner.broker.balance().equity)

    def trades_since(self, ts: float) -> Sequence[Any]:
        return [t for t in self._bot.store.trades() if t.exit_ts >= ts]

    def fills_since(self, ts: float) -> Sequence[Any]:
        return list(self._bot.runner.broker.fills_since(ts))

    @property
    def heartbeats(self) -> Mapping[str, float]:
        return {**self._bot.store.heartbeats(), **self._bot._beats}

    @property
    def recent_runs(self) -> Sequence[TaskRun]:
        return self._bot.recent_runs()

    @property
    def overrides(self) -> Sequence[Override]:
        # not lifted, expired ones included: expire_manual_overrides lifts those (it never saw them
        # when this gave only the overrides still in force)
        return self._bot.store.unlifted_overrides()

    @property
    def state_changes(self) -> Sequence[Mapping[str, Any]]:
        return [asdict(c) for c in self._bot.store.state_changes(since=self._now - DAY)]

    @property
    def reloads(self) -> Sequence[Mapping[str, Any]]:
        return [asdict(r) for r in self._bot.store.reloads(limit=200) if r.ts >= self._now - DAY]

    @property
    def log_sizes(self) -> Mapping[str, int]:
        return self._bot.host.log_sizes()

    @property
    def log_sizes_day_ago(self) -> Mapping[str, int]:
        return self._bot.sizes_day_ago(self._now)

    @property
    def disk_free_bytes(self) -> int:
        return self._bot.host.disk_free()
