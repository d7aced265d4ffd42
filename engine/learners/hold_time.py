"""Learner ``hold_time`` (seed "Timing Intelligence"): the optimal hold per symbol and
direction (``exits.optimal_hold.by_position.<SYMBOL>:<SIDE>``) and the default
(``exits.optimal_hold.default``, from every trade).

The closed trades of a position are sorted into the learner's hold ``buckets`` by duration
(short ≤ ``short``, medium ≤ ``medium``, long above). Each bucket's P&L per trade (% of
margin) is shrunk towards 0 by ``prior`` pseudo-trades, so a bucket of two lucky trades does
not win; the best bucket's median duration is the target. The hold moves towards it by the
share of evidence (``n / (n + prior)``), rounded to whole minutes, at most ``max_step``. A
position with fewer than ``min_trades`` trades keeps its hold.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from engine.language.schemagen.dsl import Schema, duration, num, obj
from engine.learners.base import ClosedTrade, LearnerResult, LearningData
from engine.learners.common import (
    confidence,
    current,
    duration_words,
    explain_proposals,
    propose,
    result,
    shrunk_mean,
    skipped,
)

if TYPE_CHECKING:
    from engine.language.kinds.base import BuildContext, Doc
    from engine.language.kinds.learning import Learner, Spec

KIND = "hold_time"
SUMMARY = "Learns the optimal hold time per symbol/direction from trades' duration vs P&L."
CODES = {"RB397": "a hold_time learner's buckets are not ordered short < medium < long"}
REQUIRED_PARAMS = ("buckets",)
BUCKETS = ("short", "medium", "long")
DEFAULT_PRIOR = 5.0
PREFIX = "exits.optimal_hold.by_position."
DEFAULT_PATH = "exits.optimal_hold.default"


def params_schema() -> dict[str, Schema]:
    return {
        "buckets": obj(
            "Hold-time buckets: a trade is short up to `short`, medium up to `medium`, long above.",
            {b: duration(f"Upper end of the {b} bucket.", positive=True) for b in BUCKETS},
        ),
        "prior": num(
            "Pseudo-trades at 0 P&L each bucket starts with (a bucket's P&L counts half at this many trades). Default 5.",
            "count",
            minimum=0,
            maximum=100000,
        ),
    }


def check(learner: Learner, doc: Doc, path: tuple[Any, ...], ctx: BuildContext, spec: Spec) -> None:
    """RB397: short < medium < long (else a bucket is empty by construction)."""
    b = learner.params["buckets"]
    if not b["short"] < b["medium"] < b["long"]:
        ctx.report(
            doc,
            path + ("buckets",),
            "RB397",
            f"learner '{learner.id}': buckets short {duration_words(b['short'])}, medium "
            f"{duration_words(b['medium'])}, long {duration_words(b['long'])} are not increasing",
            suggestion="order them short < medium < long",
        )


def bucket_of(duration_s: float, buckets: Mapping[str, float]) -> str:
    if duration_s <= buckets["short"]:
        return "short"
    return "medium" if duration_s <= buckets["medium"] else "long"


def best_hold(trades: Sequence[ClosedTrade], buckets: Mapping[str, float], prior: float) -> tuple[float, str]:
    """(target hold in seconds, why): the median duration of the bucket with the best shrunk P&L."""
    grouped: dict[str, list[ClosedTrade]] = {b: [] for b in BUCKETS}
    for trade in trades:
        grouped[bucket_of(trade.duration_s, buckets)].append(trade)
    scores = {b: shrunk_mean(sum(t.net_pnl_pct for t in ts), len(ts), prior) for b, ts in grouped.items() if ts}
    best = max(scores, key=lambda b: (scores[b], -BUCKETS.index(b)))
    median = statistics.median(t.duration_s for t in grouped[best])
    listing = ", ".join(f"{b} {len(grouped[b])} trades {scores[b]:+.2f} %" for b in BUCKETS if grouped[b])
    return median, f"best bucket {best} (median {duration_words(median)}); {listing}"


def learn(learner: Learner, data: LearningData, plan: Any) -> LearnerResult:
    trades = data.trades
    inputs = {"trades": len(trades)}
    if len(trades) < learner.min_trades:
        return skipped(learner, inputs, f"{len(trades)} closed trades, fewer than min_trades {learner.min_trades}")
    buckets = learner.params["buckets"]
    prior = float(learner.params.get("prior", DEFAULT_PRIOR))
    by_position: dict[str, list[ClosedTrade]] = {}
    for trade in trades:
        by_position.setdefault(f"{trade.symbol}:{trade.side}", []).append(trade)
    wanted = [(DEFAULT_PATH, list(trades))]
    wanted += [(PREFIX + key, ts) for key, ts in sorted(by_position.items())]
    proposals, notes = [], []
    for path, ts in wanted:
        found = current(plan, path)
        if found is None:
            notes.append(f"{path}: not learnable in these rules ({len(ts)} trades); left alone")
            continue
        if len(ts) < learner.min_trades:
            notes.append(f"{path}: {len(ts)} trades, fewer than min_trades {learner.min_trades}")
            continue
        old = found[0]
        best, why = best_hold(ts, buckets, prior)
        target = round((old + confidence(len(ts), prior) * (best - old)) / 60) * 60
        proposal = propose(learner, plan, path, target, f"{len(ts)} trades: {why}", len(ts), decimals=0)
        if proposal is not None:
            proposals.append(proposal)
    return result(learner, inputs, proposals, "every learnable hold is already where its trades put it", notes)


def explain(result: LearnerResult) -> str:
    return explain_proposals(result, "hold changes", duration_words)
