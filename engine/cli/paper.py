"""`rulebot paper`: trade snapshot files as a live feed with the paper broker, state in SQLite.

Ctrl-C (SIGINT) at any instant ends with exit 130 and nothing half-written. While the rules
are read it stops at once (nothing was written). Start-up (the state lock, opening and
migrating the database, resuming, recording the rule version) and every runner step run
whole with Ctrl-C only recorded: a step's transaction and its JSON-lines log lines are
never separated. It is honoured between steps, and during start-up by undoing it: a
database this run created is removed again. After the loop the summary is printed, the
logs closed and the lock released, then the exit is 130.
"""

from __future__ import annotations

import logging
import os
import shlex
import sys
from typing import TYPE_CHECKING

import click

from engine.cli import compose
from engine.cli.exit_codes import EXIT_INTERRUPTED, EXIT_INVALID, EXIT_OK
from engine.cli.options import check_writable, load_plan, progress, report_problems
from engine.common import interrupts

if TYPE_CHECKING:
    from engine.language.diagnostics import Diagnostic
    from engine.trading.runner import Runner

logger = logging.getLogger(__name__)

_SQLITE_FILES = ("", "-wal", "-shm", "-journal")  # a database and the files SQLite keeps beside it


@click.command()
@click.argument("snapshots", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--rules", "rules_dir", default="rules", show_default=True, type=click.Path(exists=True, file_okay=False))
@click.option("--profile", type=click.Choice(["paper", "live"]), help="Profile (default: the rule set's).")
@click.option(
    "--state",
    "state_path",
    default="state/paper.db",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="SQLite state database; a run resumes from it after a crash.",
)
@click.option(
    "--logs",
    "logs_dir",
    default="logs",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder of the JSON-lines logs.",
)
def paper(snapshots: tuple[str, ...], rules_dir: str, profile: str | None, state_path: str, logs_dir: str) -> None:
    """Trade SNAPSHOTS as a live feed with the paper broker, keeping state in SQLite.

    Killed at any moment and started again with the same arguments, it resumes after the
    last committed snapshot and ends with exactly the trades and logs of an uninterrupted run. One
    process per state: while another rulebot process holds --state, this one is refused
    at start (exit 6, RB805, naming that process).

    Ctrl-C stops cleanly at any instant (exit 130): the snapshot being traded is finished,
    committed and logged whole, the summary says what was done, and the same command
    resumes. Ctrl-C during start-up changes nothing (a new --state is not left behind)."""
    with interrupts.guarded() as guard:
        try:
            code = _paper(guard, snapshots, rules_dir, profile, state_path, logs_dir)
        except KeyboardInterrupt:  # while the rules were read: nothing was written
            click.echo("rulebot paper: stopped by Ctrl-C before the run started; nothing changed", err=True)
            sys.exit(EXIT_INTERRUPTED)
    if guard.arrived:  # also a Ctrl-C that came after the summary was printed
        code = EXIT_INTERRUPTED
    if code != EXIT_OK:
        sys.exit(code)


def _paper(
    guard: interrupts.Guard,
    snapshots: tuple[str, ...],
    rules_dir: str,
    profile: str | None,
    state_path: str,
    logs_dir: str,
) -> int:
    """The command; returns its exit code. Ctrl-C raises while the rules are read, is only
    recorded from the lock on, and is honoured after start-up and between steps."""
    from engine.trading.runner import Runner

    plan = load_plan(rules_dir, profile)
    check_writable(logs_dir, "--logs")
    command = shlex.join(["rulebot", *sys.argv[1:]])
    interrupts.defer()  # start-up runs whole: a lock half-taken or a migration half-done helps nobody
    with compose.state_lock(state_path, command):  # one process per state, taken before the database is opened
        created = not os.path.exists(state_path)
        with (
            compose.state_store(state_path) as store,
            compose.RunLogs(logs_dir, store, keep_s=plan.learning.logs_keep_s) as logs,  # exactly once: a crash's
        ):  # leftovers are delivered first
            runner = Runner(plan, compose.resumed_paper_broker(plan, store), store)  # resumes, or refuses first
            store.record_rule_version(plan.version, "human", message=f"rulebot paper ({plan.profile})")
            if guard.arrived:
                code = None
            else:
                code = _run(guard, runner, logs, snapshots, state_path, logs_dir)
        if code is None:  # Ctrl-C during start-up: undo it while the lock is still held
            if created:
                _remove_database(state_path)
            kept = "was not created" if created else "holds no new step"
            click.echo(f"rulebot paper: stopped by Ctrl-C during start-up; {state_path} {kept}", err=True)
            code = EXIT_INTERRUPTED
    return code


def _run(
    guard: interrupts.Guard,
    runner: Runner,
    logs: compose.RunLogs,
    snapshots: tuple[str, ...],
    state_path: str,
    logs_dir: str,
) -> int:
    """Step every snapshot after the run's cursor (warm up on the ones before it), closing the
    logs' day when a step starts a new one, print the summary, return the exit code. Ctrl-C
    stops the loop between steps, never inside one. Progress (rate, ETA) goes to stderr on a
    terminal."""
    problems: list[Diagnostic] = []
    read = steps = refused = 0
    interrupted = False
    try:
        guard.live()  # start-up is done: Ctrl-C stops the run from here on, between steps
        with progress(snapshots, f"paper {runner.plan.version}") as bar:
            for read, snapshot in enumerate(compose.read_snapshots(snapshots, problems), start=1):  # noqa: B007 - the count is read after the loop
                bar.update()
                if runner.cursor is not None and snapshot.ts <= runner.cursor:
                    runner.warm(snapshot)  # only features in memory change: stopping here loses nothing
                    continue
                interrupts.defer()  # closing a day, the step's commit and its log lines are written whole
                logs.new_day(runner.cursor, snapshot.ts)
                refused += len(runner.step(snapshot).screened.refusals)
                steps += 1
                guard.live()  # a Ctrl-C that came during the step stops the run now
            interrupts.defer()  # the summary, closing the logs and releasing the lock run whole
    except KeyboardInterrupt:  # the handler (or live()) has deferred any further Ctrl-C
        interrupted = True
    report_problems(problems)
    store = runner.store
    trades = store.trades()
    net = sum(t.net_pnl for t in trades)
    stopped = f"; stopped by Ctrl-C after {steps} new step(s): the same command resumes the run" if interrupted else ""
    click.echo(
        f"paper: {len(trades)} trade(s), net P&L {net:+,.2f} USD, "
        f"{len(store.open_positions())} position(s) open; state {state_path}, logs {logs_dir}/{stopped}"
    )
    if refused or runner.screen.alarm:
        state = f"; trading is REDUCING: {runner.screen.alarm}" if runner.screen.alarm else ""
        click.echo(
            f"warning: {refused:,} market value(s) refused as implausible in this run and treated as missing "
            f"({logs_dir}/market_data.jsonl has each with its reason){state}"
        )
    if interrupted:
        return EXIT_INTERRUPTED
    if any(p.is_error for p in problems):
        return EXIT_INVALID
    if not read:
        click.echo("rulebot paper: the snapshot files hold no snapshot that could be read", err=True)
        return EXIT_INVALID
    return EXIT_OK


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
