"""`rulebot run --paper|--live`: the running bot (engine/bot/loop.py) on a feed, with the paper
broker or, with ``--live``, the live broker on the execution venue (engine/cli/live.py says what
is checked before the first trade: keys, instruments, reconciliation, protective stops), its
state in ``<state>/bot.db``, hot reload of the rules folder, operator commands.
`rulebot paper FILES…` is this same command on a replay of FILES at --speed max
(engine/cli/paper.py only translates its arguments): one implementation, ``start``.

Signals: SIGTERM finishes the cycle under way, commits, prints the summary, releases the lock
and exits 0. SIGINT (Ctrl-C) does the same at any instant of the run but exits 130, the UNIX
convention for an interrupted command. While the rules are read, Ctrl-C stops at once
(nothing was written); during start-up (the lock, opening and migrating the database,
resuming, recording the rule version) it is only recorded and then undone: a state database
this run created is removed again. SIGHUP reloads the rules now. A rule set that is invalid
at start is refused with every error (exit 1); an invalid edit while running keeps the last
good plan (logs/reloads.jsonl and `rulebot status` say why).
"""

from __future__ import annotations

import logging
import os
import shlex
import signal
import sys
from contextlib import nullcontext
from dataclasses import dataclass
from types import FrameType
from typing import TYPE_CHECKING, Any

import click

from engine.cli import compose
from engine.cli.exit_codes import EXIT_INTERRUPTED, EXIT_INVALID, EXIT_OK, EXIT_USAGE
from engine.cli.options import check_writable, load_plan, progress, report_problems
from engine.common import interrupts
from engine.common.errors import ReplayOnly

if TYPE_CHECKING:
    import threading

    from engine.bot.loop import Bot, Summary
    from engine.language.compiler import Plan
    from engine.market.snapshot import Snapshot
    from engine.trading.runner import Runner

logger = logging.getLogger(__name__)

DB = "bot.db"  # the bot's state database inside --state (as `rulebot halt|status` expect)
READY = "rulebot run: live"  # the line on stderr once the bot runs (tests and scripts wait for it)
_SQLITE_FILES = ("", "-wal", "-shm", "-journal")  # a database and the files SQLite keeps beside it


learn_option = click.option(
    "--learn",
    is_flag=True,
    help="Run the learners on their schedules (the `learn` task): promoted versions are written into "
    "the rules folder's learned/ and hot-reloaded. Off by default: learning changes what the bot trades.",
)


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
@click.option("--paper", is_flag=True, help="Trade with the paper broker (simulated fills, no keys).")
@click.option(
    "--live",
    is_flag=True,
    help="Trade on the execution venue with real orders (docs/live-trading.md): keys from the environment, "
    "the live profile, a reconciliation with the venue before the first trade.",
)
@click.option(
    "--base-url",
    metavar="URL",
    help="With --live or --feed live: the execution venue's API at this URL instead of the rules' "
    "(a demo or a local fake venue).",
)
@click.option("--rules", "rules_dir", default="rules", show_default=True, type=click.Path(exists=True, file_okay=False))
@click.option("--profile", type=click.Choice(["paper", "live"]), help="Profile (default: the rule set's).")
@click.option(
    "--feed",
    "feeds",
    multiple=True,
    metavar="replay:FILE[,FILE…]|tail:FILE|live[:VENUE]",
    help="Where snapshots come from: recorded files replayed on a simulated clock, a JSON-lines "
    "file followed as it grows (real time), or a venue's market data at each bot cycle (real time, "
    "recorded into LOGS/snapshots/; docs/venues/README.md). Repeat replay: for several files.",
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
@learn_option
def run(
    paper: bool,
    live: bool,
    base_url: str | None,
    rules_dir: str,
    profile: str | None,
    feeds: tuple[str, ...],
    speed_text: str,
    state_dir: str,
    logs_dir: str,
    learn: bool,
) -> None:
    """Run the bot: the declared schedules on a clock, the bot cycle trading each snapshot of
    the feed, the other tasks as scheduled, the rules reloaded when they change.

    A replay at --speed max trades exactly as `rulebot dry-run` on the same files; killed at
    any instant and started again with the same arguments, it resumes to exactly the trades,
    state and logs of an uninterrupted run. SIGTERM finishes and commits the cycle under way,
    prints the summary and exits 0; Ctrl-C (SIGINT) does the same and exits 130; Ctrl-C
    during start-up changes nothing (a new state database is removed again)."""
    if paper == live:
        raise click.UsageError("give --paper (the paper broker) or --live (real orders on the venue), one of them")
    if live and profile not in (None, "live"):
        raise click.UsageError(f"--live trades the live profile, not --profile {profile}")
    if base_url and not live and not any(part.partition(":")[0] == "live" for part in feeds):
        raise click.UsageError("--base-url is for --live or --feed live (a replay calls no venue)")
    speed = _speed(speed_text)
    try:
        feed = compose.open_feed(
            feeds, rules_dir=rules_dir, profile=profile, logs_dir=logs_dir, state_dir=state_dir, base_url=base_url
        )
    except (ValueError, OSError) as error:
        raise click.BadParameter(str(error), param_hint="--feed") from None
    db = os.path.join(state_dir, DB)
    launch = Launch(
        "run",
        rules_dir,
        "live" if live else profile,
        feed,
        speed,
        db,
        logs_dir,
        state_dir,
        learn=learn,
        live=live,
        base_url=base_url,
    )
    code = start(launch)
    if code != EXIT_OK:
        sys.exit(code)


@dataclass(frozen=True, slots=True)
class Launch:
    """What ``rulebot run`` (or its alias ``paper``) was asked to run."""

    name: str  # the command, in its messages: run or paper
    rules_dir: str
    profile: str | None
    feed: Any  # engine.bot.feed.Feed
    speed: float | None  # a replay's clock: N× real time, None as fast as possible
    db: str  # the state database
    logs_dir: str
    commands_state: str | None  # the folder whose commands/ holds operator commands (None: none read)
    learn: bool = False  # run the learners on their schedules (--learn)
    live: bool = False  # real orders on the execution venue (--live)
    base_url: str | None = None  # --live: the venue's API here instead of the rules' URL


def start(launch: Launch) -> int:
    """The command ``rulebot NAME`` (run, or its alias paper): read the rules, own the state
    database, run the bot on the feed until it ends or a signal stops it, print the summary;
    the exit code. Ctrl-C raises while the rules are read, is only recorded from then on and
    is honoured after start-up (undoing it) and after the cycle under way."""
    name, feed, db, logs_dir = launch.name, launch.feed, launch.db, launch.logs_dir
    try:
        with interrupts.guarded() as guard:
            try:
                plan = load_plan(launch.rules_dir, launch.profile)
            except KeyboardInterrupt:  # while the rules were read: nothing was written
                click.echo(f"rulebot {name}: stopped by Ctrl-C before the run started; nothing changed", err=True)
                return EXIT_INTERRUPTED
            interrupts.defer()  # from here on Ctrl-C is recorded, and the work stops where it is safe
            if not launch.live and plan.paper_broker.get("fill_model") == "freqtrade":
                raise ReplayOnly(
                    f"the {plan.profile} profile's paper_broker has fill_model: freqtrade, which fills inside each "
                    "candle from its high and low: only `rulebot dry-run` can follow it (remove fill_model to run)"
                )
            check_writable(logs_dir, "--logs")
            check_writable(os.path.dirname(db) or ".", "--state")
            code = serve(guard, launch, plan)
        return EXIT_INTERRUPTED if guard.arrived else code  # also a Ctrl-C after the summary
    finally:
        feed.close()


def serve(guard: interrupts.Guard, launch: Launch, plan: Plan) -> int:
    """Own the state (start-up runs whole; a Ctrl-C during it is undone), run the bot, report;
    the exit code."""
    from engine.cli.learning_apply import audited_numbers
    from engine.trading.runner import Runner
    from engine.versions.live import record_live
    from engine.versions.model import LIVE

    name, db = launch.name, launch.db
    command = shlex.join(["rulebot", *sys.argv[1:]])
    with compose.state_lock(db, command):  # one process per state, taken before the database is opened
        created = not os.path.exists(db)
        with (
            compose.state_store(db) as store,
            compose.RunLogs(launch.logs_dir, store, keep_s=plan.learning.logs_keep_s) as logs,  # a crash's leftovers
        ):  # are delivered first
            if launch.live:  # keys, instruments, reconciliation, stops: refused before anything is traded
                runner = _live_runner(plan, store, launch)
            else:
                runner = Runner(plan, compose.resumed_paper_broker(plan, store), store)  # resumes, or refuses first
            entry = record_live(store, plan.version, plan.canonical, f"rulebot {name} ({plan.profile})")
            if entry.promotion == LIVE and not entry.numbers:  # a learned version its bot never reloaded
                numbers = audited_numbers(launch.logs_dir, plan.version)
                if numbers is not None:
                    store.mark_promotion(entry.seq, LIVE, numbers)
            if guard.arrived:
                code = None
            else:
                code = _run_bot(guard, launch, plan, runner, logs)
        if code is None:  # Ctrl-C during start-up: undo it while the lock is still held
            if created:
                _remove_database(db)
            kept = "was not created" if created else "holds no new step"
            click.echo(f"rulebot {name}: stopped by Ctrl-C during start-up; {db} {kept}", err=True)
            code = EXIT_INTERRUPTED
    return code


def _live_runner(plan: Plan, store: Any, launch: Launch) -> Runner:
    """The runner on the live broker, after the checks of engine/cli/live.py (each refuses
    the start with LiveRefused or InstrumentMismatch, exit 1, before any order is sent)."""
    from engine.cli import live
    from engine.trading.runner import Runner

    venue = live.execution_venue(plan, os.environ)
    exchange = plan.venues.exchange(venue)
    keys = live.read_credentials(exchange, os.environ)
    broker = compose.live_broker(plan, venue, store, keys, launch.base_url)
    runner = Runner(plan, broker, store)
    live.reconcile_at_start(runner, broker, live.reconciliation_tolerance(plan))
    placed = broker.protect_at_start(plan, list(runner.positions.values()))
    if placed:
        logger.warning("%d protective stop(s) placed at %s for positions found without one", placed, venue)
    return runner


def _run_bot(guard: interrupts.Guard, launch: Launch, plan: Plan, runner: Runner, logs: compose.RunLogs) -> int:
    """The bot on ``feed`` until it ends or a signal stops it, then the summary; the exit code.
    A replay shows progress (snapshots, rate, ETA) on stderr when it is a terminal."""
    from engine.bot.clock import ReplayClock, WallClock
    from engine.bot.loop import Bot
    from engine.bot.reload import Reloader, compile_plan
    from engine.cli.learning_apply import BotLearning, feed_files

    name, feed, speed, db, rules_dir, profile = (
        launch.name,
        launch.feed,
        launch.speed,
        launch.db,
        launch.rules_dir,
        launch.profile,
    )
    clock = WallClock() if feed.realtime else ReplayClock(speed)
    host = compose.BotHost(logs, launch.commands_state)
    paths = getattr(feed, "paths", None)
    bar = nullcontext() if feed.realtime or paths is None else progress(tuple(paths), f"{name} {plan.version}")
    with bar as shown:
        counted = feed if shown is None else _Counted(feed, shown)
        learning = BotLearning(rules_dir, launch.logs_dir, feed_files(feed)) if launch.learn else None
        bot = Bot(runner, counted, clock, host, group_commits=not feed.realtime and speed is None, learning=learning)

        def compile_fn() -> Plan:  # shared lock: never mid-way through a learner's write-back
            with compose.rules_lock(rules_dir, shared=True):
                return compile_plan(rules_dir, profile)

        reloader = Reloader(compile_fn, plan.version, prepare=bot.prepare, notify=bot.wake.set)
        bot.attach(reloader)
        stopped_by: list[str] = []
        previous = _handle_signals(bot, reloader, stopped_by)
        watcher = compose.rules_watcher(
            rules_dir, lambda edited: reloader.request("edited: " + ", ".join(sorted(edited)))
        )
        guard.on_arrival = lambda: _stop(bot, stopped_by, "Ctrl-C")
        try:
            if guard.arrived:  # after start-up, before the bot was there to be told
                _stop(bot, stopped_by, "Ctrl-C")
            click.echo(  # for run: READY
                f"rulebot {name}: live {plan.version} ({plan.profile}, {_broker_name(launch, runner)}) on {feed.name}; "
                f"state {db}; "
                f"pid {os.getpid()}{'; learning on (--learn)' if launch.learn else ''}",
                err=True,
            )
            summary = bot.run()
        finally:
            guard.on_arrival = None
            watcher.stop()
            reloader.stop()
            _restore_signals(previous)
    _report(name, summary, stopped_by, runner, feed, db, logs.folder)
    if any(p.is_error for p in feed.problems):
        return EXIT_INVALID
    if not feed.realtime and not summary.snapshots:
        click.echo(f"rulebot {name}: the snapshot files hold no snapshot that could be read", err=True)
        return EXIT_INVALID
    return EXIT_OK


def _broker_name(launch: Launch, runner: Runner) -> str:
    """``paper``, or ``live on VENUE`` (the READY line says which orders are real)."""
    return f"live on {runner.broker.venue}" if launch.live else "paper"


class _Counted:
    """A feed whose snapshots are counted on a progress bar as the bot takes them."""

    def __init__(self, feed: Any, bar: Any) -> None:
        self._feed, self._bar = feed, bar
        self.realtime, self.name, self.problems = feed.realtime, feed.name, feed.problems

    @property
    def problems_dropped(self) -> int:
        return int(self._feed.problems_dropped)

    def next(self, wake: threading.Event, timeout_s: float | None) -> Snapshot | None:
        snapshot: Snapshot | None = self._feed.next(wake, timeout_s)
        if snapshot is not None:
            self._bar.update()
        return snapshot

    @property
    def ended(self) -> bool:
        return bool(self._feed.ended)

    def close(self) -> None:
        self._feed.close()


def _stop(bot: Bot, stopped_by: list[str], why: str) -> None:
    """Ask the bot to stop after its cycle (signal-handler safe); the first reason is kept."""
    if not stopped_by:
        stopped_by.append(why)
    elif why == "Ctrl-C":  # Ctrl-C decides the exit code (130) whatever came first: say so
        stopped_by[0] = why
    bot.stop()


def _handle_signals(bot: Bot, reloader: Any, stopped_by: list[str]) -> dict[int, Any]:
    """SIGTERM stops the bot after its cycle; SIGHUP asks for a reload (SIGINT is the guard's,
    see ``start``). The handlers only set flags: a step is never cut short."""

    def term(signum: int, frame: FrameType | None) -> None:
        _stop(bot, stopped_by, "SIGTERM")

    def hup(signum: int, frame: FrameType | None) -> None:
        reloader.request("SIGHUP")

    previous = {}
    for signum, handler in ((signal.SIGTERM, term), (getattr(signal, "SIGHUP", None), hup)):
        if signum is not None:
            previous[signum] = signal.signal(signum, handler)
    return previous


def _restore_signals(previous: dict[int, Any]) -> None:
    for signum, handler in previous.items():
        signal.signal(signum, handler)


def _report(
    name: str, summary: Summary, stopped_by: list[str], runner: Runner, feed: Any, db: str, logs_dir: str
) -> None:
    """The summary line on stdout (and a warning for refused market values)."""
    report_problems(feed.problems)
    if feed.problems_dropped:
        click.echo(f"… and {feed.problems_dropped:,} more problem(s) of the feed, each logged as it came", err=True)
    store = runner.store
    trades = store.trades()
    net = sum(t.net_pnl for t in trades)
    if summary.ended:
        how = "the feed ended"
    elif summary.stopped:
        how = f"stopped by {stopped_by[0] if stopped_by else 'a signal'}: the same command resumes the run"
    else:
        how = "stopped"
    click.echo(
        f"{name}: {len(trades)} trade(s), net P&L {net:+,.2f} USD, {len(store.open_positions())} position(s) open; "
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


def _remove_database(path: str) -> None:
    """Remove a database this run created (closed, its lock held): Ctrl-C during start-up
    leaves no state behind. The lock file stays, as it always does."""
    for suffix in _SQLITE_FILES:
        try:
            os.remove(path + suffix)
        except FileNotFoundError:
            continue
        except OSError as error:  # the exit is still 130; the file is a valid, empty state
            logger.warning("could not remove %s, created by the stopped start-up: %s", path + suffix, error.strerror)


__all__ = ["DB", "EXIT_USAGE", "READY", "Launch", "run", "start"]
