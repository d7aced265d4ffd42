"""`rulebot halt|reduce|resume --reason TEXT [--for DURATION] [--state DIR]`: the operator's
trading state, against a running bot or a stopped one.

A bot running on the state (it holds ``<state>/bot.db``'s lock) is sent the command as a file
(engine/bot/control.py) and the CLI waits, up to ``--wait`` seconds, for the bot to acknowledge
it with the outcome. With no bot running the CLI takes the lock itself and records the
override and the state change in ``bot.db``, so the next start begins in that state.
"""

from __future__ import annotations

import logging
import math
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import click

from engine.cli import compose
from engine.cli.exit_codes import EXIT_INVALID, EXIT_OK
from engine.cli.options import state_folder

logger = logging.getLogger(__name__)

DB = "bot.db"  # the bot's state database inside --state
POLL_S = 0.05  # how often the CLI looks for the bot's acknowledgement


def _common(command: Any) -> Any:
    command = click.option("--reason", required=True, help="Why (recorded, shown by rulebot status).")(command)
    command = click.option(
        "--wait",
        "wait_s",
        type=click.FloatRange(min=0, min_open=True),
        default=30.0,
        show_default=True,
        help="Seconds to wait for a running bot to acknowledge the command.",
    )(command)
    command = click.option(
        "--logs",
        "logs_dir",
        default="logs",
        show_default=True,
        type=click.Path(file_okay=False),
        help="The bot's logs folder: with no bot running, the state change is written to its "
        "state_changes.jsonl here (a running bot writes it itself).",
    )(command)
    return state_folder("The bot's state folder (bot.db, its lock, commands/).")(command)


def _for_option(command: Any) -> Any:
    return click.option("--for", "for_text", help="How long it holds (30m, 2h, 1d); default until `rulebot resume`.")(
        command
    )


@click.command()
@_for_option
@_common
def halt(reason: str, for_text: str | None, wait_s: float, logs_dir: str, state_dir: str) -> None:
    """Halt trading: no entries and no discretionary exits; the stops still run."""
    _send("halt", reason, for_text, wait_s, state_dir, logs_dir)


@click.command()
@_for_option
@_common
def reduce(reason: str, for_text: str | None, wait_s: float, logs_dir: str, state_dir: str) -> None:
    """Reduce: exits only, no new entries."""
    _send("reduce", reason, for_text, wait_s, state_dir, logs_dir)


@click.command()
@_common
def resume(reason: str, wait_s: float, logs_dir: str, state_dir: str) -> None:
    """Lift the operator's overrides and a recovery_cycle halt (a person looked); a kill-switch
    breach, or the state the watchdog or reconciliation holds, stays until they clear."""
    _send("resume", reason, None, wait_s, state_dir, logs_dir)


def _send(action: str, reason: str, for_text: str | None, wait_s: float, state_dir: str, logs_dir: str) -> None:
    from engine.bot.control import Command, CommandError
    from engine.common.errors import StateLocked
    from engine.language.durations import parse_duration

    for_s = None
    if for_text is not None:
        try:
            for_s = parse_duration(for_text)
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="--for") from None
    state = Path(state_dir)
    if not state.is_dir():
        raise CommandError(
            f"rulebot {action}: no state folder {state}: give --state the folder the bot runs with "
            f"(`rulebot run --state DIR`); nothing was recorded"
        )
    command = Command.new(action, reason, for_s)
    try:
        with compose.state_lock(str(state / DB), shlex.join(sys.argv)):
            outcome = _directly(state, logs_dir, command)
    except StateLocked as locked:
        _through_the_bot(state, command, wait_s, locked.holder)
        return
    click.echo(
        f"{outcome['message']} (no bot running: recorded in {state / DB}; the next start begins {outcome['state']})"
    )
    sys.exit(EXIT_OK)


def _directly(state: Path, logs_dir: str, command: Any) -> dict[str, Any]:
    """No bot runs (this process holds the lock): record the command in the state itself, and
    its state change in the logs through the outbox (exactly once, as the bot would)."""
    from engine.bot.control import apply_command, current_state, recorded_conditions

    with (
        compose.state_store(str(state / DB)) as store,
        compose.RunLogs(logs_dir, store, keep_s=math.inf),  # no day is closed or pruned here
    ):
        now = time.time()
        changes = store.state_changes(limit=1)  # the current state is the last change's
        records, outcome = apply_command(
            command,
            now,
            store.active_overrides(now),
            current_state(changes),
            recorded_conditions(changes),
            seen=store.has_override(command.id),
        )
        store.record_bot(records)
    logger.info("%s recorded without a bot: %s", command.action, outcome["message"])
    return outcome


def _through_the_bot(state: Path, command: Any, wait_s: float, holder: dict[str, Any]) -> None:
    """A bot holds the state: hand it the command and wait for its acknowledgement."""
    from engine.bot.control import COMMAND_UNACKNOWLEDGED, CommandError, outcome_of, submit

    path = submit(state, command)
    who = f"pid {holder['pid']}" if holder.get("pid") else "the process holding the lock"
    click.echo(f"waiting up to {wait_s:g} s for the bot ({who}) to acknowledge {command.action} {command.id}", err=True)
    deadline = time.monotonic() + wait_s
    while (outcome := outcome_of(state, command.id)) is None:
        if time.monotonic() >= deadline:
            raise CommandError(
                f"the bot ({who}) did not acknowledge {command.action} within {wait_s:g} s; the command stays in "
                f"{path} and is applied when the bot next reads its commands (a `rulebot paper` run never does: "
                f"delete the file, or stop that run and repeat the command)",
                COMMAND_UNACKNOWLEDGED,
            )
        time.sleep(POLL_S)
    click.echo(outcome.get("message", ""))
    sys.exit(EXIT_OK if outcome.get("ok") else EXIT_INVALID)
