"""`rulebot versions` (the version history of a bot's state) and `rulebot rollback VERSION`
(an earlier version live again, by changing rules/learned/ only), and how `diff` and
`rollback` find a version: an id (or an unambiguous prefix of one) in the state's version
store, ``live`` (the version live in the state), or a rules directory.

The history is read through a read-only view of ``<state>/bot.db`` (adapters/store/reader.py),
so a running bot is never disturbed. A rollback writes the learned files; when no bot runs on
the state it takes the state's lock and records the new version entry itself (author human,
message "rollback to …"); when one runs, the bot reloads through its file watcher and records
the version it makes live.
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Any

import click

from engine.cli import compose
from engine.cli.control import DB
from engine.cli.exit_codes import EXIT_OK
from engine.cli.options import rules_folder, state_folder
from engine.versions.errors import NoContent, UnknownVersion, VersionError
from engine.versions.model import HUMAN, VersionRecord

VERSION_STORE_SCHEMA = 7  # the migration that added the version store


def _format_option() -> Any:
    return click.option(
        "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="Output format."
    )


@click.command()
@state_folder("The bot's state folder (the one given to `rulebot run --state`).")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="Show the newest N entries.",
)
@_format_option()
def versions(state_dir: str, limit: int, fmt: str) -> None:
    """List the rule-set versions that went live or were proposed, newest first."""
    from engine.cli import render_versions

    history = read_history(Path(state_dir), limit)
    if fmt == "json":
        click.echo(json.dumps({"state": state_dir, "versions": [e.as_dict() for e in history]}, indent=2))
    else:
        click.echo(render_versions.history_text(history))
    sys.exit(EXIT_OK)


# ------------------------------------------------------------------ reading the store


def reader(state: Path) -> Any:
    """The read-only view of the state's database; VersionError (RB836) when there is none."""
    db = state / DB
    if not db.is_file():
        raise VersionError(
            f"no bot state at {db}: give --state the folder a bot runs with (`rulebot run --state DIR`)", "RB836"
        )
    view = compose.state_reader(db)
    if view.version < VERSION_STORE_SCHEMA:
        raise VersionError(
            f"{db} has no version store yet (schema version {view.version}); it is added when a bot "
            "of this rulebot version opens it (`rulebot run --state ...`)",
            "RB836",
        )
    return view


def read_history(state: Path, limit: int | None = None) -> list[VersionRecord]:
    return list(reader(state).version_history(limit))


def stored(view: Any, spec: str) -> tuple[str, dict, VersionRecord | None]:
    """(id, content, its newest history entry) of the stored version ``spec`` names: ``live``,
    an id or a prefix of one."""
    if spec == "live":
        record = view.live_version()
        if record is None:
            raise VersionError("no live version: the state's version store is empty", "RB834")
        version = record.version_id
    else:
        matches = view.version_ids(spec)
        if spec in matches:
            matches = [spec]
        if len(matches) != 1:
            detail = (
                f"it could be {', '.join(matches[:5])}" if matches else "`rulebot versions` lists the versions it holds"
            )
            raise UnknownVersion(f"no single version {spec!r} in the version store: {detail}")
        version = matches[0]
        record = next((e for e in view.version_history() if e.version_id == version), None)
    content = view.version_content(version)
    if content is None:
        raise NoContent(
            f"the version store has no content for {version} (recorded before rulebot kept versions' content); "
            "diff or roll back to a rules directory instead"
        )
    return version, content, record


# ------------------------------------------------------------------ rollback


@click.command()
@click.argument("version")
@rules_folder("The rule-set directory the bot runs (only its learned/ folder is changed).")
@state_folder("The bot's state folder (the one given to `rulebot run --state`).")
def rollback(version: str, rules_dir: str, state_dir: str) -> None:
    """Make an earlier VERSION (an id, a prefix of one) live again: a new version entry whose
    parent is the live one. Only rules/learned/ changes; a human file that differs refuses it."""
    from engine.common.errors import RuleSetInvalid
    from engine.language.compiler import compile_ruleset
    from engine.language.loader import load_ruleset
    from engine.versions.content import HEADER
    from engine.versions.rollback import apply_rollback, plan_rollback

    state = Path(state_dir)
    target_id, target, _ = stored(reader(state), version)
    current = compile_ruleset(rules_dir)
    if not current.ok or current.canonical is None:
        raise RuleSetInvalid(current.diagnostics)
    if current.version == target_id:
        click.echo(f"{target_id} is what {rules_dir} holds already: nothing to roll back")
        sys.exit(EXIT_OK)
    loaded = load_ruleset(rules_dir)
    names = {kind: Path(src.display).name for kind, src in loaded.base.items()}
    names.update({f"profiles/{name}": f"profiles/{Path(src.display).name}" for name, src in loaded.profiles.items()})
    learned_files = [Path(src.display).name for src in loaded.learned]
    plan = plan_rollback(target, target_id, current.canonical, learned_files, names)
    holder = compose.lock_holder(state / DB)
    apply_rollback(plan, Path(rules_dir) / "learned", HEADER.format(version=target_id))
    after = compile_ruleset(rules_dir)
    if after.version != target_id:
        raise VersionError(
            f"{rules_dir} now compiles to {after.version}, not {target_id}: check rules/learned/ "
            f"({len(after.diagnostics)} finding(s); `rulebot validate {rules_dir}`)",
            "RB833",
        )
    message = f"rollback to {target_id}"
    for name in plan.remove:
        click.echo(f"removed learned/{name}")
    for name, _ in plan.write:
        click.echo(f"wrote learned/{name}")
    if holder.get("alive"):
        click.echo(f"{message}: files written; the running bot (pid {holder.get('pid')}) reloads and records it")
        sys.exit(EXIT_OK)
    from engine.versions.live import record_live

    with (
        compose.state_lock(str(state / DB), shlex.join(["rulebot", *sys.argv[1:]])),
        compose.state_store(str(state / DB)) as store,
    ):
        entry = record_live(store, target_id, target, message, author=HUMAN)
    click.echo(f"{message}: version entry {entry.seq}, parent {entry.parent}")
    sys.exit(EXIT_OK)
