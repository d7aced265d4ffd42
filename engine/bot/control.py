"""Operator commands (`rulebot halt|reduce|resume`) and how the bot takes them.

A command is a JSON file in ``<state>/commands/``, written whole (a temporary file renamed into
place, so the bot never reads half a command) under a unique id. The bot's loop calls
:func:`take_commands` each cycle, applies each (:func:`apply_command`: an ``Override`` and the
state change it causes, recorded in the state), and then :func:`acknowledge` moves the file to
``commands/done/<id>.json`` with the outcome, which the waiting CLI prints. A command file the
bot cannot read is acknowledged as rejected (RB811) and never stops the loop.

Applying is pure and idempotent by id: a command applied again after a crash between its
record and its acknowledgement changes nothing.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from engine.bot import states
from engine.bot.records import BotRecords, LiftedOverride, StateChange
from engine.bot.tasks.base import Override, TradingState
from engine.common.errors import RulebotError
from engine.common.times import iso_utc
from engine.language.durations import format_duration

CODES = {
    "RB810": "an operator command (rulebot halt|reduce|resume) was refused: no state folder, an empty --reason, "
    "a bad --for or --wait; nothing was recorded",
    "RB811": "a file in the state folder's commands/ is not a command rulebot wrote (not JSON, a missing or wrong field); the "
    "bot acknowledges it as rejected in commands/done/ and goes on",
    "RB812": "the running bot did not acknowledge an operator command within --wait; the command stays in "
    "the state folder's commands/ and is applied when the bot next reads it",
}
COMMAND_REFUSED, COMMAND_MALFORMED, COMMAND_UNACKNOWLEDGED = "RB810", "RB811", "RB812"

ACTIONS: Mapping[str, TradingState | None] = {"halt": states.HALTED, "reduce": states.REDUCING, "resume": None}
COMMANDS, DONE = "commands", "done"
_SUFFIX = ".json"

logger = logging.getLogger(__name__)


class CommandError(RulebotError):
    """An operator command was refused or not acknowledged; ``code`` says which (RB81x)."""

    code = COMMAND_REFUSED

    def __init__(self, message: str, code: str = COMMAND_REFUSED):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class Command:
    """``action`` (halt, reduce, resume) for ``reason``; ``for_s`` seconds (None: until resumed)."""

    id: str
    action: str
    reason: str
    for_s: float | None
    issued_ts: float
    issued_by: str  # who: the user and pid of the CLI

    @classmethod
    def new(cls, action: str, reason: str, for_s: float | None = None, *, now: float | None = None) -> Command:
        """A new command with a unique id; refuses (RB810) what the bot could not apply."""
        command = cls(
            uuid.uuid4().hex,
            action,
            reason.strip() if isinstance(reason, str) else reason,
            for_s,
            time.time() if now is None else now,
            f"{os.environ.get('USER', 'unknown')} (pid {os.getpid()})",
        )
        problem = command.problem()
        if problem:
            raise CommandError(f"rulebot {action}: {problem}")
        return command

    def problem(self) -> str:
        """What makes this command unusable, or ""."""
        if self.action not in ACTIONS:
            return f"unknown action {self.action!r} (one of {', '.join(ACTIONS)})"
        if not isinstance(self.reason, str) or not self.reason.strip():
            return "--reason must say why (a non-empty text): it is recorded and shown by rulebot status"
        if self.for_s is not None:
            if self.action == "resume":
                return "resume takes no --for"
            if isinstance(self.for_s, bool) or not isinstance(self.for_s, (int, float)):
                return f"for_s must be a number of seconds, got {self.for_s!r}"
            if not (math.isfinite(self.for_s) and self.for_s > 0):
                return f"--for must be a positive duration, got {self.for_s!r} s"
        if not isinstance(self.id, str) or not self.id or not self.id.isalnum():
            return f"id must be letters and digits, got {self.id!r}"
        if isinstance(self.issued_ts, bool) or not isinstance(self.issued_ts, (int, float)):
            return f"issued_ts must be a time, got {self.issued_ts!r}"
        return ""

    @classmethod
    def from_dict(cls, data: Any, where: str) -> Command:
        """The command a file holds; CommandError (RB811) naming ``where`` and what is wrong."""
        names = [f.name for f in fields(cls)]
        if not isinstance(data, dict):
            raise CommandError(f"{where}: a command is a JSON object, got {type(data).__name__}", COMMAND_MALFORMED)
        missing, unknown = sorted(set(names) - set(data)), sorted(set(data) - set(names))
        if missing or unknown:
            parts = [
                f"missing {', '.join(missing)}" if missing else "",
                f"unknown {', '.join(unknown)}" if unknown else "",
            ]
            raise CommandError(f"{where}: {'; '.join(p for p in parts if p)}", COMMAND_MALFORMED)
        command = cls(**data)
        problem = command.problem()
        if problem:
            raise CommandError(f"{where}: {problem}", COMMAND_MALFORMED)
        return command


# ------------------------------------------------------------------ the files


def commands_dir(state_dir: str | os.PathLike[str]) -> Path:
    return Path(state_dir) / COMMANDS


def done_path(state_dir: str | os.PathLike[str], command_id: str) -> Path:
    return commands_dir(state_dir) / DONE / f"{command_id}{_SUFFIX}"


def _write_whole(path: Path, data: Mapping[str, Any]) -> None:
    """Write ``path`` atomically: a hidden temporary file, flushed to disk, renamed into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    with open(partial, "w", encoding="utf-8") as file:
        json.dump(data, file, sort_keys=True)
        file.flush()
        os.fsync(file.fileno())
    os.replace(partial, path)


def submit(state_dir: str | os.PathLike[str], command: Command) -> Path:
    """Drop ``command`` for the running bot; returns its file."""
    path = commands_dir(state_dir) / f"{command.id}{_SUFFIX}"
    _write_whole(path, asdict(command))
    return path


def take_commands(state_dir: str | os.PathLike[str]) -> list[Command]:
    """The commands waiting in ``<state>/commands/``, oldest issued first. A file that is not a
    command is acknowledged as rejected (moved to ``done/`` with the error) and logged, so one
    bad file never stops the loop or blocks the commands after it."""
    folder = commands_dir(state_dir)
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.glob(f"*{_SUFFIX}")):
        if path.name.startswith("."):
            continue
        try:
            found.append(Command.from_dict(json.loads(path.read_text(encoding="utf-8")), str(path)))
        except (OSError, UnicodeDecodeError, ValueError, TypeError, CommandError) as error:
            message = str(error) if isinstance(error, CommandError) else f"{path}: not a command file ({error})"
            logger.warning("%s error: %s; moved to %s", COMMAND_MALFORMED, message, folder / DONE)
            _write_whole(
                folder / DONE / path.name,
                {
                    "command": None,
                    "file": path.name,
                    "outcome": {"ok": False, "code": COMMAND_MALFORMED, "message": message},
                },
            )
            path.unlink(missing_ok=True)
    return sorted(found, key=lambda c: (c.issued_ts, c.id))


def acknowledge(state_dir: str | os.PathLike[str], command: Command, outcome: Mapping[str, Any]) -> Path:
    """After the command's records are committed: its outcome to ``done/<id>.json`` (which the
    waiting CLI reads), then the command file removed. Returns the outcome's file."""
    path = done_path(state_dir, command.id)
    _write_whole(path, {"command": asdict(command), "outcome": dict(outcome)})
    (commands_dir(state_dir) / f"{command.id}{_SUFFIX}").unlink(missing_ok=True)
    return path


def outcome_of(state_dir: str | os.PathLike[str], command_id: str) -> dict[str, Any] | None:
    """The acknowledged outcome of a command, None while it waits."""
    try:
        text = done_path(state_dir, command_id).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    outcome = json.loads(text)["outcome"]
    return dict(outcome)


# ------------------------------------------------------------------ applying


def current_state(changes: Sequence[StateChange]) -> tuple[TradingState, str, str]:
    """The state the last recorded change set; ACTIVE before any."""
    if not changes:
        return states.ACTIVE, "", ""
    last = changes[-1]
    return last.state, last.reason, last.source


def recorded_conditions(changes: Sequence[StateChange]) -> list[states.Claim]:
    """The measured condition (kill switch, market data, policy) the last recorded change holds,
    when it is one: what a command applied without the bot (no plan, no account) knows of them."""
    if changes and changes[-1].state != states.ACTIVE:
        last = changes[-1]
        if last.source in (states.KILL_SWITCH, states.MARKET_DATA, states.POLICY):
            return [states.Claim(last.state, last.reason, last.source)]
    return []


def differs(new: tuple[str, str, str], recorded: tuple[str, str, str]) -> bool:
    """A change worth recording: another state, or the same held for another reason (ACTIVE
    has no reason of its own: the recorded one says what ended the last state)."""
    return new[0] != recorded[0] or (new[0] != states.ACTIVE and new[1:] != recorded[1:])


def apply_command(
    command: Command,
    now: float,
    active: Sequence[Override],
    current: tuple[TradingState, str, str],
    conditions: Sequence[states.Claim] = (),
    *,
    seen: bool = False,
) -> tuple[BotRecords, dict[str, Any]]:
    """What ``command`` records at ``now`` and the outcome the operator reads.

    ``active``: the overrides active now; ``current``: the recorded state; ``conditions``: the
    measured claims (the loop's engine.bot.states.conditions, or :func:`recorded_conditions`);
    ``seen``: an override with the command's id was recorded before (the command is applied
    again after a crash): nothing more is recorded."""
    target = ACTIONS[command.action]
    held = list(active)
    records: dict[str, Any] = {}
    if seen:
        message = f"command {command.id} was already applied"
    elif target is not None:
        until = None if command.for_s is None else now + command.for_s
        override = Override(command.id, target, command.reason, now, until)
        held.append(override)
        records["overrides_set"] = (override,)
        message = f"{target} by the operator: {command.reason}" + (
            "" if until is None else f" (for {format_duration(until - now)}, until {iso_utc(until)})"
        )
    else:
        lifting = [o for o in held if o.source in states.RESUMABLE]
        held = [o for o in held if o.source not in states.RESUMABLE]
        records["overrides_lifted"] = tuple(
            LiftedOverride(o.id, now, f"resumed by the operator: {command.reason}") for o in lifting
        )
        message = (
            f"lifted {len(lifting)} override(s): " + "; ".join(f"{o.state} by {o.source} ({o.reason})" for o in lifting)
            if lifting
            else "no operator override was active"
        )
    state, reason, source = states.resolve([*states.held(held), *conditions])
    if not seen and differs((state, reason, source), current):
        if state == states.ACTIVE:  # nothing holds it: the change is the operator's resume
            reason, source = f"resumed: {command.reason}", states.OPERATOR
        records["state_changes"] = (StateChange(now, state, reason, source),)
    if target is None and state != states.ACTIVE:  # what holds it now is not the operator's
        message += f"; trading stays {state}: {reason} ({source}) — resume lifts the operator's overrides and recovery_cycle's halt only"
    outcome = {
        "ok": True,
        "command": command.id,
        "action": command.action,
        "state": state,
        "reason": reason,
        "source": source,
        "message": message,
    }
    return BotRecords(**records), outcome
