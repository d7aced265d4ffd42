"""The learners' contract: what they read (outcomes, closed trades, the plan) and what they
answer (bounded proposals). A learner is a pure function ``learn(learner, data, plan) ->
LearnerResult``: no I/O, no clock, so the same inputs always give the same proposals and a
replay can run learners on simulated time (walk-forward)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

LONG, SHORT, NEUTRAL = "LONG", "SHORT", "NEUTRAL"


@dataclass(frozen=True, slots=True)
class ComponentCall:
    """What one signal component said when the signal was made."""

    component: str  # component id
    direction: str  # LONG / SHORT / NEUTRAL
    confidence: float  # 0..1
    weight: float  # its weight in the plan that made the signal


@dataclass(frozen=True, slots=True)
class SignalOutcome:
    """One signal resolved at one forward horizon: where the price went after it."""

    ts: float  # signal time (UTC seconds)
    symbol: str
    horizon_s: float
    direction: str  # the vote's direction; NEUTRAL when the vote had none
    conviction: str
    outcome: str  # what the decision was: TRADE, or the stage that blocked it (e.g. BLOCKED)
    blocker: str | None  # first gate/check that blocked it, None when it traded or had no direction
    version: str  # rule-set version that made the signal
    price: float  # mark price at the signal
    price_after: float  # mark price at ts + horizon_s
    components: tuple[ComponentCall, ...] = ()

    @property
    def move_pct(self) -> float:
        """Signed price move over the horizon, in % of the signal's price."""
        return (self.price_after - self.price) / self.price * 100.0

    def right(self, direction: str | None = None) -> bool | None:
        """Whether ``direction`` (default: the vote's) called the move; None for NEUTRAL or a
        flat price (a call that said nothing is neither right nor wrong)."""
        direction = self.direction if direction is None else direction
        move = self.move_pct
        if direction == NEUTRAL or move == 0:
            return None
        return (move > 0) == (direction == LONG)


@dataclass(frozen=True, slots=True)
class ClosedTrade:
    """A closed trade as the learners read it (from the trades table)."""

    id: str
    symbol: str
    side: str  # LONG / SHORT
    entry_ts: float
    exit_ts: float
    duration_s: float
    net_pnl: float  # USD after fees and funding
    net_pnl_pct: float  # % of margin
    peak_pnl_pct: float  # best unrealised P&L seen while open, % of margin
    exit_reason: str
    exit_tier: str
    entry_version: str
    conviction: str
    confidence: float
    leverage: float

    @classmethod
    def of(cls, trade: Any) -> ClosedTrade:
        """A stored trade (engine/trading/positions.py ``TradeRecord``) as the learners read it:
        ``net_pnl_pct`` in % of margin (the trade record keeps % of the entry notional; ×
        leverage)."""
        return cls(
            id=trade.id,
            symbol=trade.symbol,
            side=trade.direction,
            entry_ts=trade.entry_ts,
            exit_ts=trade.exit_ts,
            duration_s=trade.duration_s,
            net_pnl=trade.net_pnl,
            net_pnl_pct=trade.net_pnl_pct * trade.leverage,
            peak_pnl_pct=trade.peak_pnl_pct,
            exit_reason=trade.exit_reason,
            exit_tier=trade.exit_tier,
            entry_version=trade.entry_version,
            conviction=trade.conviction,
            confidence=trade.confidence,
            leverage=trade.leverage,
        )


@dataclass(frozen=True, slots=True)
class LearningData:
    """Everything one learning cycle reads: its window, the resolved signals and closed trades."""

    window_from: float
    window_to: float
    outcomes: tuple[SignalOutcome, ...] = ()
    trades: tuple[ClosedTrade, ...] = ()


@dataclass(frozen=True, slots=True)
class Proposal:
    """A learner's proposed new value for one learnable parameter, with why."""

    learner: str
    path: str  # dotted parameter path (plan.learnables)
    old: float
    new: float
    reason: str
    evidence: int  # outcomes or trades behind it
    group: str | None = None  # proposals of one group apply all or none (e.g. weights summing to 1)

    @property
    def change_pct(self) -> float:
        return (self.new - self.old) / abs(self.old) * 100.0 if self.old else math.inf


@dataclass(frozen=True, slots=True)
class LearnerResult:
    """One learner's answer for one cycle: what it read, what it proposes, or why nothing."""

    learner: str
    kind: str
    inputs: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    proposals: tuple[Proposal, ...] = ()
    skipped: str | None = None  # why it proposed nothing (too few outcomes, no learnable value...)
    notes: tuple[str, ...] = ()  # what it found but could not propose (e.g. a piece with no learnable path)


def bounded(new: float, current: float, bounds: Mapping[str, Any]) -> float:
    """``new`` moved at most ``max_step`` from ``current`` and kept within ``min``…``max``."""
    step = float(bounds["max_step"])
    moved = min(current + step, max(current - step, new))
    return min(float(bounds["max"]), max(float(bounds["min"]), moved))
