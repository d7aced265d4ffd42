"""`rulebot paper`: an alias of `rulebot run --paper` on a replay of snapshot files.

``rulebot paper FILE… [--rules] [--profile] [--state DB] [--logs] [--learn]`` is
``rulebot run --paper --feed replay:FILE… --speed max`` with the state database at the file
``DB`` (run keeps ``bot.db`` in a folder): the same start-up, loop, group commits, Ctrl-C and
crash guarantees, summary and exit codes (engine/cli/run.py ``start``). No operator commands
are read: ``rulebot halt|reduce|resume`` address a bot's state folder, and a paper run's
state is a file, so a replay of files is steered by its rules alone.
``rulebot paper --feed live[:VENUE]`` is ``rulebot run --paper --feed live[:VENUE]`` with the
state in the file ``DB``: the venue's market data in real time, recorded into LOGS/snapshots/.
"""

from __future__ import annotations

import os
import sys

import click

from engine.cli import compose
from engine.cli.exit_codes import EXIT_OK
from engine.cli.run import learn_option


@click.command()
@click.argument("snapshots", nargs=-1, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--feed",
    "live_spec",
    metavar="live[:VENUE]",
    help="Instead of SNAPSHOTS: the venue's market data at each bot cycle, in real time, recorded into "
    "LOGS/snapshots/ (docs/venues/README.md); stopped by Ctrl-C or SIGTERM.",
)
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
@learn_option
def paper(
    snapshots: tuple[str, ...],
    live_spec: str | None,
    rules_dir: str,
    profile: str | None,
    state_path: str,
    logs_dir: str,
    learn: bool,
) -> None:
    """Trade SNAPSHOTS with the paper broker as `rulebot run --paper` does on a replay of them at
    --speed max, keeping state in the SQLite file --state (no operator commands are read).
    With --feed live[:VENUE] instead, trade the venue's market data in real time, recording it.

    Killed at any moment and started again with the same arguments, it resumes after the
    last committed snapshot and ends with exactly the trades and logs of an uninterrupted run. One
    process per state: while another rulebot process holds --state, this one is refused
    at start (exit 6, RB805, naming that process).

    Ctrl-C stops cleanly at any instant (exit 130): the snapshot being traded is finished,
    committed and logged whole, the summary says what was done, and the same command
    resumes. Ctrl-C during start-up changes nothing (a new --state is not left behind)."""
    from engine.cli.run import Launch, start

    if bool(snapshots) == bool(live_spec):
        raise click.UsageError("give SNAPSHOTS files or --feed live[:VENUE], one of them")
    if live_spec is None:
        feed = compose.replay_feed(list(snapshots))
    elif live_spec.partition(":")[0] != "live":
        raise click.BadParameter(
            f"{live_spec!r}: paper reads live[:VENUE]; files are given as SNAPSHOTS", param_hint="--feed"
        )
    else:
        try:
            feed = compose.open_feed(
                (live_spec,),
                rules_dir=rules_dir,
                profile=profile,
                logs_dir=logs_dir,
                state_dir=os.path.dirname(state_path) or ".",
            )
        except (ValueError, OSError) as error:
            raise click.BadParameter(str(error), param_hint="--feed") from None
    code = start(Launch("paper", rules_dir, profile, feed, None, state_path, logs_dir, None, learn=learn))
    if code != EXIT_OK:
        sys.exit(code)
