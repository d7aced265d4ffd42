"""Open positions and closed trades as the engine tracks them (the state store persists them).

A position is opened by an entry fill and remembers what the exit tiers need: when and at
what price it opened, its grace window, the alignment and EMA trend at entry, the timing
action's hold multiplier, the ladder rungs already taken. A trade is the closed record:
net P&L after fees and funding, duration, exit reason and tier, entry and exit versions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType


@dataclass(frozen=True, slots=True)
class OpenPosition:
    id: str  # the entry order's client order id
    symbol: str
    direction: str  # LONG | SHORT
    venue: str
    entry_price: float  # average entry fill price
    quantity: float  # base units still open
    initial_quantity: float
    leverage: float
    opened_at: float
    entry_version: str
    conviction: str = "NONE"
    confidence: float = 0.0
    grace_until: float = 0.0
    alignment_at_entry: float | None = None
    trend_at_entry: int = 0  # EMA cross direction at entry: +1, −1, 0
    stop_price: float | None = None
    fees_paid: float = 0.0  # quote currency
    funding_paid: float = 0.0  # quote currency; negative when funding was received
    realized_pnl: float = 0.0  # gross P&L of the partial closes so far
    exit_fills_value: float = 0.0  # Σ price × quantity of the closing fills (for the average exit price)
    peak_pnl_pct: float = 0.0
    hold_multiplier: float = 1.0  # from the last timing action (HOLD_EXTENDED 1.5 …)
    ladder_done: tuple[int, ...] = ()
    attribution: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def sign(self) -> int:
        return 1 if self.direction == "LONG" else -1


@dataclass(frozen=True, slots=True)
class TradeRecord:
    id: str  # = the position id
    symbol: str
    direction: str
    venue: str
    entry_ts: float
    exit_ts: float
    entry_price: float
    exit_price: float  # average over every closing fill
    quantity: float  # initial base quantity
    leverage: float
    gross_pnl: float
    fees: float
    funding: float  # paid (positive) or received (negative)
    net_pnl: float  # gross − fees − funding
    net_pnl_pct: float  # net ÷ entry notional × 100
    duration_s: float
    exit_reason: str  # STOP_LOSS, TAKE_PROFIT, TIME_LIMIT, …
    exit_tier: str  # tier id from exits.yaml ("" for liquidation)
    entry_version: str
    exit_version: str
    conviction: str
    confidence: float
    attribution: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    peak_pnl_pct: float = 0.0  # best P&L seen while open (exit efficiency)

    def as_dict(self) -> dict:
        """JSON-ready: every field, the attribution as a plain dict."""
        record = {f.name: getattr(self, f.name) for f in fields(self)}
        record["attribution"] = dict(self.attribution)
        return record
