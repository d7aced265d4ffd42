"""An in-memory state store for dry-runs: the same StatePort as the SQLite store, without
durability (a dry-run is repeated, not resumed), so a long replay is not slowed by fsyncs."""

from __future__ import annotations

import bisect
from typing import TYPE_CHECKING

from engine.learners.base import ClosedTrade, LearningData, SignalOutcome
from engine.learners.resolution import Resolution, Signal
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


class LearningMemoryState(MemoryState):
    """A MemoryState that also keeps the signals and their resolutions, as the SQLite store
    does for the running bot (``keeps_signals``), so a walk-forward dry-run (``dry-run
    --learn``) gives its learners the data a bot's store would: ``learning_data`` and
    ``pending_signals`` answer as adapters/store/state.py's do, from memory."""

    keeps_signals = True

    def __init__(self) -> None:
        super().__init__()
        self._signal_ts: list[float] = []  # signal times, ascending (bisected by learning_data)
        self._signals: list[Signal] = []  # in (ts, symbol) order, as the store's ORDER BY
        self._resolutions: dict[tuple[float, str], dict[float, Resolution]] = {}
        # (ts, symbol) → {horizon: (when its price was seen, the outcome)}, resolved ones only
        self._outcomes: dict[tuple[float, str], dict[float, tuple[float, SignalOutcome]]] = {}

    def apply(self, transition: Transition, *, version: str | None = None) -> None:
        super().apply(transition, version=version)
        for signal in sorted(transition.signals, key=lambda s: (s.ts, s.symbol)):
            key = (signal.ts, signal.symbol)
            if key in self._resolutions:  # inserted once by (ts, symbol), as the store's
                continue
            self._signal_ts.append(signal.ts)
            self._signals.append(signal)
            self._resolutions[key], self._outcomes[key] = {}, {}
        for resolution in transition.resolutions:
            key = (resolution.signal.ts, resolution.signal.symbol)
            self._resolutions[key].setdefault(resolution.horizon_s, resolution)
            outcome = resolution.outcome
            if outcome is not None and resolution.price_ts is not None:
                self._outcomes[key].setdefault(resolution.horizon_s, (resolution.price_ts, outcome))

    def pending_signals(self, since: float) -> list[tuple[Signal, tuple[Resolution, ...]]]:
        """The signals made after ``since``, each with its resolutions so far, oldest first."""
        first = bisect.bisect_right(self._signal_ts, since)
        out = []
        for signal in self._signals[first:]:
            done = self._resolutions[(signal.ts, signal.symbol)]
            out.append((signal, tuple(done[h] for h in sorted(done))))
        return out

    def learning_data(self, since: float, until: float) -> LearningData:
        """The resolved outcomes of the signals made in [``since``, ``until``) whose price was
        seen by ``until``, and the trades closed in it; oldest first."""
        if until < since:
            raise ValueError(f"learning_data: until ({until}) is before since ({since})")
        first = bisect.bisect_left(self._signal_ts, since)
        last = bisect.bisect_left(self._signal_ts, until)
        outcomes: list[SignalOutcome] = []
        for signal in self._signals[first:last]:
            done = self._outcomes[(signal.ts, signal.symbol)]
            outcomes.extend(done[h][1] for h in sorted(done) if done[h][0] <= until)
        trades = (ClosedTrade.of(t) for t in self.trades() if since <= t.exit_ts < until)
        return LearningData(since, until, tuple(outcomes), tuple(trades))
