"""An in-memory state store for dry-runs: the same StatePort as the SQLite store, without
durability (a dry-run is repeated, not resumed), so a long replay is not slowed by fsyncs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.ports import Fill, FundingPayment, Transition

if TYPE_CHECKING:  # the lifecycle's records, named only in annotations here
    from engine.trading.positions import OpenPosition, TradeRecord


class MemoryState:
    durable = False  # the runner skips building resume blobs for a store that is not kept

    def __init__(self) -> None:
        self._positions: dict[str, OpenPosition] = {}
        self._trades: dict[str, TradeRecord] = {}
        self._cursors: dict[str, float] = {}
        self._blobs: dict[str, str] = {}
        self.fills: list[Fill] = []
        self.funding: list[FundingPayment] = []

    def apply(self, transition: Transition, *, version: str | None = None) -> None:
        for position_id in transition.closed_positions:
            self._positions.pop(position_id, None)
        for position in transition.positions:
            if position.id not in transition.closed_positions:
                self._positions[position.id] = position
        for trade in transition.trades:
            self._trades.setdefault(trade.id, trade)
        self.fills.extend(transition.fills)
        self.funding.extend(transition.funding)
        self._cursors.update(dict(transition.cursors))
        self._blobs.update({name: value() if callable(value) else value for name, value in transition.blobs})

    def open_positions(self) -> list[OpenPosition]:
        return list(self._positions.values())

    def trades(self) -> list[TradeRecord]:
        return sorted(self._trades.values(), key=lambda t: (t.exit_ts, t.id))

    def cursor(self, name: str) -> float | None:
        return self._cursors.get(name)

    def blob(self, name: str) -> str | None:
        return self._blobs.get(name)
