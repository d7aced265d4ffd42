"""Learner ``profit_target`` (seed "Profit Target & Sizing Intelligence"): the profit
targets of the exits' ``profit_target`` tiers and, where the rules make them learnable, the
conviction size multipliers.

Targets: for each learnable ``exits.tiers.<tier>.targets.<i>.pnl_pct`` the closed trades'
best unrealised P&L (``peak_pnl_pct``) and result (``net_pnl_pct``) say what each candidate
target would have earned: a trade whose peak reached the candidate earns the candidate, any
other keeps its result (both in the exits' ``pnl_basis``: price moves are margin % over
leverage). Trades that closed at the current target never show what lay above it, so the
best candidate is searched up to the current target; when at least ``explore_share`` of the
trades closed at it, the target is raised one step to find out. The move is scaled by the
evidence (``n / (n + prior)``). The rules declare one target for every symbol: the per-symbol
optimum is reported in the notes, never written to a path that does not exist.

Conviction size multipliers: a learnable ``signals.conviction.levels.<i>.size_multiplier``
moves with its level's P&L per trade against the P&L per trade of all trades. Without
``learn`` bounds on them (the default rules) the notes say so and nothing is proposed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from engine.language.schemagen.dsl import Schema, num
from engine.learners.base import ClosedTrade, LearnerResult, LearningData, Proposal
from engine.learners.common import confidence, current, explain_proposals, propose, result, shrunk_mean, skipped

if TYPE_CHECKING:
    from engine.language.kinds.base import BuildContext, Doc
    from engine.language.kinds.learning import Learner, Spec

KIND = "profit_target"
SUMMARY = "Tunes profit targets (and learnable conviction size multipliers) from realised trades."
CODES: dict[str, str] = {}
REQUIRED_PARAMS: tuple[str, ...] = ()
DEFAULT_PRIOR = 10.0
DEFAULT_EXPLORE_SHARE = 0.25
GRID_PCT = 0.05  # candidate targets every 0.05 %


def params_schema() -> dict[str, Schema]:
    return {
        "prior": num(
            "Pseudo-trades of no evidence: with this many trades the learner moves half-way to its optimum. Default 10.",
            "count",
            minimum=0,
            maximum=100000,
        ),
        "explore_share": num(
            "Share of trades closing at a target above which it is raised one step (what lies above is unseen). Default 0.25.",
            "fraction",
            minimum=0,
            maximum=1,
        ),
    }


def check(learner: Learner, doc: Doc, path: tuple[Any, ...], ctx: BuildContext, spec: Spec) -> None:
    """Nothing beyond the schema."""


def _price_pct(value: float, trade: ClosedTrade, basis: str) -> float:
    return value / trade.leverage if basis == "price" and trade.leverage > 0 else value


def earned(trades: Sequence[ClosedTrade], target: float, basis: str) -> float:
    """P&L per trade (in ``basis``) had the target been ``target``."""
    total = 0.0
    for t in trades:
        peak, net = _price_pct(t.peak_pnl_pct, t, basis), _price_pct(t.net_pnl_pct, t, basis)
        total += target if peak >= target else net
    return total / len(trades)


def best_target(trades: Sequence[ClosedTrade], low: float, high: float, basis: str) -> tuple[float, float]:
    """(candidate in ``low``…``high`` that earned most, what it earned per trade); ties go to the higher."""
    steps = max(0, math.floor((high - low) / GRID_PCT + 1e-9))
    candidates = [round(low + i * GRID_PCT, 10) for i in range(steps + 1)] + [high]
    scored = [(earned(trades, c, basis), c) for c in candidates]
    value, target = max(scored)
    return target, value


def _targets(learner: Learner, data: LearningData, plan: Any, basis: str) -> tuple[list[Proposal], list[str]]:
    prior = float(learner.params.get("prior", DEFAULT_PRIOR))
    explore = float(learner.params.get("explore_share", DEFAULT_EXPLORE_SHARE))
    trades = data.trades
    proposals: list[Proposal] = []
    notes: list[str] = []
    found_any = False
    for tier in plan.exits.tiers:
        if tier.kind != "profit_target":
            continue
        for index, _ in enumerate(tier.params.targets):
            path = f"exits.tiers.{tier.id}.targets.{index}.pnl_pct"
            found = current(plan, path)
            if found is None:
                notes.append(f"{path}: not learnable in these rules; left alone")
                continue
            found_any = True
            old, bounds = found
            at_target = sum(1 for t in trades if t.exit_tier == tier.id)
            best, value = best_target(trades, float(bounds["min"]), old, basis)
            now = earned(trades, old, basis)
            if best >= old and at_target / len(trades) >= explore:
                target = old + float(bounds["max_step"])
                why = (
                    f"{at_target} of {len(trades)} trades closed at the target ({at_target / len(trades):.0%} ≥ "
                    f"{explore:.0%}): what lies above it is unseen, raised one step to learn"
                )
            else:
                target = old + confidence(len(trades), prior) * (best - old)
                why = f"{len(trades)} trades: a {best:g} % target would have earned {value:+.3f} % per trade, {old:g} % earned {now:+.3f} %"
            proposal = propose(learner, plan, path, target, why, len(trades), decimals=2)
            if proposal is not None:
                proposals.append(proposal)
            notes += _per_symbol(trades, float(bounds["min"]), old, basis, path)
    if not found_any:
        notes.append("no learnable profit target in the exits' profit_target tiers")
    return proposals, notes


def _per_symbol(trades: Sequence[ClosedTrade], low: float, high: float, basis: str, path: str) -> list[str]:
    """What each symbol would prefer: the rules have one target for all, so this is reported only."""
    notes = []
    for symbol in sorted({t.symbol for t in trades}):
        mine = [t for t in trades if t.symbol == symbol]
        best, value = best_target(mine, low, high, basis)
        notes.append(
            f"{symbol}: best target {best:g} % ({value:+.3f} % per trade over {len(mine)} trades); "
            f"no per-symbol learnable path, {path} is shared"
        )
    return notes


def _multipliers(learner: Learner, data: LearningData, plan: Any) -> tuple[list[Proposal], list[str]]:
    prior = float(learner.params.get("prior", DEFAULT_PRIOR))
    trades = data.trades
    scale = sum(abs(t.net_pnl_pct) for t in trades) / len(trades)
    overall = sum(t.net_pnl_pct for t in trades) / len(trades)
    proposals: list[Proposal] = []
    learnable = False
    for index, level in enumerate(plan.signals.levels):
        path = f"signals.conviction.levels.{index}.size_multiplier"
        found = current(plan, path)
        if found is None:
            continue
        learnable = True
        mine = [t for t in trades if t.conviction == level.name]
        if not mine or scale <= 0:
            continue
        edge = shrunk_mean(sum(t.net_pnl_pct for t in mine), len(mine), prior) - overall * confidence(len(mine), prior)
        target = found[0] * (1 + max(-0.5, min(0.5, edge / scale)))
        why = (
            f"{len(mine)} {level.name} trades made {sum(t.net_pnl_pct for t in mine) / len(mine):+.2f} % per trade "
            f"against {overall:+.2f} % for all {len(trades)}"
        )
        proposal = propose(learner, plan, path, target, why, len(mine), decimals=3)
        if proposal is not None:
            proposals.append(proposal)
    notes = (
        []
        if learnable
        else [
            "conviction size multipliers: not learnable in these rules (no `learn` bounds on "
            "signals.conviction.levels.*.size_multiplier); left alone"
        ]
    )
    return proposals, notes


def learn(learner: Learner, data: LearningData, plan: Any) -> LearnerResult:
    inputs = {"trades": len(data.trades)}
    if len(data.trades) < learner.min_trades:
        return skipped(learner, inputs, f"{len(data.trades)} closed trades, fewer than min_trades {learner.min_trades}")
    targets, target_notes = _targets(learner, data, plan, plan.exits.pnl_basis)
    multipliers, multiplier_notes = _multipliers(learner, data, plan)
    return result(
        learner,
        inputs,
        targets + multipliers,
        "the targets and multipliers are already where the trades put them",
        target_notes + multiplier_notes,
    )


def explain(result: LearnerResult) -> str:
    return explain_proposals(result, "changes")
