"""A small frozen TaskContext for the task tests: every field a plain value, so two equal
contexts are interchangeable and a task's purity can be checked by running it twice."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from engine.bot.tasks.base import Override, TaskRun, TradingState
from engine.language.kinds.venues import Exchange
from engine.ports import Fill, OrderState, VenuePosition
from engine.trading.positions import OpenPosition, TradeRecord

NOW = 1_767_600_000.0  # 2026-01-05 08:00:00 UTC

KRAKEN = Exchange(
    id="kraken_futures",
    kind="kraken",
    venue_type="futures",
    maker_fee_pct=0.02,
    taker_fee_pct=0.05,
    funding_interval_s=14400.0,
    symbols={},
    instruments={},
    params={},
)


def plan(*, logs_keep_s: float = 30 * 86400.0, venue: Exchange = KRAKEN, learners: Sequence[Any] = ()) -> Any:
    """The parts of a compiled plan the tasks read (``learners``: learning.yaml's, each with
    ``id`` and ``schedule``)."""
    venues = SimpleNamespace(execution_venue=venue.id, exchange=lambda vid: venue if vid == venue.id else None)
    return SimpleNamespace(venues=venues, learning=SimpleNamespace(logs_keep_s=logs_keep_s, learners=tuple(learners)))


@dataclass(frozen=True)
class FakeContext:
    """engine.bot.tasks.base.TaskContext with fixed values."""

    now: float = NOW
    job_id: str = "job"
    learning: bool = False
    plan: Any = field(default_factory=plan)
    trading_state: tuple[TradingState, str] = ("ACTIVE", "")
    open_positions: Sequence[OpenPosition] = ()
    pending_orders: Mapping[str, float] = field(default_factory=dict)
    market_ts: float | None = None
    broker_open_orders: Sequence[OrderState] = ()
    broker_positions: Sequence[VenuePosition] = ()
    equity_usd: float = 10_000.0
    trades: Sequence[TradeRecord] = ()
    fills: Sequence[Fill] = ()
    heartbeats: Mapping[str, float] = field(default_factory=dict)
    recent_runs: Sequence[TaskRun] = ()
    overrides: Sequence[Override] = ()
    state_changes: Sequence[Mapping[str, Any]] = ()
    reloads: Sequence[Mapping[str, Any]] = ()
    log_sizes: Mapping[str, int] = field(default_factory=dict)
    log_sizes_day_ago: Mapping[str, int] = field(default_factory=dict)
    disk_free_bytes: int = 50 * 10**9

    def trades_since(self, ts: float) -> Sequence[TradeRecord]:
        return [t for t in self.trades if t.exit_ts >= ts]

    def fills_since(self, ts: float) -> Sequence[Fill]:
        return [f for f in self.fills if f.ts >= ts]


def position(
    symbol: str, direction: str, quantity: float, *, pid: str = "", opened_at: float = NOW - 3600
) -> OpenPosition:
    return OpenPosition(
        id=pid or f"{symbol}-{direction}",
        symbol=symbol,
        direction=direction,
        venue="kraken_futures",
        entry_price=100.0,
        quantity=quantity,
        initial_quantity=quantity,
        leverage=2.0,
        opened_at=opened_at,
        entry_version="rs-0000000000000000",
    )


def broker_position(symbol: str, quantity: float) -> VenuePosition:
    return VenuePosition(symbol=symbol, quantity=quantity, entry_price=100.0, leverage=2.0, liquidation_price=None)


def order(cid: str, *, created_at: float, status: str = "open", symbol: str = "BTCUSDT") -> OrderState:
    return OrderState(
        client_order_id=cid,
        venue_order_id=f"v-{cid}",
        symbol=symbol,
        side="buy",
        quantity=1.0,
        filled_quantity=0.0,
        order_type="limit",
        limit_price=100.0,
        status=status,
        reduce_only=False,
        created_at=created_at,
    )


def task_run(task: str, status: str, started_ts: float, *, error: str = "") -> TaskRun:
    return TaskRun(
        job_id=task,
        task=task,
        scheduled_ts=started_ts,
        started_ts=started_ts,
        duration_s=0.25,
        status=status,  # type: ignore[arg-type]
        summary=f"{task} {status}",
        error=error,
    )


def fill(
    fill_id: str,
    *,
    fee: float,
    liquidity: str = "taker",
    quantity: float = 1.0,
    price: float = 1000.0,
    ts: float = NOW - 60,
    symbol: str = "BTCUSDT",
) -> Fill:
    return Fill(fill_id, f"c-{fill_id}", symbol, "buy", quantity, price, fee, liquidity, ts)


def trade(tid: str, symbol: str, net_pnl: float, *, fees: float = 1.0, exit_ts: float = NOW - 3600) -> TradeRecord:
    return TradeRecord(
        id=tid,
        symbol=symbol,
        direction="LONG",
        venue="kraken_futures",
        entry_ts=exit_ts - 1800,
        exit_ts=exit_ts,
        entry_price=100.0,
        exit_price=101.0,
        quantity=1.0,
        leverage=2.0,
        gross_pnl=net_pnl + fees,
        fees=fees,
        funding=0.0,
        net_pnl=net_pnl,
        net_pnl_pct=net_pnl,
        duration_s=1800.0,
        exit_reason="TAKE_PROFIT",
        exit_tier="tp",
        entry_version="rs-0000000000000000",
        exit_version="rs-0000000000000000",
        conviction="HIGH",
        confidence=0.7,
    )
