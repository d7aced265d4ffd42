"""`rulebot run --paper`: the running bot (engine/bot/loop.py) on a feed, with the paper broker,
its state in ``<state>/bot.db``, hot reload of the rules folder, operator commands.

Signals: SIGTERM and SIGINT finish the cycle under way, commit, release the lock and exit 0;
SIGHUP reloads the rules now. A rule set that is invalid at start is refused with every
error (exit 1); an invalid edit while running keeps the last good plan (logs/reloads.jsonl
and `rulebot status` say why).
"""

from __future__ import annotations

import logging
import os
import shlex
import signal
import sys
from types import FrameType
from typing import TYPE_CHECKING, Any

import click

from engine.cli import compose
from engine.cli.exit_codes import EXIT_INVALID, EXIT_OK, EXIT_USAGE
from engine.cli.options import check_writable, load_plan

if TYPE_CHECKING:
    from engine.bot.loop import Bot, Summary
    from engine.trading.runner import Runner

logger = logging.getLogger(__name__)

DB = "bot.db"  # the bot's state database inside --state (as `rulebot halt|status` expect)
READY = "rulebot run: live"  # the line on stderr once the bot runs (tests and scripts wait for it)


def _speed(text: str) -> float | None:
    if text == "max":
        return None
    try:
        value = float(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is neither a number nor max", param_hint="--speed") from None
    if not 0 < value < float("inf"):
        raise click.BadParameter(f"{text!r}: the speed is a multiple of real time above 0", param_hint="--speed")
    return value


@click.command()
@click.option(
    "--paper", is_flag=True, help="Trade with the paper broker (required: live trading comes with the venues)."
)
@click.option("--rules", "rules_dir", default="rules", show_default=True, type=click.Path(exists=True, file_okay=False))
@click.option("--profile", type=click.Choice(["paper", "live"]), help="Profile (default: the rule set's).")
@click.option(
    "--feed",
    "feeds",
    multiple=True,
    metavar="replay:FILE[,FILE…]|tail:FILE",
    help="Where snapshots come from: recorded files replayed on a simulated clock, or a JSON-lines "
    "file followed as it grows (real time). Repeat replay: for several files.",
)
@click.option(
    "--speed",
    "speed_text",
    default="max",
    show_default=True,
    help="A replay's clock: N times real time, or max (as fast as possible, steps committed in groups).",
)
@click.option(
    "--state",
    "state_dir",
    default="state",
    show_default=True,
    type=click.Path(file_okay=False),
    help="The bot's state folder: bot.db, its lock, commands/ (one running bot per folder).",
)
@click.option("--logs", "logs_dir", default="logs", show_default=True, type=click.Path(file_okay=False))
def run(
    paper: bool,
    rules_dir: str,
    profile: str | None,
    feeds: tuple[str, ...],
    speed_text: str,
    state_dir: str,
    logs_dir: str,
) -> None:
    """Run the bot: the declared schedules on a clock, the bot cycle trading each snapshot of
    the feed, the other tasks as scheduled, the rules reloaded when they change.

    A replay at --speed max trades exactly as `rulebot dry-run` on the same files. Stop it
    with SIGTERM or Ctrl-C (the cycle under way is finished and committed; exit 0); start it
    again with the same arguments and it resumes where it stopped."""
    if not paper:
        raise click.UsageError("give --paper: live trading on the venues is not built yet (the venues issue)")
    speed = _speed(speed_text)
    try:
        feed = compose.open_feed(feeds)
    except (ValueError, OSError) as error:
        raise click.BadParameter(str(error), param_hint="--feed") from None
    plan = load_plan(rules_dir, profile)
    check_writable(logs_dir, "--logs")
    check_writable(state_dir, "--state")
    code = serve(plan, rules_dir, profile, feed, speed, os.path.join(state_dir, DB), logs_dir, state_dir)
    if code != EXIT_OK:
        sys.exit(code)


def serve(
    plan: Any,
    rules_dir: str,
    profile: str | None,
    feed: Any,
    speed: float | None,
    db: str,
    logs_dir: str,
    commands_state: str | None,
) -> int:
    """Own the state, run the bot until the feed ends or a signal stops it; the exit code."""
    from engine.bot.clock import ReplayClock, WallClock
    from engine.bot.loop import Bot
    from engine.bot.reload import Reloader, compile_plan
    from engine.trading.runner import Runner

    command = shlex.join(["rulebot", *sys.argv[1:]])
    with (
        compose.state_lock(db, command),
        compose.state_store(db) as store,
        compose.RunLogs(logs_dir, store, keep_s=plan.learning.logs_keep_s) as logs,
    ):
        runner = Runner(plan, compose.resumed_paper_broker(plan, store), store)
        store.record_rule_version(plan.version, "human", message=f"rulebot run --paper ({plan.profile})")
        clock = WallClock() if feed.realtime else ReplayClock(speed)
        host = compose.BotHost(logs, commands_state)
        bot = Bot(runner, feed, clock, host, group_commits=not feed.realtime and speed is None)
        reloader = Reloader(
            lambda: compile_plan(rules_dir, profile), plan.version, prepare=bot.prepare, notify=bot.wake.set
        )
        bot.attach(reloader)
        previous = _handle_signals(bot, reloader)
        watcher = compose.rules_watcher(
            rules_dir, lambda paths: reloader.request("edited: " + ", ".join(sorted(paths)))
        )
        try:
            click.echo(
                f"{READY} {plan.version} ({plan.profile}, paper) on {feed.name}; state {db}; pid {os.getpid()}",
                err=True,
            )
            summary = bot.run()
        finally:
            watcher.stop()
            reloader.stop()
            feed.close()
            _restore_signals(previous)
        _report(summary, runner, feed, db, logs_dir)
    if any(p.is_error for p in feed.problems):
        return EXIT_INVALID
    return EXIT_OK


def _handle_signals(bot: Bot, reloader: Any) -> dict[int, Any]:
    """SIGTERM/SIGINT stop the bot after its cycle; SIGHUP asks for a reload. The handlers only
    set flags: a step is never cut short."""

    def stop(signum: int, frame: FrameType | None) -> None:
        bot.stop()

    def hup(signum: int, frame: FrameType | None) -> None:
        reloader.request("SIGHUP")

    previous = {}
    for signum, handler in ((signal.SIGTERM, stop), (signal.SIGINT, stop), (getattr(signal, "SIGHUP", None), hup)):
        if signum is not None:
            previous[signum] = signal.signal(signum, handler)
    return previous


def _restore_signals(previous: dict[int, Any]) -> None:
    for signum, handler in previous.items():
        signal.signal(signum, handler)


def _report(summary: Summary, runner: Runner, feed: Any, db: str, logs_dir: str) -> None:
    from engine.cli.options import report_problems

    report_problems(feed.problems)
    store = runner.store
    trades = store.trades()
    net = sum(t.net_pnl for t in trades)
    how = (
        "the feed ended"
        if summary.ended
        else "stopped by a signal; the same command resumes"
        if summary.stopped
        else ""
    )
    click.echo(
        f"run: {len(trades)} trade(s), net P&L {net:+,.2f} USD, {len(store.open_positions())} position(s) open; "
        f"{summary.steps} new step(s), {summary.reloads} reload(s), {summary.task_runs} task run(s)"
        f"{f' ({summary.failed_tasks} failed)' if summary.failed_tasks else ''}; {how}; "
        f"version {runner.plan.version}; state {db}, logs {logs_dir}/"
    )
    if summary.refused or runner.screen.alarm:
        state = f"; trading is REDUCING: {runner.screen.alarm}" if runner.screen.alarm else ""
        click.echo(
            f"warning: {summary.refused:,} market value(s) refused as implausible in this run and treated as missing "
            f"({logs_dir}/market_data.jsonl has each with its reason){state}"
        )


__all__ = ["DB", "EXIT_USAGE", "READY", "run", "serve"]
