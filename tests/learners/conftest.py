"""Shared pieces of the learner tests: the default rules' plan, a plan whose learnable
values a test can change (as a learned overlay would), and builders of outcomes and trades."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from engine.language.compiler import compile_ruleset
from engine.language.kinds.learning import Learner
from engine.learners.base import ClosedTrade, ComponentCall, LearnerResult, SignalOutcome

ROOT = Path(__file__).resolve().parents[2]
HOUR = 3600.0


@pytest.fixture(scope="session")
def plan():
    result = compile_ruleset(str(ROOT / "rules"))
    assert result.ok
    return result.plans["paper"]


def learner_of(plan: Any, learner_id: str, **changes: Any) -> Learner:
    """The default rules' learner ``learner_id``, with ``changes`` (min_trades, or params)."""
    found = next(lr for lr in plan.learning.learners if lr.id == learner_id)
    min_trades = changes.pop("min_trades", found.min_trades)
    return replace(found, min_trades=min_trades, params={**found.params, **changes})


def with_values(plan: Any, values: Mapping[str, float], learnables: Mapping[str, Any] | None = None) -> Any:
    """``plan`` with its learnable values changed (what applying an overlay would give)."""
    return SimpleNamespace(
        learnables=dict(plan.learnables if learnables is None else learnables),
        learnable_values={**plan.learnable_values, **values},
        signals=plan.signals,
        learning=plan.learning,
        exits=plan.exits,
        gates=plan.gates,
        venues=plan.venues,
    )


def applied(plan: Any, result: LearnerResult) -> Any:
    return with_values(plan, {p.path: p.new for p in result.proposals}, plan.learnables)


def outcome(
    move_pct: float,
    calls: Mapping[str, str] = {},
    *,
    direction: str = "LONG",
    outcome: str = "TRADE",
    blocker: str | None = None,
    horizon_s: float = HOUR,
    ts: float = 0.0,
    symbol: str = "BTCUSDT",
) -> SignalOutcome:
    """A signal resolved at ``horizon_s`` whose price moved ``move_pct`` %; ``calls`` maps
    component → its direction."""
    return SignalOutcome(
        ts=ts,
        symbol=symbol,
        horizon_s=horizon_s,
        direction=direction,
        conviction="MEDIUM",
        outcome=outcome,
        blocker=blocker,
        version="rs-test",
        price=100.0,
        price_after=100.0 * (1 + move_pct / 100),
        components=tuple(ComponentCall(c, d, 0.7, 0.1) for c, d in calls.items()),
    )


def trade(
    net_pnl_pct: float,
    *,
    symbol: str = "BTCUSDT",
    side: str = "LONG",
    duration_s: float = HOUR,
    peak_pnl_pct: float | None = None,
    exit_tier: str = "time_exit",
    conviction: str = "MEDIUM",
    leverage: float = 1.0,
    n: int = 0,
) -> ClosedTrade:
    return ClosedTrade(
        id=f"t{n}",
        symbol=symbol,
        side=side,
        entry_ts=n * 10 * HOUR,
        exit_ts=n * 10 * HOUR + duration_s,
        duration_s=duration_s,
        net_pnl=net_pnl_pct,
        net_pnl_pct=net_pnl_pct,
        peak_pnl_pct=max(net_pnl_pct, 0.0) if peak_pnl_pct is None else peak_pnl_pct,
        exit_reason=exit_tier.upper(),
        exit_tier=exit_tier,
        entry_version="rs-test",
        conviction=conviction,
        confidence=0.7,
        leverage=leverage,
    )
