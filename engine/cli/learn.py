"""`rulebot learn`: run the learners once now, for operators and tests.

One cycle (engine/learners/cycle.py) over the state's resolved signals and closed trades of
the last ``trade_lookback``; each learner's applied proposals then go, one learner at a time
(engine/cli/learning_apply.py, the same path as the running bot's ``learn`` task):

1. written into a scratch copy of the rules (the same write-back and its checks), which
   gives the candidate version;
2. through the promotion gate: a shadow replay of the held-out window of ``--snapshots``
   (engine/learners/promotion.py); without snapshots there is no evidence and nothing is
   promoted;
3. promoted: written into the real rules/learned/ (refused if the rules moved meanwhile);
   a running bot hot-reloads it. Rejected: stored in the version store as ``rejected`` with
   the gate's numbers.

Every write attempt and the cycle are audited in ``<logs>/learning_audit.jsonl``. The state
is read through a read-only view; versions are recorded only when no bot runs on the state
(a running bot records the reload it makes itself). ``--dry`` writes nothing.
"""

from __future__ import annotations

import json
import shlex
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from engine.cli import compose
from engine.cli.control import DB
from engine.cli.exit_codes import EXIT_OK, EXIT_USAGE
from engine.cli.learning_apply import LearnerWrite, apply_cycle, audit_cycle, record_rejected, snapshot_files
from engine.cli.options import load_plan, rules_folder, state_folder, time_option

if TYPE_CHECKING:
    from engine.language.compiler import Result
    from engine.learners.cycle import Cycle


@click.command()
@click.option("--learner", "learner_id", default=None, help="Run only this learner (an id in learning.yaml).")
@rules_folder("The rules folder.")
@click.option("--profile", default=None, help="Profile whose plan the learners read (default: the rule set's).")
@state_folder("The bot's state folder (the one given to `rulebot run --state`).")
@click.option("--logs", "logs_dir", default="logs", show_default=True, help="Where learning_audit.jsonl is appended.")
@click.option(
    "--snapshots",
    "snapshot_paths",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="Snapshot files the promotion gate replays (its held-out window); repeat for several.",
)
@click.option("--at", "at_text", default=None, help="The cycle's time (ISO 8601 UTC); default: the state's last cycle.")
@click.option("--dry", is_flag=True, help="Show what the learners propose; write nothing.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def learn(
    learner_id: str | None,
    rules_dir: str,
    profile: str | None,
    state_dir: str,
    logs_dir: str,
    snapshot_paths: tuple[str, ...],
    at_text: str | None,
    dry: bool,
    fmt: str,
) -> None:
    """Run the learners once now and apply what passes the bounds and the promotion gate."""
    from engine.cli.versions import reader
    from engine.learners.cycle import due_learners, run_cycle, window

    plan = load_plan(rules_dir, profile)
    view = reader(Path(state_dir))
    now = time_option(at_text, "--at") if at_text else _last_cycle(view)
    try:
        learners = due_learners(plan, only=learner_id)
    except KeyError:
        known = ", ".join(learner.id for learner in plan.learning.learners)
        click.echo(f"rulebot learn: no learner {learner_id!r} in learning.yaml (declared: {known})", err=True)
        sys.exit(EXIT_USAGE)
    since, until = window(plan, now)
    cycle = run_cycle(plan, view.learning_data(since, until), learners, now=now)
    snapshots = snapshot_files(snapshot_paths)
    writes = apply_cycle(plan, rules_dir, logs_dir, cycle, snapshots, _StateRecorder(state_dir), dry=dry)
    if not dry:
        audit_cycle(logs_dir, cycle, writes)
    _show(cycle, writes, fmt)
    sys.exit(EXIT_OK)


def _last_cycle(view: Any) -> float:
    status = view.bot_status()
    if status is not None and status.last_cycle_ts is not None:
        return float(status.last_cycle_ts)
    return time.time()


class _StateRecorder:
    """`rulebot learn`'s recorder: the state's version store, unless a bot owns the state (it
    records its reloads itself)."""

    def __init__(self, state_dir: str) -> None:
        self.db = Path(state_dir) / DB

    def _store(self) -> AbstractContextManager[Any] | None:
        if not self.db.exists() or compose.lock_holder(self.db).get("alive"):
            return None
        return _locked_store(str(self.db))

    def rejected(self, candidate: Result, learner: str, cycle: Cycle, numbers: Mapping[str, Any]) -> None:
        opened = self._store() if candidate.version is not None else None
        if opened is not None:
            with opened as store:
                record_rejected(store, candidate, learner, cycle, numbers)

    def applied(self, rules_dir: str, version: str, learner: str, cycle: Cycle, numbers: Mapping[str, Any]) -> None:
        from engine.language.compiler import compile_ruleset
        from engine.versions.live import record_live
        from engine.versions.model import LIVE

        opened = self._store()
        if opened is None:
            return
        current = compile_ruleset(rules_dir)
        if current.version is None:
            return
        with opened as store:
            entry = record_live(store, current.version, current.canonical, "rulebot learn")
            store.mark_promotion(entry.seq, LIVE, numbers)


@contextmanager
def _locked_store(db: str) -> Iterator[Any]:
    with compose.state_lock(db, shlex.join(["rulebot", *sys.argv[1:]])), compose.state_store(db) as store:
        yield store


def _show(cycle: Cycle, writes: list[LearnerWrite], fmt: str) -> None:
    from engine.learners import learner_module
    from engine.learners.orchestrator import explain

    if fmt == "json":
        click.echo(json.dumps({**cycle.audit(outcomes=[w.as_dict() for w in writes])}, indent=2, default=str))
        return
    for result in cycle.results:
        click.echo(learner_module(result.kind).explain(result))
    click.echo(explain(cycle.decision))
    for w in writes:
        click.echo(f"{w.learner}: {w.status} — {w.reason}" + (f" ({w.version})" if w.version else ""))
