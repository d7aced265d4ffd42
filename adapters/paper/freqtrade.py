"""The paper broker with freqtrade 2026.9 backtesting's fill model (``fill_model: freqtrade``).

The rules pick it in a paper profile (``paper_broker: {fill_model: freqtrade}``); a replay of
a freqtrade strategy written as rules then trades as freqtrade's own backtest does
(docs/migrating-from-freqtrade.md, rule numbers from ../shared/reference/
freqtrade-backtest-semantics.md, the arithmetic in engine/trading/fills/freqtrade.py):

* an entry fills at the open of the candle after the decision (rule 2), stamped with that
  candle's open time, as freqtrade dates a trade; no slippage;
* each candle of an open trade: its funding first (rule 10: the rate published at a full
  hour × the mark then × the amount), then its stop (rules 5, 6) and then its ROI table
  (rules 7, 8) against the candle's low and high — on the entry's own candle too (rule 3).
  Those two exits are the broker's, like a venue's resting stop: ``protective_exit`` tells the
  runner which position and tier each served, and ``executes_tiers`` names the tiers the
  runner therefore leaves to it (its own check sees only closes, not the candle's range);
* an entry sent while a trade in the other direction is open waits for the next candle:
  filled at its open if that trade exits in the candle (rule 13, the same-candle
  reversal), cancelled otherwise;
* ``close_at_end``: what is still open when the data ends is closed at the last candle's
  open (rule 14, freqtrade's ``force_exit``).

The stop is the first ``stop_loss`` tier's ``loss_pct`` and the ROI table the first ``roi``
tier's, both on the rules' P&L basis (``margin``: of the stake, as freqtrade's; ``price``: of
the price, freqtrade's at leverage 1). Fees are the venue's taker fee; ticks its instruments'.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from adapters.paper.broker import TAKER, Event, HoldingColumns, PaperBroker, _observe_symbol, _Observed
from engine.language.kinds.venues import Exchange
from engine.market.snapshot import Candle, Snapshot
from engine.ports import BUY, CANCELLED, FILLED, MARKET, OPEN, SELL, Fill, FundingPayment, OrderRequest, OrderState
from engine.trading.fills import freqtrade as ft

FILL_MODEL = "freqtrade"
REASONS = {"stop": "STOP_LOSS", "roi": "ROI", "end": "FORCE_EXIT"}


@dataclass(frozen=True, slots=True)
class Exits:
    """The exits freqtrade places itself: a stop and a ROI table, from the rules' tiers."""

    stop_tier: str | None
    stoploss: float  # freqtrade's stoploss: the loss fraction of the stake (0.025)
    roi_tier: str | None
    roi: tuple[tuple[float, float], ...]  # (minutes, ratio of the stake), the ROI table
    on_stake: bool  # the rules' P&L basis is the stake (margin); else the price

    @classmethod
    def of(cls, plan: Any) -> Exits:
        stop = next((t for t in plan.exits.tiers if t.kind == "stop_loss"), None)
        roi = next((t for t in plan.exits.tiers if t.kind == "roi"), None)
        return cls(
            stop.id if stop else None,
            float(stop.params.loss_pct) / 100 if stop else 0.0,
            roi.id if roi else None,
            tuple((s.after / 60, s.pnl_pct / 100) for s in roi.params.tiers) if roi else (),
            plan.exits.pnl_basis == "margin",
        )


@dataclass(slots=True)
class _Trade:
    """An open freqtrade trade: one entry fill and what freqtrade keeps about it."""

    position: str  # the entry's client order id: the runner's position id
    symbol: str
    short: bool
    amount: float
    open_rate: float
    open_ts: float
    leverage: float
    stop: float | None
    funding: float = 0.0  # received positive


class FreqtradeBroker(PaperBroker):
    """PaperBroker whose fills follow freqtrade's backtesting (see the module docstring)."""

    def __init__(self, venue: Exchange, *, starting_balance: float, maintenance_margin_pct: float, exits: Exits):
        super().__init__(
            venue, starting_balance=starting_balance, slippage_bps=0.0, maintenance_margin_pct=maintenance_margin_pct
        )
        self.exits = exits
        self.executes_tiers = frozenset(t for t in (exits.stop_tier, exits.roi_tier) if t)
        self._trades: dict[str, _Trade] = {}  # symbol → its open trade (one per symbol, as freqtrade)
        self._served: dict[str, tuple[str, str, str]] = {}  # exit order → (position, tier, reason)
        self._reversals: set[str] = set()  # entry orders waiting for the opposite trade to close
        self._obs: dict[str, _Observed] = {}
        self._stamp: float | None = None  # the candle open time fills are dated with
        self._last_candles: dict[str, Candle] = {}
        self._final = False  # the snapshot being observed is the replay's last (final_snapshot)

    @classmethod
    def for_plan(cls, plan: Any, venue_id: str | None = None) -> FreqtradeBroker:
        venue = plan.venues.exchange(venue_id or plan.venues.execution_venue)
        return cls(
            venue,
            starting_balance=plan.paper_broker.get("starting_balance_usd", 10_000.0),
            maintenance_margin_pct=plan.risk.liquidation.maintenance_margin_pct,
            exits=Exits.of(plan),
        )

    # -------------------------------------------------------------- what the runner asks

    def protective_exit(self, client_order_id: str) -> tuple[str, str, str] | None:
        """(position id, tier, reason) of an exit this broker made itself."""
        return self._served.get(client_order_id)

    def holding_columns(self, ts: np.ndarray, rows: Any) -> HoldingColumns | None:
        """No column form while a trade is open: its exits read every candle's range."""
        if self._trades or self._open:
            return None
        return super().holding_columns(ts, rows)

    def place_order(self, request: OrderRequest) -> OrderState:
        state = super().place_order(request)
        trade = self._trades.get(request.symbol)
        if state.status == OPEN and not request.reduce_only and trade is not None:
            if trade.short != (request.side == SELL):
                self._reversals.add(state.client_order_id)  # rule 13: only if the trade closes next candle
            else:
                return self._set(state, status=CANCELLED, reason="freqtrade: a trade in this direction is open")
        return state

    def final_snapshot(self) -> None:
        """The next snapshot observed is the replay's last: freqtrade enters nothing on the
        last candle (rule 2), so an entry waiting for it is cancelled there, not filled."""
        self._final = True

    def close_at_end(self) -> list[Event]:
        """Rule 14: every open trade closed at its last candle's open, dated then; entry orders cancelled."""
        events: list[Event] = []
        for symbol, trade in sorted(self._trades.items()):
            candle = self._last_candles.get(symbol)
            if candle is not None:
                events += self._exit(trade, "end", candle.open, candle.ts)
        for order in list(self._open.values()):
            self._set(order, status=CANCELLED, reason="freqtrade: the data ended")
        self._reversals.clear()
        return events

    # -------------------------------------------------------------- the candle loop

    def observe(self, snapshot: Snapshot) -> list[Event]:
        symbols = getattr(snapshot, "symbols", None) or {}
        self._obs = {
            s: _observe_symbol(sym, float(snapshot.ts)) for s, sym in symbols.items() if s in self.venue.symbols
        }
        return super().observe(snapshot)

    def _settle_funding(self, when: float) -> list[Event]:
        """freqtrade charges funding per trade at the candles of its funding times (_charge_funding)."""
        return []

    def _on_candle(self, symbol: str, candle: Candle, first: bool) -> list[Event]:
        self._last_candles[symbol] = candle
        self._stamp = candle.ts
        try:
            events = self._fill_market_orders(symbol, candle.open) if first else []
            self._follow_position(symbol)  # the runner's own exit orders fill at the open too
            closed = self._check(symbol, candle, events)
            if first:
                events += self._reverse(symbol, candle, closed)
            events += self._liquidate_if_crossed(symbol, candle.low, candle.high)
            events += self._fill_limit_orders(symbol, candle.open, candle.high, candle.low)
        finally:
            self._stamp = None
        self._follow_position(symbol)
        return events

    def _follow_position(self, symbol: str) -> None:
        """A trade reduced or closed by something else than its own exits (a runner's exit
        order, a liquidation) keeps only what is left, or is forgotten."""
        trade, position = self._trades.get(symbol), self._positions.get(symbol)
        if trade is None:
            return
        if position is None or (position.quantity < 0) != trade.short:
            del self._trades[symbol]
        else:
            trade.amount = abs(position.quantity)

    def _fill_market_orders(self, symbol: str, reference: float) -> list[Event]:
        if self._final:
            for order in [o for o in self._open.values() if o.symbol == symbol and not o.reduce_only]:
                self._reversals.discard(order.client_order_id)
                self._set(order, status=CANCELLED, reason="freqtrade: no entry on the last candle")
        waiting = {cid for cid in self._reversals if cid in self._open}
        for cid in waiting:  # kept out of this round: they fill after the exits, if at all
            self._open.pop(cid)
        try:
            return super()._fill_market_orders(symbol, reference)
        finally:
            for cid in waiting:
                self._open[cid] = self._orders[cid]

    def _check(self, symbol: str, candle: Candle, events: list[Event]) -> bool:
        """Funding, then the stop, then the ROI table of the symbol's trade on this candle;
        True when the trade closed here."""
        trade = self._trades.get(symbol)
        if trade is None:
            return False
        events += self._charge_funding(trade, candle)
        exit_at = self._stop(trade, candle) or self._roi(trade, candle)
        if exit_at is None:
            return False
        why, price = exit_at
        events += self._exit(trade, why, price, candle.ts)
        return True

    def _charge_funding(self, trade: _Trade, candle: Candle) -> list[Event]:
        """Rule 10: at a full-hour candle, the rate published at that hour × the mark then."""
        obs = self._obs.get(trade.symbol)
        if obs is None or candle.ts % 3600 or obs.rate is None or obs.rate_ts != candle.ts or obs.mark is None:
            return []
        amount = ft.funding_fee([(obs.rate, obs.mark)], trade.amount, trade.short)
        trade.funding += amount
        self._funding += amount
        payment = FundingPayment(
            f"{self.venue.id}-funding-{trade.symbol}-{candle.ts:.0f}", trade.symbol, obs.rate, amount, candle.ts
        )
        self._payments.append(payment)
        return [payment]

    def _stop(self, trade: _Trade, candle: Candle) -> tuple[str, float] | None:
        if trade.stop is None or not ft.stop_hit(trade.stop, candle.low, candle.high, trade.short):
            return None
        return "stop", ft.stop_fill(trade.stop, candle.open, candle.low, candle.high, trade.short)

    def _roi(self, trade: _Trade, candle: Candle) -> tuple[str, float] | None:
        age = (candle.ts - trade.open_ts) // 60
        tier = ft.active_roi(self.exits.roi, age)
        if tier is None:
            return None
        key, roi = tier
        leverage = self._stake_leverage(trade)
        best = candle.low if trade.short else candle.high
        fee = self.venue.taker_fee_pct / 100
        if ft.profit_ratio(trade.amount, trade.open_rate, best, fee, trade.funding, trade.short, leverage) <= roi:
            return None
        rate = ft.roi_rate(trade.amount, trade.open_rate, roi, fee, trade.funding, trade.short, leverage)
        return "roi", ft.roi_fill(
            rate, key, age, candle.open, candle.low, candle.high, trade.short, self._tick(trade.symbol)
        )

    def _reverse(self, symbol: str, candle: Candle, closed: bool) -> list[Event]:
        """Rule 13: entries waiting on this symbol fill at this candle's open if its trade
        closed in the candle (and are exit-checked on it), else are cancelled."""
        events: list[Event] = []
        for cid in [c for c in self._reversals if c in self._open and self._open[c].symbol == symbol]:
            self._reversals.discard(cid)
            order = self._open[cid]
            if not closed or symbol in self._trades:
                self._set(order, status=CANCELLED, reason="freqtrade: the opposite trade did not close in the candle")
                continue
            events += self._execute(order, candle.open, TAKER)
            self._check(symbol, candle, events)
        return events

    # -------------------------------------------------------------- fills

    def _execute(self, order: OrderState, price: float, liquidity: str) -> list[Event]:
        events = super()._execute(order, price, liquidity)
        fill = events[0] if events else None
        if isinstance(fill, Fill) and not order.reduce_only and self._orders[order.client_order_id].status == FILLED:
            self._open_trade(order, fill.quantity, fill.price, fill.ts)
        return events

    def _record_fill(
        self, cid: str, symbol: str, side: str, quantity: float, price: float, fee: float, liquidity: str
    ) -> Fill:
        """Dated with the candle's open time while a candle is processed (freqtrade's dates)."""
        fill = super()._record_fill(cid, symbol, side, quantity, price, fee, liquidity)
        if self._stamp is None:
            return fill
        dated = replace(fill, ts=self._stamp)
        self._fills[-1] = dated
        return dated

    def _open_trade(self, order: OrderState, amount: float, price: float, ts: float) -> None:
        short = order.side == SELL
        leverage = self._leverage[order.client_order_id]
        trade = _Trade(order.client_order_id, order.symbol, short, amount, price, ts, leverage, None)
        if self.exits.stop_tier is not None:
            trade.stop = ft.stop_price(
                price, self.exits.stoploss, self._stake_leverage(trade), short, self._tick(order.symbol)
            )
        self._trades[order.symbol] = trade

    def _exit(self, trade: _Trade, why: str, price: float, ts: float) -> list[Event]:
        """Close ``trade`` whole at ``price``: a reduce-only market order of the broker's own."""
        cid = f"{trade.position}-ft-{why}"
        tier = {"stop": self.exits.stop_tier, "roi": self.exits.roi_tier}.get(why) or ""
        self._served[cid] = (trade.position, tier, REASONS[why])
        self._order_seq += 1
        order = OrderState(
            cid,
            f"paper-{self._order_seq}",
            trade.symbol,
            BUY if trade.short else SELL,
            trade.amount,
            0.0,
            MARKET,
            None,
            OPEN,
            True,
            f"freqtrade {REASONS[why].lower()}",
            self._now or ts,
        )
        self._orders[cid] = self._open[cid] = order
        self._leverage[cid] = trade.leverage
        stamp, self._stamp = self._stamp, ts
        try:
            events = super()._execute(order, price, TAKER)
        finally:
            self._stamp = stamp
        del self._trades[trade.symbol]
        return events

    def _stake_leverage(self, trade: _Trade) -> float:
        """The leverage freqtrade's ratios divide by: the trade's on a stake basis, else 1."""
        return trade.leverage if self.exits.on_stake else 1.0

    def _tick(self, symbol: str) -> float:
        inst = self._instrument(symbol)
        if inst is None:  # orders are vetted against the instruments: an open trade has one
            raise ValueError(f"{symbol}: no instrument on {self.venue.id}")
        return float(inst.tick_size)
