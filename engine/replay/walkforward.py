"""Walk-forward learning in a replay (``rulebot dry-run --learn``): the learners run inside the
dry-run on simulated time, at their declared schedules, and what they learn is traded only
from the cycle after it was learned — so a person sees whether learning helps out of sample.

The replay is the scalar dry-run (engine/replay/dryrun.py) with a store that keeps the
signals and resolves them as the running bot's does (``LearningMemoryState``): the learners
read every signal, traded, blocked or NEUTRAL, so no cycle is skipped. When a job that
learners are scheduled on is due, after that cycle's step:

1. one learning cycle (engine/learners/cycle.py) over the data window the running bot's would
   read (the resolved signals and closed trades of ``trade_lookback`` up to now — nothing
   from the future: a signal counts once its horizon's price has been seen);
2. per learner, its applied proposals become a candidate version through ``CandidateWriter``
   (the CLI writes a learned overlay into a scratch copy of the rules, with its checks);
3. the promotion gate (engine/learners/promotion.py) replays the held-out part of the data
   window — the snapshots the replay has seen, kept for ``trade_lookback`` — for the live
   and the candidate version; a promoted candidate is adopted by the runner from the next
   cycle on (a hot reload: positions, orders and the broker stay), a rejected one is recorded
   with the gate's numbers.

Everything runs on the snapshots' clock, so the same snapshots and rules give the same
versions and the same trades (the fingerprint) on every run.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from engine.bot.scheduler import Scheduler
from engine.common import interrupts
from engine.learners.base import Proposal
from engine.learners.cycle import Cycle, due_learners, run_cycle, window
from engine.learners.promotion import PromotionError, held_out, promote
from engine.market.snapshot import Snapshot
from engine.replay.dryrun import DryRunState, cycle_of, decision_sinks, finished, only
from engine.replay.memstate import LearningMemoryState
from engine.trading.runner import Runner
from engine.trading.signals.coverage import Counts

logger = logging.getLogger(__name__)

APPLIED, REJECTED, REFUSED = "applied", "rejected", "refused"


@dataclass(frozen=True, slots=True)
class Candidate:
    """A learner's proposals written as a candidate version, or why they could not be."""

    learner: str
    plan: Any | None  # the candidate's compiled plan (the run's profile); None: the write was refused
    version: str | None
    reason: str = ""  # why refused (code: reason)


class CandidateWriter(Protocol):
    """The rules a walk-forward learns into (the CLI's: a scratch copy of the rules folder)."""

    def candidate(self, proposals: tuple[Proposal, ...], cycle: Cycle) -> Candidate:
        """The proposals written as a learned overlay on the current rules, compiled (or refused)."""

    def accept(self, candidate: Candidate) -> None:
        """The candidate's rules become the current ones (the next candidate builds on them)."""

    def audit(self, record: dict[str, Any]) -> None:
        """Keep one line of the learning audit (a cycle's)."""


@dataclass(frozen=True, slots=True)
class VersionChange:
    """What became of one learner's proposals at one learning cycle of the replay."""

    ts: float  # the cycle's time on the snapshots' clock
    job: str | None
    learner: str
    status: str  # applied (the version is traded from the next cycle), rejected (the gate), refused (write-back)
    reason: str
    base_version: str  # the version live when the learner read the data
    version: str | None  # the candidate's (None: refused before it compiled)
    values: tuple[tuple[str, float, float], ...]  # (path, old, new) of each proposal
    promotion: dict[str, Any] | None = None  # the gate's numbers (PromotionResult.as_dict)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["values"] = [{"path": p, "old": old, "new": new} for p, old, new in self.values]
        return out


@dataclass
class Learning:
    """What the learning did over the replay (the result's ``learning``)."""

    cycles: int = 0
    changes: list[VersionChange] = field(default_factory=list)

    def as_dict(self, first_version: str) -> dict[str, Any]:
        applied = [c for c in self.changes if c.status == APPLIED]
        return {
            "cycles": self.cycles,
            "first_version": first_version,
            "last_version": applied[-1].version if applied else first_version,
            "applied": len(applied),
            "rejected": sum(c.status == REJECTED for c in self.changes),
            "refused": sum(c.status == REFUSED for c in self.changes),
            "changes": [c.as_dict() for c in self.changes],
        }


def walk_forward(
    plan: Any,
    snapshots: Iterable[Snapshot],
    *,
    broker: Any,
    writer: CandidateWriter,
    broker_for: Callable[[Any], Any],
    start: float | None = None,
    end: float | None = None,
    symbols: set[str] | None = None,
    on_cycle: Callable[[Any], None] | None = None,
) -> tuple[dict, Runner, DryRunState]:
    """Replay ``snapshots`` (in time order) as ``dry_run`` does, learning on the way (module
    docstring); the result is a dry-run's with ``learning`` added. Ctrl-C stops it cleanly."""
    logger.info("walk-forward dry-run of %s (profile %s) starts", plan.version, plan.profile)
    state, store, learning = DryRunState(), LearningMemoryState(), Learning()
    runner = Runner(plan, broker, store, full_trail=False, sinks=decision_sinks(state))
    walk = _Walk(runner, store, writer, broker_for, learning)
    try:
        for snapshot in snapshots:
            snapshot = only(snapshot, symbols)
            walk.keep(snapshot)
            if start is not None and snapshot.ts < start:
                runner.warm(snapshot)
                continue
            if end is not None and snapshot.ts > end:
                break
            walk.scheduler = walk.scheduler or Scheduler(runner.plan.schedules, snapshot.ts)
            due = walk.scheduler.due(snapshot.ts)
            cycle_of(runner, due, snapshot, state)
            walk.learn(due, snapshot.ts)
            if on_cycle is not None:
                on_cycle(snapshot)
    except KeyboardInterrupt:
        state.interrupted = True
    finally:
        interrupts.defer()
    state.coverage = walk.coverage(runner.pipeline.signals.coverage.counts)
    result, runner, state = finished(runner.plan, runner, state)
    result["learning"] = learning.as_dict(plan.version)
    return result, runner, state


class _Walk:
    """The learning side of a walk-forward: the recent snapshots, the cycles, the adoptions."""

    def __init__(
        self,
        runner: Runner,
        store: LearningMemoryState,
        writer: CandidateWriter,
        broker_for: Callable[[Any], Any],
        learning: Learning,
    ) -> None:
        self.runner, self.store, self.writer, self.broker_for = runner, store, writer, broker_for
        self.learning = learning
        self.recent: deque[Snapshot] = deque()
        self.scheduler: Scheduler | None = None
        self.counted: Counts = {}  # the signal coverage counted by the pipelines replaced so far

    def coverage(self, live: Counts) -> Counts:
        """The coverage over the whole replay: the replaced pipelines' counts and ``live``'s
        (a learned version changes values, not which components there are)."""
        total = {symbol: list(row) for symbol, row in self.counted.items()}
        for symbol, row in live.items():
            kept = total.setdefault(symbol, [0] * len(row))
            total[symbol] = [a + b for a, b in zip(kept, row, strict=True)]
        return total

    def keep(self, snapshot: Snapshot) -> None:
        """Keep the snapshots of the data window: the gate replays them, a reload warms on them."""
        self.recent.append(snapshot)
        oldest = snapshot.ts - self.runner.plan.learning.trade_lookback_s
        while self.recent and self.recent[0].ts < oldest:
            self.recent.popleft()

    def learn(self, due: Iterable[Any], now: float) -> None:
        """Run the learners scheduled on the due jobs, one job after the other."""
        for job in due:
            learners = due_learners(self.runner.plan, job=job.job_id)
            if learners:
                self._cycle(job.job_id, learners, now)

    def _cycle(self, job: str, learners: tuple[Any, ...], now: float) -> None:
        plan = self.runner.plan
        cycle = run_cycle(plan, self.store.learning_data(*window(plan, now)), learners, now=now, job=job)
        self.learning.cycles += 1
        changes = [self._apply(proposals, cycle) for _, proposals in cycle.by_learner()]
        self.learning.changes.extend(changes)
        self.writer.audit(cycle.audit(outcomes=[_outcome(c) for c in changes]))

    def _apply(self, proposals: tuple[Proposal, ...], cycle: Cycle) -> VersionChange:
        """One learner's proposals: candidate, promotion gate, adoption."""
        live = self.runner.plan
        values = tuple((p.path, p.old, p.new) for p in proposals)
        candidate = self.writer.candidate(proposals, cycle)

        def change(status: str, reason: str, promotion: dict | None = None) -> VersionChange:
            return VersionChange(
                cycle.ts,
                cycle.job,
                candidate.learner,
                status,
                reason,
                live.version,
                candidate.version,
                values,
                promotion,
            )

        if candidate.plan is None:
            return change(REFUSED, candidate.reason)
        spec = live.learning
        try:
            window = held_out(self.recent, cycle.data.window_from, cycle.data.window_to, spec)
        except PromotionError as error:  # e.g. snapshots out of time order: no evidence, no promotion
            return change(REJECTED, f"{error.code}: {error}")
        gate = promote(live, candidate.plan, window, spec, broker_for=self.broker_for)
        if not gate.promoted:
            return change(REJECTED, gate.reason, gate.as_dict())
        self.writer.accept(candidate)
        self._adopt(candidate.plan)
        logger.info("walk-forward: %s live from the next cycle (%s)", candidate.version, candidate.learner)
        return change(APPLIED, gate.reason, gate.as_dict())

    def _adopt(self, plan: Any) -> None:
        """Trade ``plan`` from the next cycle, as the running bot's hot reload does: what its
        pipeline can carry from the live one is carried, the rest warmed on the recent market."""
        runner = self.runner
        self.counted = self.coverage(runner.pipeline.signals.coverage.counts)
        schedules = runner.plan.schedules
        pipeline, screen, carry = runner.reload_pipeline(plan, self.recent)
        runner.adopt_reloaded(plan, pipeline, screen, carry)
        if plan.schedules != schedules and self.scheduler is not None:
            self.scheduler = Scheduler(plan.schedules, self.recent[-1].ts)


def _outcome(change: VersionChange) -> dict[str, Any]:
    """A change as the cycle's audit line names it (as ``rulebot learn``'s LearnerWrite)."""
    return {
        "learner": change.learner,
        "status": change.status,
        "reason": change.reason,
        "version": change.version,
        "promotion": change.promotion,
    }
