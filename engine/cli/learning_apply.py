"""What becomes of one learning cycle's applied proposals: the one path `rulebot learn` and the
running bot's scheduled ``learn`` task (``rulebot run --learn``) share.

Per learner, its applied proposals (engine/learners/cycle.py ``Cycle.by_learner``):

1. written into a scratch copy of the rules (the same write-back and its checks), which gives
   the candidate version;
2. through the promotion gate: a shadow replay of the held-out window of the snapshots
   (engine/learners/promotion.py); without snapshots there is no evidence and nothing is
   promoted;
3. promoted: written into the real rules/learned/ (refused if the rules moved meanwhile);
   rejected: recorded as ``rejected`` with the gate's numbers.

Who records the versions is the caller's :class:`Recorder`: `rulebot learn` opens the state
when no bot owns it; the bot records into its own store (a promoted version is recorded when
its hot reload makes it live). A cycle is applied once: a learner whose overlay of this very
cycle (same learner, same data window) is already in rules/learned/ — a cycle run again after
a restart — writes nothing again, and the cycle's audit line is appended only if the audit log
does not hold it yet (:func:`audit_cycle`).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from engine.cli import compose
from engine.common.times import iso_utc

if TYPE_CHECKING:
    from engine.language.compiler import Plan, Result
    from engine.learners.base import LearningData, Proposal
    from engine.learners.cycle import Cycle
    from engine.learners.promotion import PromotionResult
    from engine.market.snapshot import Snapshot
    from engine.versions.writeback import WriteOutcome, WriteRequest

logger = logging.getLogger(__name__)

#: The held-out snapshots, read anew for each gate (a function: each learner replays them).
Snapshots = Callable[[], Iterable["Snapshot"]]
#: What became of a learner's write (``LearnerWrite.status``).
DRY, REFUSED, REJECTED, APPLIED, DONE = "dry", "refused", "rejected", "applied", "done"
_AUDIT_TAIL_BYTES = 1 << 20  # how much of the audit log's end is searched for a cycle's line


@dataclass
class LearnerWrite:
    """What became of one learner's proposals in this cycle."""

    learner: str
    status: str  # dry, refused, rejected, applied, done (this cycle's overlay was already written)
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


class Recorder(Protocol):
    """Where the versions a cycle makes are recorded (the version store of the state)."""

    def rejected(self, candidate: Result, learner: str, cycle: Cycle, numbers: Mapping[str, Any]) -> None: ...

    def applied(self, rules_dir: str, version: str, learner: str, cycle: Cycle, numbers: Mapping[str, Any]) -> None: ...


def snapshot_files(paths: Iterable[str]) -> Snapshots:
    """The snapshots of ``paths`` (any format), read anew at each call; unreadable parts are
    skipped (the feed that reads the same files reports them)."""
    files = tuple(paths)

    def read() -> Iterable[Snapshot]:
        if not files:
            return iter(())
        problems: list = []
        return compose.read_snapshots(files, problems)

    return read


def apply_cycle(
    plan: Plan,
    rules_dir: str,
    logs_dir: str,
    cycle: Cycle,
    snapshots: Snapshots,
    recorder: Recorder,
    *,
    dry: bool = False,
) -> list[LearnerWrite]:
    """Every learner's applied proposals of ``cycle``, one learner after the other: the first
    writes on the version the learners read (``cycle.version``), each next one on the version
    the previous write made; a rule set that moved otherwise refuses the write (RB527)."""
    writes, base = [], cycle.version
    for _, proposals in cycle.by_learner():
        write = apply_learner(plan, rules_dir, logs_dir, proposals, cycle, snapshots, recorder, base=base, dry=dry)
        if write.status in (APPLIED, DONE) and write.version is not None:
            base = write.version
        writes.append(write)
    return writes


def apply_learner(
    plan: Plan,
    rules_dir: str,
    logs_dir: str,
    proposals: tuple[Proposal, ...],
    cycle: Cycle,
    snapshots: Snapshots,
    recorder: Recorder,
    *,
    base: str,
    dry: bool = False,
) -> LearnerWrite:
    """One learner's proposals, written on version ``base``: candidate, promotion gate,
    write-back, version record."""
    from engine.language.compiler import compile_ruleset
    from engine.versions.writeback import WriteRequest

    learner = proposals[0].learner
    clock = lambda: cycle.ts  # noqa: E731 — `created` is the cycle's time: the scratch and the real write agree
    current = compile_ruleset(rules_dir)
    if written_already(current.canonical, learner, cycle.data.window_from, cycle.data.window_to):
        logger.info("learner %s: this cycle's overlay is already in %s/learned (a cycle run again)", learner, rules_dir)
        return LearnerWrite(learner, DONE, "this cycle's overlay is already in learned/", current.version)
    request = WriteRequest.from_proposals(proposals, base_version=base, data=cycle.data)
    if dry:
        return LearnerWrite(learner, DRY, f"would write {len(proposals)} value(s) on {base}")
    with tempfile.TemporaryDirectory(prefix="rulebot-learn-") as scratch:
        shadow = os.path.join(scratch, "rules")
        shutil.copytree(rules_dir, shadow, ignore=shutil.ignore_patterns(".*"))
        staged = compose.write_learned(shadow, request, scratch, clock)
        if not staged.applied:
            return _refused_write(rules_dir, request, logs_dir, staged, clock)
        candidate = compile_ruleset(shadow)
    if plan.profile not in candidate.plans:  # the write-back compiled it: a bug if this happens
        return LearnerWrite(learner, REFUSED, f"the candidate has no {plan.profile} plan")
    gate = promote(plan, candidate.plans[plan.profile], cycle.data, snapshots)
    numbers = gate.as_dict()
    if not gate.promoted:
        recorder.rejected(candidate, learner, cycle, numbers)
        return LearnerWrite(learner, REJECTED, gate.reason, candidate.version, numbers)
    written = compose.write_learned(rules_dir, request, logs_dir, clock)
    if not written.applied or written.version is None:
        return LearnerWrite(learner, REFUSED, f"{written.code}: {written.reason}", None, numbers)
    recorder.applied(rules_dir, written.version, learner, cycle, numbers)
    return LearnerWrite(learner, APPLIED, gate.reason, written.version, numbers)


def written_already(canonical: Mapping[str, Any] | None, learner: str, window_from: float, window_to: float) -> bool:
    """Whether the rule set (its canonical content) holds an overlay of ``learner`` learned on
    exactly this data window: the cycle that wrote it is being run again."""
    window = (iso_utc(window_from), iso_utc(window_to))
    for learned in (canonical or {}).get("learned", []):
        provenance = learned.get("provenance") or {}
        if learned.get("learner") == learner and (provenance.get("data_from"), provenance.get("data_to")) == window:
            return True
    return False


def _refused_write(
    rules_dir: str, request: WriteRequest, logs_dir: str, staged: WriteOutcome, clock: Callable[[], float]
) -> LearnerWrite:
    """A write the checks refused already on the scratch copy: audited against the real rules."""
    outcome = compose.write_learned(rules_dir, request, logs_dir, clock)
    reason = f"{outcome.code}: {outcome.reason}" if not outcome.applied else f"{staged.code}: {staged.reason}"
    return LearnerWrite(request.learner, REFUSED, reason)


def promote(plan: Plan, candidate_plan: Plan, data: LearningData, snapshots: Snapshots) -> PromotionResult:
    """The promotion gate over the held-out part of the data window of ``snapshots``."""
    from engine.learners.promotion import held_out
    from engine.learners.promotion import promote as gate

    window = held_out(snapshots(), data.window_from, data.window_to, plan.learning)
    return gate(plan, candidate_plan, window, plan.learning, broker_for=compose.paper_broker)


def audit_cycle(logs_dir: str, cycle: Cycle, writes: list[LearnerWrite]) -> bool:
    """Append the cycle's line to ``<logs>/learning_audit.jsonl`` unless the log holds it
    already (the same event, time, job and window: a cycle run again after a restart);
    whether it was appended."""
    from engine.versions.audit import AUDIT_LOG

    os.makedirs(logs_dir, exist_ok=True)
    path = os.path.join(logs_dir, AUDIT_LOG)
    record = cycle.audit(outcomes=[w.as_dict() for w in writes])
    if _audited(path, record):
        logger.info("learning cycle at %s (job %s) is already in %s", record["ts"], record.get("job"), path)
        return False
    with compose.append_log(path, fsync=True) as log:
        log.write(record)
    return True


def _audited(path: str, record: Mapping[str, Any]) -> bool:
    key = (record["ts"], record.get("job"), json.dumps(record["window"], sort_keys=True))
    return any(
        (line.get("ts"), line.get("job"), json.dumps(line.get("window"), sort_keys=True)) == key
        for line in _cycle_lines(path)
    )


def _cycle_lines(path: str) -> Iterator[dict[str, Any]]:
    """The ``cycle`` lines of the audit log's last ``_AUDIT_TAIL_BYTES``, newest first."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - _AUDIT_TAIL_BYTES))
            tail = handle.read().splitlines()
    except FileNotFoundError:
        return
    for raw in reversed(tail):
        try:
            line = json.loads(raw)
        except ValueError:  # a torn line, or the tail's cut first one
            continue
        if isinstance(line, dict) and line.get("event") == "cycle":
            yield line


def audited_numbers(logs_dir: str, version: str) -> dict[str, Any] | None:
    """The promotion gate's numbers of the cycle that applied ``version``, from the audit log
    (None if it does not say): a bot killed between writing a learned version and reloading it
    puts them on the version's entry when it starts on that version."""
    from engine.versions.audit import AUDIT_LOG

    for line in _cycle_lines(os.path.join(logs_dir, AUDIT_LOG)):
        for outcome in line.get("outcomes") or ():
            if outcome.get("status") == APPLIED and outcome.get("version") == version and outcome.get("promotion"):
                return dict(outcome["promotion"])
    return None


class StoreRecorder:
    """The running bot's :class:`Recorder`: its own store (the bot owns the state). A rejected
    candidate is recorded once (a cycle run again after a restart finds it); a promoted one is
    recorded by the bot when its hot reload makes it live, with the gate's numbers."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def rejected(self, candidate: Result, learner: str, cycle: Cycle, numbers: Mapping[str, Any]) -> None:
        from engine.versions.model import REJECTED

        if candidate.version is None:
            return
        if any(e.version_id == candidate.version and e.promotion == REJECTED for e in self.store.version_history()):
            return
        record_rejected(self.store, candidate, learner, cycle, numbers)

    def applied(self, rules_dir: str, version: str, learner: str, cycle: Cycle, numbers: Mapping[str, Any]) -> None:
        """Nothing now: the version is recorded when the bot's reload makes it live."""


def record_rejected(store: Any, candidate: Result, learner: str, cycle: Cycle, numbers: Mapping[str, Any]) -> None:
    """``candidate`` in the version store as rejected by the promotion gate, with its numbers."""
    from engine.versions.model import REJECTED, learner_author

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


class BotLearning:
    """The running bot's learning (``rulebot run --learn``), called by its loop for a
    ``RunLearning`` action: the cycle's data from the bot's store, the held-out snapshots from
    the bot's feed files, write-back into the bot's rules folder, the audit in its logs."""

    def __init__(self, rules_dir: str, logs_dir: str, feed_paths: Iterable[str]) -> None:
        self.rules_dir, self.logs_dir = rules_dir, logs_dir
        self.snapshots = snapshot_files(feed_paths)

    def run(self, plan: Plan, store: Any, job: str, learner_ids: Iterable[str], now: float) -> list[LearnerWrite]:
        """One cycle of the learners ``learner_ids`` at ``now`` on ``plan`` (the live one),
        applied and audited; what became of each learner's write."""
        from engine.learners.cycle import run_cycle, window

        wanted = set(learner_ids)
        learners = tuple(learner for learner in plan.learning.learners if learner.id in wanted)
        since, until = window(plan, now)
        cycle = run_cycle(plan, store.learning_data(since, until), learners, now=now, job=job)
        writes = apply_cycle(plan, self.rules_dir, self.logs_dir, cycle, self.snapshots, StoreRecorder(store))
        audit_cycle(self.logs_dir, cycle, writes)
        return writes


def feed_files(feed: Any) -> tuple[str, ...]:
    """The snapshot files a feed reads (replay: its files; tail: the followed file)."""
    paths = getattr(feed, "paths", None)
    if paths is not None:
        return tuple(str(p) for p in paths)
    path = getattr(feed, "path", None)
    return (str(path),) if path is not None else ()
