"""What the entry pipeline knows about the account: equity, margin, open positions, and
the track record the gates and the kill switch read. Plain frozen data, built by the
runner (paper broker or exchange reconciliation) and passed in; nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from engine.bot.states import Claim


@dataclass(frozen=True, slots=True)
class Position:
    symbol: str
    direction: str  # LONG | SHORT
    notional_usd: float
    margin_usd: float
    entry_price: float
    leverage: float
    opened_at: float


@dataclass(frozen=True, slots=True)
class TradeStats:
    """Closed trades of one symbol and direction within the learning lookback."""

    trades: int = 0
    win_rate: float = 0.0
    expectancy_pct: float = 0.0


@dataclass(frozen=True, slots=True)
class AccountStats:
    """Inputs of the kill switch (requirements.policy.kill_switch), over its lookback."""

    peak_equity_usd: float = 0.0
    trades: int = 0
    win_rate: float = 0.0
    orders_submitted: int = 0
    orders_rejected: int = 0

    def drawdown_pct(self, equity_usd: float) -> float:
        if self.peak_equity_usd <= 0:
            return 0.0
        return max(0.0, (self.peak_equity_usd - equity_usd) / self.peak_equity_usd * 100)

    @property
    def reject_rate(self) -> float:
        return self.orders_rejected / self.orders_submitted if self.orders_submitted else 0.0


@dataclass(frozen=True, slots=True)
class Portfolio:
    equity_usd: float
    available_margin_usd: float
    positions: tuple[Position, ...] = ()
    stats: Mapping[tuple[str, str], TradeStats] = field(default_factory=lambda: MappingProxyType({}))
    account: AccountStats = field(default_factory=AccountStats)
    # states held by an operator (rulebot halt|reduce) or a task (reconciliation, watchdog, recovery):
    # earliest set first (engine/bot/states.py weighs them with the kill switch)
    held: tuple[Claim, ...] = ()
    data_alarm: str = ""  # why the market-data sanity layer froze entries (REDUCING), or ""
    venue_halt: str = ""  # live: the venue's fatal error that engaged the kill switch (HALTED), or ""

    def positions_in(self, symbol: str) -> tuple[Position, ...]:
        return tuple(p for p in self.positions if p.symbol == symbol)

    def exposure_pct(self) -> float:
        if self.equity_usd <= 0:
            return 0.0
        return sum(p.notional_usd for p in self.positions) / self.equity_usd * 100

    def trade_stats(self, symbol: str, direction: str) -> TradeStats:
        return self.stats.get((symbol, direction), TradeStats())
