"""What the running bot records about itself each cycle, written in one transaction
(adapters/store/state.py ``record_bot``, or with the runner's step as ``Transition.bot``).

Plain frozen data: the loop builds a ``BotRecords``, the store writes every part of it
together, so a crash never leaves a task run without the state change it caused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from engine.bot.tasks.base import Override, TaskRun, TradingState

# The JSON-lines logs the bot's records are delivered to through the store's outbox (log name → file
# stem in the logs folder): add them to the store's LogFiles to have them written exactly once.
BOT_LOGS: Mapping[str, str] = MappingProxyType(
    {"tasks": "tasks", "state_changes": "state_changes", "reloads": "reloads"}
)


@dataclass(frozen=True, slots=True)
class StateChange:
    """The trading state became ``state`` at ``ts`` for ``reason``, set by ``source`` (operator,
    a task name, kill_switch, market_data, policy)."""

    ts: float
    state: TradingState
    reason: str
    source: str


@dataclass(frozen=True, slots=True)
class ScheduleEntry:
    """When a scheduled job runs next and when it last ran (None: never yet)."""

    job_id: str
    next_ts: float
    last_ts: float | None = None


@dataclass(frozen=True, slots=True)
class LiftedOverride:
    """An override ended (``rulebot resume``, its expiry, a task) at ``lifted_ts``."""

    id: str
    lifted_ts: float
    lifted_reason: str


@dataclass(frozen=True, slots=True)
class Reload:
    """One attempt to load edited rules: ``outcome`` ok (``new_version`` live), invalid (the
    last good plan kept; ``errors`` as validate reports them), unchanged, refused (valid, but
    it changes what a running bot cannot: ``errors`` say what) or failed (compiling raised);
    ``reason`` is what asked for it (the edited files, SIGHUP)."""

    ts: float
    old_version: str
    new_version: str | None
    outcome: str  # ok | invalid | unchanged | refused | failed
    errors: tuple[str, ...] = ()
    duration_s: float = 0.0
    reason: str = ""


@dataclass(frozen=True, slots=True)
class BotStatus:
    """The running bot at its last cycle, for ``rulebot status`` (a row read without the bot)."""

    live_version: str
    live_since: float
    pid: int
    last_cycle_ts: float | None = None
    prices: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))  # symbol -> last price


@dataclass(frozen=True, slots=True)
class BotRecords:
    """Everything one cycle of the bot records; written whole or not at all."""

    task_runs: tuple[TaskRun, ...] = ()  # appended
    schedule: tuple[ScheduleEntry, ...] = ()  # upserted by job id
    state_changes: tuple[StateChange, ...] = ()  # appended
    overrides_set: tuple[Override, ...] = ()  # inserted once by id
    overrides_lifted: tuple[LiftedOverride, ...] = ()  # the lift recorded once
    heartbeats: tuple[tuple[str, float], ...] = ()  # (subsystem, ts), upserted
    reloads: tuple[Reload, ...] = ()  # appended
    status: BotStatus | None = None  # replaces the stored one

    def __bool__(self) -> bool:
        return any(
            (
                self.task_runs,
                self.schedule,
                self.state_changes,
                self.overrides_set,
                self.overrides_lifted,
                self.heartbeats,
                self.reloads,
                self.status is not None,
            )
        )
