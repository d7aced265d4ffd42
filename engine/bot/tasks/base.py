"""What a scheduled task sees and what it answers (the contract every task module follows).

A task is a pure function ``run(params, ctx) -> TaskOutcome``: the bot gathers everything the
task may read into a ``TaskContext`` (the clock is ``ctx.now``; file sizes and disk space are
measured by the bot, not by the task), and applies what the task answers. A task never
changes state itself: it returns ``actions`` and the bot carries them out in its loop, the one
place where the trading state changes. ``files`` are written by the bot (atomically).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

TaskStatus = Literal["ok", "warning", "failed"]
TradingState = Literal["ACTIVE", "REDUCING", "HALTED"]
#: The task whose run is the runner's step (tasks/bot_cycle.py); the loop and the dry-run run it.
BOT_CYCLE = "bot_cycle"


@dataclass(frozen=True, slots=True)
class SetTradingState:
    """Move the bot to ``state`` (REDUCING: exits only; HALTED: no new orders but protective
    exits) for ``reason``; ``until`` (epoch s) lifts it again, None holds until resumed."""

    state: TradingState
    reason: str
    source: str  # the task (or "operator") that asked
    until: float | None = None


@dataclass(frozen=True, slots=True)
class CancelOrder:
    """Cancel an order at the broker (a stuck order, an order the bot no longer tracks)."""

    client_order_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class ForgetPending:
    """Drop an order the bot waits for but the broker does not know (lost in transit)."""

    client_order_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class ExpireOverride:
    """Lift a manual override whose expiry has passed."""

    override_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class PruneLogs:
    """Delete the closed day files of the logs (``<log>.<day>.jsonl.gz``) from days before
    ``before_day`` (YYYY-MM-DD): the retention of ``learning.logs.keep``."""

    before_day: str
    reason: str


@dataclass(frozen=True, slots=True)
class OptimizeState:
    """Tidy the state database (SQLite ``PRAGMA optimize`` and ``wal_checkpoint(TRUNCATE)``),
    so the write-ahead log does not grow without bound in a process that never exits."""

    reason: str


@dataclass(frozen=True, slots=True)
class RunLearning:
    """Run one learning cycle of ``learners`` (ids in learning.yaml, in order), the learners
    scheduled on job ``job``: the bot reads their data from its own store, and each learner's
    applied proposals go through the promotion gate into rules/learned/ (engine/cli/learning_apply.py)."""

    job: str
    learners: tuple[str, ...]
    reason: str


Action = SetTradingState | CancelOrder | ForgetPending | ExpireOverride | PruneLogs | OptimizeState | RunLearning


@dataclass(frozen=True, slots=True)
class OutFile:
    """A file the bot writes for the task (path relative to the logs folder), atomically."""

    path: str
    text: str


@dataclass(frozen=True, slots=True)
class TaskOutcome:
    status: TaskStatus
    summary: str  # one line a person reads in the log and in `rulebot status`
    details: Mapping[str, Any] = field(default_factory=dict)  # JSON-ready
    actions: tuple[Action, ...] = ()
    files: tuple[OutFile, ...] = ()


@dataclass(frozen=True, slots=True)
class TaskRun:
    """One run of one task, as recorded in the state (table task_runs) and logs/tasks.jsonl."""

    job_id: str
    task: str
    scheduled_ts: float  # the clock's time it was due
    started_ts: float  # the clock's time it ran
    duration_s: float  # wall-clock seconds it took
    status: TaskStatus
    summary: str
    missed: int = 0  # runs collapsed into this one because the clock jumped over them
    error: str = ""  # the exception, when status is failed because the task raised


@dataclass(frozen=True, slots=True)
class Override:
    """A manual override set by an operator (``rulebot halt|reduce --reason ... [--for D]``)."""

    id: str
    state: TradingState
    reason: str
    set_ts: float
    until: float | None  # None: until `rulebot resume`
    source: str = "operator"


class TaskContext(Protocol):
    """What the bot hands a task (read-only views; all times are the bot clock's epoch s)."""

    @property
    def now(self) -> float: ...

    @property
    def job_id(self) -> str: ...  # the schedule job the task runs on

    @property
    def learning(self) -> bool: ...  # whether the bot runs the learners (`rulebot run --learn`)

    @property
    def plan(self) -> Any: ...  # the live compiled plan (engine.language.compiler.Plan)

    @property
    def trading_state(self) -> tuple[TradingState, str]: ...  # the state and its reason

    @property
    def open_positions(self) -> Sequence[Any]: ...  # engine.ports.OpenPosition, the runner's view

    @property
    def pending_orders(self) -> Mapping[str, float]: ...  # client order id -> when it was sent

    @property
    def market_ts(self) -> float | None: ...  # the last market data traded on (None before any step)

    @property
    def broker_open_orders(self) -> Sequence[Any]: ...  # engine.ports.OrderState, the broker's view

    @property
    def broker_positions(self) -> Sequence[Any]: ...  # engine.ports.VenuePosition, the broker's view

    @property
    def equity_usd(self) -> float: ...

    # Both at or after ``ts``: a cycle's tasks run before its step, so what the step at ``ts``
    # closed or filled belongs to the next window starting at ``ts`` (a digest or an audit).
    def trades_since(self, ts: float) -> Sequence[Any]: ...  # engine.ports.TradeRecord closed at or after ts

    def fills_since(self, ts: float) -> Sequence[Any]: ...  # engine.ports.Fill at or after ts

    @property
    def heartbeats(self) -> Mapping[str, float]: ...  # subsystem -> last beat (loop, feed, reloader, ...)

    @property
    def recent_runs(self) -> Sequence[TaskRun]: ...  # the last runs of every task, newest last

    @property
    def overrides(self) -> Sequence[Override]: ...  # not lifted yet, expired ones (until <= now) included

    @property
    def state_changes(self) -> Sequence[Mapping[str, Any]]: ...  # trading-state transitions of the last day

    @property
    def reloads(self) -> Sequence[Mapping[str, Any]]: ...  # reload attempts of the last day

    @property
    def log_sizes(self) -> Mapping[str, int]: ...  # file name in the logs folder -> bytes now

    @property
    def log_sizes_day_ago(self) -> Mapping[str, int]: ...  # the same a day earlier ({} when unknown)

    @property
    def disk_free_bytes(self) -> int: ...  # free space where the state and logs live
