"""`rulebot diff A B [--replay SNAPSHOTS…]`: what changed from version A to version B, who
changed it and why; with --replay, what the change does on recorded market data.

A and B are each a version id (or an unambiguous prefix) in the state's version store,
``live`` (the version live in the state; without a version store, the --rules folder), or a
rules directory. The parameter diff is engine/versions/diff.py; with --replay both versions
are compiled (a stored one written into a temporary folder first, engine/versions/content.py)
and dry-run over the same snapshots, and the two runs are compared.
"""

from __future__ import annotations

import json
import logging
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from engine.cli.exit_codes import EXIT_INTERRUPTED, EXIT_OK
from engine.cli.options import Window, load_plan, rules_folder, state_folder, window_option
from engine.common import interrupts

if TYPE_CHECKING:
    from engine.language.compiler import Plan
    from engine.versions.diff import Side

logger = logging.getLogger(__name__)


@click.command()
@click.argument("a")
@click.argument("b")
@rules_folder("The rules folder `live` means when the state has no version store.")
@state_folder("The bot's state folder whose version store holds the versions.")
@click.option(
    "--replay",
    "snapshots",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="Snapshot file to dry-run both versions over (repeat for several).",
)
@click.option("--from", "from_text", default=None, help="With --replay: start at this time (ISO 8601 or epoch s).")
@click.option("--to", "to_text", default=None, help="With --replay: stop after this time.")
@click.option(
    "--profile",
    type=click.Choice(["paper", "live"]),
    default=None,
    help="Compare the values this profile's plan uses [default: B's default profile].",
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="Output format."
)
def diff(
    a: str,
    b: str,
    rules_dir: str,
    state_dir: str,
    snapshots: tuple[str, ...],
    from_text: str | None,
    to_text: str | None,
    profile: str | None,
    fmt: str,
) -> None:
    """Show what changed from version A to version B (ids, `live`, or rules directories)."""
    from dataclasses import replace

    from engine.cli import render_versions
    from engine.versions.diff import behaviour_diff, diff_versions

    window = window_option(from_text, to_text)
    if (from_text or to_text) and not snapshots:
        raise click.UsageError("--from/--to limit the replay: give --replay SNAPSHOTS too")
    side_a, side_b = side(a, Path(state_dir), rules_dir), side(b, Path(state_dir), rules_dir)
    result = diff_versions(side_a, side_b, profile)
    if snapshots:
        with interrupts.guarded() as guard:
            try:
                runs = [_replay(guard, s, result.profile, snapshots, window) for s in (side_a, side_b)]
            except KeyboardInterrupt:
                click.echo("rulebot diff: stopped by Ctrl-C during the replay; nothing shown", err=True)
                sys.exit(EXIT_INTERRUPTED)
        result = replace(result, behaviour=behaviour_diff(runs[0], runs[1]))
    if fmt == "json":
        click.echo(json.dumps(render_versions.diff_json(result), indent=2, ensure_ascii=False))
    else:
        click.echo(render_versions.diff_text(result))
    sys.exit(EXIT_OK)


def side(spec: str, state: Path, rules_dir: str) -> Side:
    """The version ``spec`` names: a rules directory, ``live``, or an id in the version store."""
    from engine.cli.control import DB
    from engine.cli.versions import reader, stored
    from engine.versions.diff import Side

    if Path(spec).is_dir():
        return _folder(spec, spec)
    if spec == "live" and not (state / DB).is_file():
        return _folder(rules_dir, "live")
    version, content, record = stored(reader(state), spec)
    return Side(spec, version, content, record.author if record else "human", record)


def _folder(folder: str, label: str) -> Side:
    from engine.common.errors import RuleSetInvalid
    from engine.language.compiler import compile_ruleset
    from engine.versions.diff import Side

    result = compile_ruleset(folder)
    if not result.ok or result.version is None or result.canonical is None:
        raise RuleSetInvalid(result.diagnostics)
    return Side(label, result.version, result.canonical)


def _plan(s: Side, profile: str, scratch: Path) -> Plan:
    from engine.versions.content import materialise

    folder = materialise(s.canonical, scratch / s.version)
    return load_plan(str(folder), profile)


def _replay(
    guard: interrupts.Guard, s: Side, profile: str, snapshots: tuple[str, ...], window: Window
) -> dict[str, Any]:
    """One dry-run of ``s``'s plan over the snapshots, as `rulebot dry-run` replays (the
    fast path where it can run)."""
    from engine.cli.dryrun import one_dry_run

    with tempfile.TemporaryDirectory(prefix="rulebot-diff-") as scratch:
        plan = _plan(s, profile, Path(scratch))
    return one_dry_run(guard, plan, snapshots, window, None)
