"""`rulebot learn`: run the learners once now, for operators and tests.

One cycle (engine/learners/cycle.py) over the state's resolved signals and closed trades of
the last ``trade_lookback``; each learner's applied proposals then go, one learner at a time:

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
import os
import shlex
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from engine.cli import compose
from engine.cli.control import DB
from engine.cli.exit_codes import EXIT_OK, EXIT_USAGE
from engine.cli.options import load_plan, rules_folder, state_folder, time_option

if TYPE_CHECKING:
    from engine.language.compiler import Plan, Result
    from engine.learners.base import LearningData, Proposal
    from engine.learners.cycle import Cycle
    from engine.learners.promotion import PromotionResult
    from engine.versions.writeback import WriteOutcome, WriteRequest


@dataclass
class LearnerWrite:
    """What became of one learner's proposals in this cycle."""

    learner: str
    status: str  # dry, refused, rejected, applied
    reason: str
    version: str | None = None
    promotion: dict | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "learner": self.learner,
            "status": self.status,
            "reason": self.reason,
            "version": self.version,
            "promotion": self.promotion,
        }


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
    writes = [
        _apply(plan, rules_dir, logs_dir, state_dir, proposals, cycle, snapshot_paths, dry)
        for _, proposals in cycle.by_learner()
    ]
    if not dry:
        _audit_cycle(logs_dir, cycle, writes)
    _show(cycle, writes, fmt)
    sys.exit(EXIT_OK)


def _last_cycle(view: Any) -> float:
    status = view.bot_status()
    if status is not None and status.last_cycle_ts is not None:
        return float(status.last_cycle_ts)
    return time.time()


def _apply(
    plan: Plan,
    rules_dir: str,
    logs_dir: str,
    state_dir: str,
    proposals: tuple[Proposal, ...],
    cycle: Cycle,
    snapshot_paths: tuple[str, ...],
    dry: bool,
) -> LearnerWrite:
    """One learner's proposals: candidate, promotion gate, write-back, version record."""
    from engine.language.compiler import compile_ruleset
    from engine.versions.writeback import WriteRequest

    learner = proposals[0].learner
    clock = lambda: cycle.ts  # noqa: E731 — `created` is the cycle's time: the scratch and the real write agree
    current = compile_ruleset(rules_dir)
    message = "; ".join(f"{p.path} {p.old:g} → {p.new:g}" for p in proposals)
    request = WriteRequest.from_proposals(
        proposals, base_version=current.version or "", data=cycle.data, message=message
    )
    if dry:
        return LearnerWrite(learner, "dry", f"would write {len(proposals)} value(s) on {current.version}")
    with tempfile.TemporaryDirectory(prefix="rulebot-learn-") as scratch:
        shadow = os.path.join(scratch, "rules")
        shutil.copytree(rules_dir, shadow, ignore=shutil.ignore_patterns(".*"))
        staged = compose.write_learned(shadow, request, scratch, clock)
        if not staged.applied:
            return _refused_write(rules_dir, request, logs_dir, staged, clock)
        candidate = compile_ruleset(shadow)
    if plan.profile not in candidate.plans:  # the write-back compiled it: a bug if this happens
        return LearnerWrite(learner, "refused", f"the candidate has no {plan.profile} plan")
    gate = _promote(plan, candidate.plans[plan.profile], cycle.data, snapshot_paths)
    numbers = gate.as_dict()
    if not gate.promoted:
        _record(state_dir, candidate, learner, cycle, rejected=True, numbers=numbers)
        return LearnerWrite(learner, "rejected", gate.reason, candidate.version, numbers)
    written = compose.write_learned(rules_dir, request, logs_dir, clock)
    if not written.applied:
        return LearnerWrite(learner, "refused", f"{written.code}: {written.reason}", None, numbers)
    _record(state_dir, compile_ruleset(rules_dir), learner, cycle, rejected=False, numbers=numbers)
    return LearnerWrite(learner, "applied", gate.reason, written.version, numbers)


def _refused_write(
    rules_dir: str, request: WriteRequest, logs_dir: str, staged: WriteOutcome, clock: Callable[[], float]
) -> LearnerWrite:
    """A write the checks refused already on the scratch copy: audited against the real rules."""
    outcome = compose.write_learned(rules_dir, request, logs_dir, clock)
    reason = f"{outcome.code}: {outcome.reason}" if not outcome.applied else f"{staged.code}: {staged.reason}"
    return LearnerWrite(request.learner, "refused", reason)


def _promote(plan: Plan, candidate_plan: Plan, data: LearningData, snapshot_paths: tuple[str, ...]) -> PromotionResult:
    from engine.learners.promotion import held_out, promote

    problems: list = []
    source = compose.read_snapshots(snapshot_paths, problems) if snapshot_paths else iter(())
    window = held_out(source, data.window_from, data.window_to, plan.learning)
    return promote(plan, candidate_plan, window, plan.learning, broker_for=compose.paper_broker)


def _record(state_dir: str, candidate: Result, learner: str, cycle: Cycle, *, rejected: bool, numbers: dict) -> None:
    """The candidate in the version store, unless a bot owns the state (it records its reloads)."""
    from engine.versions.live import record_live
    from engine.versions.model import LIVE, REJECTED, learner_author

    db = Path(state_dir) / DB
    if candidate.version is None or not db.exists() or compose.lock_holder(db).get("alive"):
        return
    with (
        compose.state_lock(str(db), shlex.join(["rulebot", *sys.argv[1:]])),
        compose.state_store(str(db)) as store,
    ):
        if rejected:
            live = store.live_version()
            store.record_version(
                candidate.version,
                candidate.canonical,
                learner_author(learner),
                parent=None if live is None else live.version_id,
                message="rejected by the promotion gate",
                window=(cycle.data.window_from, cycle.data.window_to),
                promotion=REJECTED,
                numbers=numbers,
            )
        else:
            entry = record_live(store, candidate.version, candidate.canonical, "rulebot learn")
            store.mark_promotion(entry.seq, LIVE, numbers)


def _audit_cycle(logs_dir: str, cycle: Cycle, writes: list[LearnerWrite]) -> None:
    from engine.versions.audit import AUDIT_LOG

    os.makedirs(logs_dir, exist_ok=True)
    with compose.append_log(os.path.join(logs_dir, AUDIT_LOG), fsync=True) as log:
        log.write(cycle.audit(outcomes=[w.as_dict() for w in writes]))


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
