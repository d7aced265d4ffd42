"""The promotion gate (issue 17, Build 5; rules/learning.yaml ``promotion``): a learned
version goes live only if a shadow replay of the most recent held-out window is not worse
than the live version by more than the declared tolerance.

* The **held-out window** is the last ``holdout_fraction`` of the data window the learner
  read: ``[to − fraction × (to − from), to]``. The snapshots of the whole data window are
  replayed; those before the held-out window only warm the features (nothing is traded
  there), so both versions start the window flat and warm.
* Both plans are replayed over it with the dry-run engine (engine/replay/dryrun.py), each
  with a fresh broker (``broker_for(plan)``) and an in-memory state: nothing is written.
* The **metric** is the net return over the window, in % of the starting equity:
  ``(ending equity − starting equity) ÷ starting equity × 100`` (open positions at their
  mark, so a version cannot look better by leaving a loser open). Trades, win rate and
  the maximum drawdown are recorded beside it.
* **Sign convention**: ``difference = candidate − live`` in percentage points of that
  return; the candidate is promoted iff ``difference ≥ min_improvement_pct``. So 0.0 means
  "must not get worse", a positive value demands an improvement of that many points, and
  a negative value tolerates a loss of up to that many points.
* **No evidence, no promotion**: no snapshot in the held-out window, or neither version
  traded in it, rejects the candidate (the replay cannot tell it is not worse; the live
  version stays, and the learner tries again on the next cycle's data).

``promote`` is pure over its inputs (the snapshots, the two plans, the spec): the same
inputs give the same result, on the columnar fast path or the scalar one alike.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from engine.common.errors import RulebotError
from engine.market.snapshot import Snapshot
from engine.replay.dryrun import dry_run, dry_run_recording
from engine.replay.memstate import MemoryState
from engine.replay.recording import NotReplayable, Recording, recording_from_snapshots

if TYPE_CHECKING:
    from engine.language.compiler import Plan
    from engine.language.kinds.learning import Spec

CODES = {
    "RB540": "the promotion gate's input cannot be used: a data window that is empty, reversed or not finite, "
    "or snapshots that are not snapshots or not in time order (the message names which and where)",
}
METRIC = "net_return_pct"
REPLAYS = ("auto", "columns", "scalar")

logger = logging.getLogger(__name__)


class PromotionError(RulebotError, ValueError):
    """The promotion gate was given input it cannot replay (the message says which and why)."""

    code = "RB540"


@dataclass(frozen=True, slots=True)
class HeldOut:
    """The snapshots of a learner's data window, and which part of it is held out."""

    window_from: float  # the learner's data window
    window_to: float
    start: float  # the held-out window: [start, window_to]
    snapshots: tuple[Snapshot, ...]  # window_from … window_to, in time order (those before start warm up)

    @property
    def count(self) -> int:
        """How many snapshots fall in the held-out window."""
        return sum(1 for s in self.snapshots if s.ts >= self.start)


@dataclass(frozen=True, slots=True)
class ReplayMetrics:
    """What one version did over the held-out window."""

    version: str
    net_return_pct: float  # the declared metric: equity change over the window, % of the starting equity
    trades: int
    win_rate: float
    max_drawdown_pct: float
    net_pnl_pct: float  # closed trades only (the dry-run's figure)
    open_positions: int  # still open at the window's end (their mark is in net_return_pct)
    fingerprint: str
    replay: str  # the dry-run path it took: columns or scalar (the same numbers either way)


@dataclass(frozen=True, slots=True)
class PromotionResult:
    """The gate's decision with its numbers (stored with the learned version)."""

    promoted: bool
    reason: str
    metric: str
    window_from: float  # the held-out window
    window_to: float
    snapshots: int  # held-out snapshots replayed
    holdout_fraction: float
    min_improvement_pct: float
    live: ReplayMetrics | None  # None when nothing was replayed
    candidate: ReplayMetrics | None
    difference_pct: float | None  # candidate − live, percentage points of the metric
    replay: str  # the paths taken: columns, scalar, both as "columns+scalar", or none

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (the version store keeps this)."""
        return asdict(self)


def holdout_window(window_from: float, window_to: float, spec: Spec) -> tuple[float, float]:
    """The held-out part of the data window: its last ``spec.holdout_fraction``."""
    _check_window(window_from, window_to)
    return window_to - spec.holdout_fraction * (window_to - window_from), window_to


def held_out(source: Iterable[Snapshot] | Recording, window_from: float, window_to: float, spec: Spec) -> HeldOut:
    """The snapshots of the data window ``[window_from, window_to]`` from ``source`` and the
    held-out part of it. ``source`` is whatever holds the snapshots: the in-memory list of a
    dry-run ``--learn``, a Recording, or the snapshots a running bot's feed files hold read
    through the composition root (``compose.read_snapshots(paths, problems)``; the state
    store keeps no snapshots). It must be in time order; reading stops after ``window_to``.
    PromotionError (RB540) on a bad window or anything that is not a snapshot in order."""
    start, end = holdout_window(window_from, window_to, spec)
    if isinstance(source, Recording):
        source = _rows(source)
    kept: list[Snapshot] = []
    last = -math.inf
    for i, snapshot in enumerate(source):
        if not isinstance(snapshot, Snapshot):
            raise PromotionError(f"snapshot {i} of the promotion window is a {type(snapshot).__name__}, not a Snapshot")
        ts = snapshot.ts
        if not (isinstance(ts, (int, float)) and math.isfinite(ts)):
            raise PromotionError(f"snapshot {i} of the promotion window has no finite time ({ts!r})")
        if ts <= last:
            raise PromotionError(
                f"snapshot {i} of the promotion window (ts {ts:g}) is not after the one before it (ts {last:g}): "
                "the snapshots must be in time order"
            )
        last = ts
        if ts > end:
            break
        if ts >= window_from:
            kept.append(snapshot)
    return HeldOut(window_from, window_to, start, tuple(kept))


def promote(
    live_plan: Plan,
    candidate_plan: Plan,
    window: HeldOut,
    spec: Spec,
    *,
    broker_for: Callable[[Plan], Any],
    replay: str = "auto",
) -> PromotionResult:
    """Replay both plans over ``window``'s held-out part and decide (module docstring).

    ``broker_for(plan)`` makes a fresh broker for a replay (the CLI passes
    ``compose.paper_broker``: the engine does not import adapters). ``replay`` is the
    dry-run's ``--replay``: ``columns`` (the fast path; NotReplayable when the snapshots
    cannot take it), ``scalar``, or ``auto`` (columns where the snapshots allow; both give
    the same numbers). Ctrl-C during a replay raises KeyboardInterrupt: no decision is made
    on a part of the window."""
    if replay not in REPLAYS:
        raise PromotionError(f"replay is one of {', '.join(REPLAYS)}, not {replay!r}")
    if not isinstance(window, HeldOut):
        raise PromotionError(f"the promotion window is a {type(window).__name__}, not a HeldOut (see held_out())")
    if not window.count:
        reason = "no snapshot in the held-out window: no evidence that the candidate is not worse"
        return _decided(live_plan, candidate_plan, window, spec, False, reason, None, None)
    replays = _Replays(window, broker_for, replay)
    live, candidate = replays.run(live_plan), replays.run(candidate_plan)
    if not live.trades and not candidate.trades:
        reason = "neither version traded in the held-out window: no evidence that the candidate is not worse"
        return _decided(live_plan, candidate_plan, window, spec, False, reason, live, candidate)
    difference, required = candidate.net_return_pct - live.net_return_pct, spec.min_improvement_pct
    promoted = difference >= required
    reason = (
        f"net return {candidate.net_return_pct:+.4f} % vs live {live.net_return_pct:+.4f} %: "
        f"difference {difference:+.4f} points {'≥' if promoted else '<'} the required {required:+.4f}"
    )
    return _decided(live_plan, candidate_plan, window, spec, promoted, reason, live, candidate)


def _decided(
    live_plan: Plan,
    candidate_plan: Plan,
    window: HeldOut,
    spec: Spec,
    promoted: bool,
    reason: str,
    live: ReplayMetrics | None,
    candidate: ReplayMetrics | None,
) -> PromotionResult:
    result = PromotionResult(
        promoted=promoted,
        reason=reason if promoted else f"{reason}; the live version stays",
        metric=METRIC,
        window_from=window.start,
        window_to=window.window_to,
        snapshots=window.count,
        holdout_fraction=spec.holdout_fraction,
        min_improvement_pct=spec.min_improvement_pct,
        live=live,
        candidate=candidate,
        difference_pct=None if live is None or candidate is None else candidate.net_return_pct - live.net_return_pct,
        replay="none" if live is None or candidate is None else "+".join(sorted({live.replay, candidate.replay})),
    )
    logger.info(
        "promotion of %s over live %s: %s (%s)",
        candidate_plan.version,
        live_plan.version,
        "promoted" if promoted else "rejected",
        result.reason,
    )
    return result


class _Replays:
    """Both plans over one window: the recording for the fast path is built once for the two."""

    def __init__(self, window: HeldOut, broker_for: Callable[[Plan], Any], replay: str):
        self.window, self.broker_for, self.replay = window, broker_for, replay
        self.recording: Recording | None = None
        if replay != "scalar":
            try:
                self.recording = recording_from_snapshots(window.snapshots)
            except NotReplayable as why:
                if replay == "columns":
                    raise
                logger.info("promotion replay takes the scalar path: %s", why)

    def run(self, plan: Plan) -> ReplayMetrics:
        window = self.window
        if self.recording is not None:
            try:
                result, _, _ = dry_run_recording(
                    plan,
                    self.recording,
                    broker=self.broker_for(plan),
                    store=MemoryState(),
                    start=window.start,
                    end=window.window_to,
                )
                return _metrics(result, "columns")
            except NotReplayable as why:  # the plan or the history needs the scalar path
                if self.replay == "columns":
                    raise
                logger.info("promotion replay of %s takes the scalar path: %s", plan.version, why)
        result, _, _ = dry_run(
            plan,
            iter(window.snapshots),
            broker=self.broker_for(plan),
            store=MemoryState(),
            start=window.start,
            end=window.window_to,
        )
        return _metrics(result, "scalar")


def _metrics(result: dict, path: str) -> ReplayMetrics:
    if result["interrupted"]:  # Ctrl-C stopped the replay: a part of the window decides nothing
        raise KeyboardInterrupt
    metrics = result["metrics"]
    start, end = metrics["starting_equity_usd"], metrics["ending_equity_usd"]
    return ReplayMetrics(
        version=result["version"],
        net_return_pct=(end - start) / start * 100 if start > 0 else 0.0,
        trades=metrics["trades"],
        win_rate=metrics["win_rate"],
        max_drawdown_pct=metrics["max_drawdown_pct"],
        net_pnl_pct=metrics["net_pnl_pct"],
        open_positions=result["open_positions"],
        fingerprint=result["fingerprint"],
        replay=path,
    )


def _rows(recording: Recording) -> Iterator[Snapshot]:
    for i in range(len(recording)):
        yield recording.snapshot(i)


def _check_window(window_from: float, window_to: float) -> None:
    for name, value in (("from", window_from), ("to", window_to)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise PromotionError(f"the data window's {name} is not a finite time: {value!r}")
    if window_to <= window_from:
        raise PromotionError(
            f"the data window is empty or reversed: from {window_from:g} to {window_to:g} (to must be after from)"
        )
