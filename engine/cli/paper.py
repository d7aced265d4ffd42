"""`rulebot paper`: trade snapshot files as a live feed with the paper broker, state in SQLite."""

from __future__ import annotations

import shlex
import sys
from typing import TYPE_CHECKING

import click

from engine.cli import compose
from engine.cli.exit_codes import EXIT_INVALID
from engine.cli.options import check_writable, load_plan, report_problems

if TYPE_CHECKING:
    from engine.language.diagnostics import Diagnostic


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
    at start (exit 6, RB805, naming that process)."""
    from engine.trading.runner import Runner

    plan = load_plan(rules_dir, profile)
    check_writable(logs_dir, "--logs")
    command = shlex.join(["rulebot", *sys.argv[1:]])
    with (
        compose.state_lock(state_path, command),  # one process per state, taken before the database is opened
        compose.state_store(state_path) as store,
        compose.RunLogs(logs_dir, store),  # the logs, exactly once: what a crash left is delivered first
    ):
        runner = Runner(plan, compose.resumed_paper_broker(plan, store), store)  # resumes, or refuses first
        store.record_rule_version(plan.version, "human", message=f"rulebot paper ({plan.profile})")
        problems: list[Diagnostic] = []
        read = 0
        for read, snapshot in enumerate(compose.read_snapshots(snapshots, problems), start=1):  # noqa: B007 - the count is read after the loop
            if runner.cursor is not None and snapshot.ts <= runner.cursor:
                runner.warm(snapshot)
            else:
                runner.step(snapshot)
        report_problems(problems)
        trades = store.trades()
        net = sum(t.net_pnl for t in trades)
        click.echo(
            f"paper: {len(trades)} trade(s), net P&L {net:+,.2f} USD, "
            f"{len(store.open_positions())} position(s) open; state {state_path}, logs {logs_dir}/"
        )
    if any(p.is_error for p in problems):
        sys.exit(EXIT_INVALID)
    if not read:
        click.echo("rulebot paper: the snapshot files hold no snapshot that could be read", err=True)
        sys.exit(EXIT_INVALID)
