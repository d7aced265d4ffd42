"""The paper broker: an in-memory ``ExchangePort`` for paper mode and dry-run.

It owns no clock and no randomness: time is the ``ts`` of the last snapshot passed to
``observe``, and every id comes from a counter or from its inputs, so the same snapshots and
orders always give the same fills. The fill model (docs/paper-broker.md):

* market orders fill at the NEXT observed price (the first candle's open, else ``price``),
  ``slippage_bps`` worse, taker fee;
* limit orders rest and fill at the limit (or at a better open: freqtrade's gap rule), maker fee;
* funding is settled at the venue's UTC funding times with the rate known at that time;
* an isolated position whose mark or adverse candle extreme crosses its liquidation price is
  closed there, with a taker fee.

Bad requests are answered with a ``rejected`` OrderState and a reason, never an exception.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from decimal import ROUND_FLOOR, Decimal
from typing import Any, NamedTuple, cast

import numpy as np

from adapters.paper.state_schema import STATE_VERSION, first_problem
from engine.common.decimals import to_decimal as _dec
from engine.language.kinds.venues import Exchange, Instrument
from engine.market.snapshot import Candle, Snapshot, SymbolSnapshot
from engine.ports import (
    BUY,
    CANCELLED,
    FILLED,
    LIMIT,
    MARKET,
    OPEN,
    REJECTED,
    SELL,
    Balance,
    Fill,
    FundingPayment,
    OrderRequest,
    OrderState,
    Ticker,
    VenuePosition,
)
from engine.trading.sizing import liquidation_price

MAKER, TAKER, LIQUIDATION = "maker", "taker", "liquidation"
_STEP_TOLERANCE = Decimal("1e-9")  # 0.06999999999999999 BTC is 0.07, not 0.069
_MARGIN_TOLERANCE = 1e-9
#: How long the broker remembers settled orders, fills and funding payments. The fee audit and a
#: resent order look back minutes; the state is written at every commit of a bot that runs for
#: months, so it must not grow with the bot's age. Open orders and positions are always kept.
HISTORY_S = 7 * 86400.0
_PRUNE_EVERY_S = 3600.0  # history is pruned when the broker's clock enters a new hour

Event = Fill | FundingPayment


# ------------------------------------------------------------------ small pure helpers


def _finite(value: Any) -> float | None:
    """A finite float, or None for anything else (bools, strings, NaN, ∞): bad input is not observed."""
    if type(value) is float:  # the common cases first: called for every observed value
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _positive(value: Any) -> float | None:
    if type(value) is float:  # fast paths, as in _finite: NaN and ∞ fail the comparison
        return value if 0.0 < value < math.inf else None
    if value is None:
        return None
    value = _finite(value)
    return value if value is not None and value > 0 else None


def _add(a: float, b: float) -> float:
    """Quantities add in decimal so a closed position is exactly 0, not 1e-17."""
    return float(_dec(a) + _dec(b))


def _sign(quantity: float) -> int:
    return 1 if quantity > 0 else -1 if quantity < 0 else 0


def _base_step(inst: Instrument) -> Decimal:
    return _dec(inst.size_step) * _dec(inst.contract_size)


def round_to_step(quantity: float, inst: Instrument) -> float:
    """Base quantity rounded DOWN to whole size steps (contracts × contract_size)."""
    step = _base_step(inst)
    steps = (_dec(quantity) / step + _STEP_TOLERANCE).to_integral_value(rounding=ROUND_FLOOR)
    return float(steps * step)


def min_base_size(inst: Instrument) -> float:
    return float(_dec(inst.min_size) * _dec(inst.contract_size))


def _valid_candle(c: Any) -> bool:
    return (
        _positive(getattr(c, "open", None)) is not None
        and _positive(getattr(c, "high", None)) is not None
        and _positive(getattr(c, "low", None)) is not None
        and _positive(getattr(c, "close", None)) is not None
        and _finite(getattr(c, "ts", None)) is not None
    )


def _book_top(sym: SymbolSnapshot, side: str) -> float | None:
    levels = getattr(sym.book, side, ()) if sym.book is not None else ()
    return _positive(levels[0][0]) if levels else None


@dataclass(slots=True)
class _Position:
    quantity: float  # signed base units
    entry: float
    leverage: float

    @property
    def direction(self) -> str:
        return "LONG" if self.quantity > 0 else "SHORT"


class _Observed(NamedTuple):
    """What one snapshot says about one symbol, NaNs and non-positive prices removed.
    (A NamedTuple: as immutable as a frozen dataclass, and cheaper to build once per symbol per step.)"""

    price: float | None
    mark: float | None
    bid: float | None
    ask: float | None
    rate: float | None
    rate_ts: float
    candles: tuple[Candle, ...]


def _observe_symbol(sym: SymbolSnapshot, ts: float) -> _Observed:
    values = sym.values
    rate_ts = _finite(sym.times.get("funding_rate")) if sym.times else None
    return _Observed(
        price=_positive(values.get("price")),
        mark=_positive(values.get("mark")),
        bid=_positive(values.get("bid")) or _book_top(sym, "bids"),
        ask=_positive(values.get("ask")) or _book_top(sym, "asks"),
        rate=_finite(values.get("funding_rate")),
        rate_ts=ts if rate_ts is None else rate_ts,
        candles=tuple(c for c in sym.candles if _valid_candle(c)),
    )


class HoldingColumns(NamedTuple):
    """PaperBroker.holding_columns: per row, the equity and the available margin after
    observing it (as ``balance()`` would say), and whether anything would happen there."""

    equity: np.ndarray
    available_margin: np.ndarray
    event: np.ndarray


def _positive_column(column: np.ndarray) -> np.ndarray:
    """_positive for a column: the value where finite and > 0, else NaN."""
    with np.errstate(invalid="ignore"):
        return np.where((column > 0) & np.isfinite(column), column, np.nan)


def _valid_candles(cols: Mapping[str, np.ndarray]) -> np.ndarray:
    """_valid_candle for columns of one candle per row."""
    ok = np.isfinite(cols["candle_ts"])
    for name in ("open", "high", "low", "close"):
        ok &= ~np.isnan(_positive_column(cols[name]))
    return ok


# ------------------------------------------------------------------ the broker


class PaperBroker:
    """Simulated venue implementing ``engine.ports.ExchangePort``, driven by ``observe``."""

    def __init__(self, venue: Exchange, *, starting_balance: float, slippage_bps: float, maintenance_margin_pct: float):
        self.venue = venue
        self.starting_balance = float(starting_balance)
        self.slippage_bps = float(slippage_bps)
        self.maintenance_margin_pct = float(maintenance_margin_pct)
        self._now: float | None = None  # ts of the last observed snapshot
        self._orders: dict[str, OrderState] = {}  # every order accepted or rejected (settled: HISTORY_S)
        # the open ones, in placement order (= their order in _orders): fills and margin read only
        # these each step, and _orders only grows; kept by place_order, _set and from_state
        self._open: dict[str, OrderState] = {}
        self._leverage: dict[str, float] = {}
        self._positions: dict[str, _Position] = {}
        self._realized = self._fees = self._funding = 0.0
        self._fills: list[Fill] = []
        self._payments: list[FundingPayment] = []
        self._quotes: dict[str, dict[str, float | None]] = {}  # last, mark, bid, ask, value, ts
        self._rates: dict[str, list[list[float]]] = {}  # [published_ts, rate], oldest first
        self._order_seq = self._fill_seq = 0

    @classmethod
    def for_plan(cls, plan: Any, venue_id: str | None = None) -> PaperBroker:
        """The broker a compiled profile asks for: its execution venue, paper_broker and risk
        settings, and its fill model (``freqtrade``: adapters/paper/freqtrade.py)."""
        settings = plan.paper_broker
        if settings.get("fill_model", "rulebot") == "freqtrade" and cls is PaperBroker:
            from adapters.paper.freqtrade import FreqtradeBroker

            return FreqtradeBroker.for_plan(plan, venue_id)
        venue = plan.venues.exchange(venue_id or plan.venues.execution_venue)
        return cls(
            venue,
            starting_balance=settings.get("starting_balance_usd", 10_000.0),
            slippage_bps=settings.get("slippage_bps", 0.0),
            maintenance_margin_pct=plan.risk.liquidation.maintenance_margin_pct,
        )

    # -------------------------------------------------------------- ExchangePort: reads

    def ticker(self, symbol: str) -> Ticker:
        """Last observed quote; a symbol never observed has ``last=nan`` and ``ts=0``."""
        q = self._quotes.get(symbol)
        if q is None:
            return Ticker(symbol, math.nan, None, None, None, 0.0)
        ts = cast(float, q["ts"])  # every stored quote has its ts: _update_quote sets it, the state schema requires it
        return Ticker(symbol, q["last"] if q["last"] is not None else math.nan, q["mark"], q["bid"], q["ask"], ts)

    def open_orders(self) -> Sequence[OrderState]:
        return list(self._open.values())

    def order(self, client_order_id: str) -> OrderState | None:
        """The current state of one order (None if this venue never saw the id)."""
        return self._orders.get(client_order_id)

    def positions(self) -> Sequence[VenuePosition]:
        return [
            VenuePosition(symbol, p.quantity, p.entry, p.leverage, self._liquidation_price(p))
            for symbol, p in sorted(self._positions.items())
        ]

    def balance(self) -> Balance:
        cash = self.cash
        # sorted: a float sum must not depend on the order positions were opened or restored in
        positions = sorted(self._positions.items())
        unrealized = sum(p.quantity * (self._value(s, p.entry) - p.entry) for s, p in positions)
        used = self._used_margin()
        equity = cash + unrealized
        return Balance(cash=cash, equity=equity, available_margin=equity - used - self._reserved())

    def fills_since(self, ts: float) -> Sequence[Fill]:
        """Fills with ``fill.ts >= ts`` (inclusive: callers dedupe by ``fill_id``)."""
        return [f for f in self._fills if f.ts >= ts]

    def funding_since(self, ts: float) -> Sequence[FundingPayment]:
        """Funding payments with ``payment.ts >= ts`` (inclusive: callers dedupe by ``payment_id``)."""
        return [p for p in self._payments if p.ts >= ts]

    @property
    def cash(self) -> float:
        return self.starting_balance + self._realized - self._fees + self._funding

    @property
    def realized_pnl(self) -> float:
        return self._realized

    @property
    def fees_paid(self) -> float:
        return self._fees

    @property
    def funding_received(self) -> float:
        return self._funding

    # -------------------------------------------------------------- ExchangePort: orders

    def place_order(self, request: OrderRequest) -> OrderState:
        """Accept (status open) or reject with a reason; a known client id returns its order unchanged."""
        cid = getattr(request, "client_order_id", None)
        if isinstance(cid, str) and cid in self._orders:
            return self._orders[cid]
        reason, quantity, note = self._vet(request)
        if reason or not isinstance(cid, str):  # _vet gives a reason for any cid but a non-empty str
            return self._reject(request, reason)
        self._order_seq += 1
        order = OrderState(
            cid,
            f"paper-{self._order_seq}",
            request.symbol,
            request.side,
            quantity,
            0.0,
            request.order_type,
            # _vet gives a reason for a limit order without a positive limit_price
            float(request.limit_price) if request.order_type == LIMIT and request.limit_price is not None else None,
            OPEN,
            bool(request.reduce_only),
            note,
            self._now or 0.0,
        )
        self._orders[cid] = self._open[cid] = order
        self._leverage[cid] = float(request.leverage)
        return order

    def cancel_order(self, client_order_id: str) -> OrderState:
        """Cancel an open order; a finished order is returned as it is; an unknown id is answered rejected."""
        order = self._orders.get(client_order_id) if isinstance(client_order_id, str) else None
        if order is None:
            return OrderState(
                str(client_order_id),
                "",
                "",
                "",
                0.0,
                0.0,
                "",
                None,
                REJECTED,
                False,
                "unknown client_order_id",
                self._now or 0.0,
            )
        if order.status != OPEN:
            return order
        return self._set(order, status=CANCELLED, reason="cancelled by client")

    # -------------------------------------------------------------- driving the simulation

    def observe(self, snapshot: Snapshot) -> list[Event]:
        """Advance to ``snapshot.ts``: fill, settle funding, liquidate; return what happened in order.

        A snapshot not later than the last observed one is ignored (returns []).
        """
        ts = _finite(getattr(snapshot, "ts", None))
        if ts is None or (self._now is not None and ts <= self._now):
            return []
        previous, self._now = self._now, ts
        seen = {s: _observe_symbol(sym, ts) for s, sym in snapshot.symbols.items() if s in self.venue.symbols}
        for symbol, obs in seen.items():
            self._record_rate(symbol, obs)
        events: list[Event] = []
        for when, kind, symbol, index in self._timeline(previous, ts, seen):
            if kind == 0:
                events += self._settle_funding(when)
            else:
                events += self._on_candle(symbol, seen[symbol].candles[index], index == 0)
        for symbol, obs in seen.items():
            events += self._on_snapshot_price(symbol, obs)
            self._update_quote(symbol, obs, ts)
        self._prune_rates(ts)
        if previous is not None and previous // _PRUNE_EVERY_S != ts // _PRUNE_EVERY_S:
            self._prune_history(ts - HISTORY_S)
        return events

    def _timeline(self, previous: float | None, ts: float, seen: Mapping[str, _Observed]) -> list[tuple]:
        """Funding times in (previous, ts] and candles, by time; a funding time precedes a candle opening then."""
        items: list[tuple] = [
            (float(c.ts), 1, symbol, i) for symbol, obs in seen.items() for i, c in enumerate(obs.candles)
        ]
        interval = _positive(self.venue.funding_interval_s)
        if previous is not None and interval is not None:
            k = math.floor(previous / interval) + 1
            while k * interval <= ts:
                items.append((k * interval, 0, "", 0))
                k += 1
        return sorted(items)

    def _on_candle(self, symbol: str, candle: Candle, first: bool) -> list[Event]:
        """Market orders at the first open, then liquidation (adverse extreme first), then limits."""
        events = self._fill_market_orders(symbol, candle.open) if first else []
        events += self._liquidate_if_crossed(symbol, candle.low, candle.high)
        events += self._fill_limit_orders(symbol, candle.open, candle.high, candle.low)
        return events

    def _on_snapshot_price(self, symbol: str, obs: _Observed) -> list[Event]:
        """Without candles ``price`` is a one-point candle; the mark (else price) is checked for liquidation."""
        events: list[Event] = []
        if not obs.candles and obs.price is not None:
            events += self._fill_market_orders(symbol, obs.price)
        mark = obs.mark or obs.price
        if mark is not None:
            events += self._liquidate_if_crossed(symbol, mark, mark)
        if not obs.candles and obs.price is not None:
            events += self._fill_limit_orders(symbol, obs.price, obs.price, obs.price)
        return events

    # -------------------------------------------------------------- column form (dry-run fast path)

    def holding_columns(self, ts: np.ndarray, rows: Mapping[str, Mapping[str, np.ndarray]]) -> HoldingColumns | None:
        """What observing each of ``ts`` (later snapshots, in order; ``rows``: symbol → column
        of each snapshot field, NaN where absent) would do to this broker, as columns: the
        equity after each, and whether anything would happen there (a liquidation, or a
        funding time that settles a payment). Exact only while no order is open, so None then.
        The dry-run fast path steps the runner at the first such row and skips the quiet ones
        before it, showing the broker only the last of them (engine/replay/holding.py);
        tests/dryrun/test_fast_path.py proves that equal to observing every one."""
        if self._open:
            return None
        n = len(ts)
        event = np.zeros(n, dtype=bool)
        unrealized = np.zeros(n)
        for symbol, pos in sorted(self._positions.items()):  # balance()'s order: the same float sum
            cols = rows.get(symbol)
            if cols is None:
                return None
            candles = _valid_candles(cols)
            value = self._value_column(symbol, cols, candles, pos.entry)
            unrealized = unrealized + pos.quantity * (value - pos.entry)
            event |= self._liquidation_rows(pos, cols, candles)
            if self._rates.get(symbol) or np.isfinite(cols["funding_rate"]).any():
                event |= self._funding_rows(ts)
        equity = self.cash + unrealized
        return HoldingColumns(equity, equity - self._used_margin() - self._reserved(), event)

    def _value_column(
        self, symbol: str, cols: Mapping[str, np.ndarray], candles: np.ndarray, default: float
    ) -> np.ndarray:
        """_update_quote's valuation price after each row: its mark, else its price (else
        its candle's close, where ``candles`` says it is valid), else the one before."""
        mark, price = _positive_column(cols["mark"]), _positive_column(cols["price"])
        last = np.where(np.isnan(price), np.where(candles, cols["close"], np.nan), price)
        value = np.where(np.isnan(mark), last, mark)
        current = self._value(symbol, default)
        filled = np.where(np.isnan(value), -1, np.arange(len(value)))
        np.maximum.accumulate(filled, out=filled)
        return np.where(filled < 0, current, value[np.maximum(filled, 0)])

    def _liquidation_rows(self, pos: _Position, cols: Mapping[str, np.ndarray], candles: np.ndarray) -> np.ndarray:
        """Rows whose candle (adverse extreme) or mark (else price) reaches the liquidation price."""
        liq = self._liquidation_price(pos)
        mark = _positive_column(cols["mark"])
        mark = np.where(np.isnan(mark), _positive_column(cols["price"]), mark)
        with np.errstate(invalid="ignore"):
            if pos.quantity > 0:
                by_candle, by_mark = cols["low"] <= liq, mark <= liq
            else:
                by_candle, by_mark = cols["high"] >= liq, mark >= liq
        return (candles & by_candle) | (~np.isnan(mark) & by_mark)

    def _funding_rows(self, ts: np.ndarray) -> np.ndarray:
        """Rows whose interval since the row before (the first: since the last observed
        snapshot) holds a funding time, as _timeline finds them."""
        interval = _positive(self.venue.funding_interval_s)
        if interval is None or self._now is None:
            return np.zeros(len(ts), dtype=bool)
        previous = np.concatenate(([self._now], ts[:-1]))
        return (np.floor(previous / interval) + 1) * interval <= ts

    # -------------------------------------------------------------- fills

    def _open_orders_for(self, symbol: str, order_type: str) -> list[str]:
        return [cid for cid, o in self._open.items() if o.symbol == symbol and o.order_type == order_type]

    def _fill_market_orders(self, symbol: str, reference: float) -> list[Event]:
        events: list[Event] = []
        slip = self.slippage_bps / 10_000
        for cid in self._open_orders_for(symbol, MARKET):
            order = self._orders[cid]
            if order.status != OPEN:  # cancelled by an earlier fill in this loop
                continue
            price = reference * (1 + slip) if order.side == BUY else reference * (1 - slip)
            events += self._execute(order, price, TAKER)
        return events

    def _fill_limit_orders(self, symbol: str, open_: float, high: float, low: float) -> list[Event]:
        events: list[Event] = []
        for cid in self._open_orders_for(symbol, LIMIT):
            order = self._orders[cid]
            limit = order.limit_price
            # cancelled by an earlier fill in this loop; a limit order always has its price (_vet, the state schema)
            if order.status != OPEN or limit is None:
                continue
            price = _limit_fill_price(order.side, limit, open_, high, low)
            if price is not None:
                events += self._execute(order, price, MAKER)
        return events

    def _execute(self, order: OrderState, price: float, liquidity: str) -> list[Event]:
        """Fill ``order`` whole at ``price`` (a reduce-only order only up to the position left)."""
        quantity = order.quantity
        if order.reduce_only:
            quantity = min(quantity, self._reducible(order.symbol, order.side))
            if quantity <= 0:
                self._set(order, status=CANCELLED, reason="reduce-only: no position left to reduce")
                return []
        fee_pct = self.venue.maker_fee_pct if liquidity == MAKER else self.venue.taker_fee_pct
        fill = self._record_fill(
            order.client_order_id,
            order.symbol,
            order.side,
            quantity,
            price,
            quantity * price * fee_pct / 100,
            liquidity,
        )
        self._apply(order.symbol, order.side, quantity, price, self._leverage[order.client_order_id])
        note = order.reason or ("clipped to the position" if quantity < order.quantity else "")
        self._set(order, status=FILLED, filled_quantity=quantity, reason=note)
        self._cancel_stale_reduce_only(order.symbol)
        return [fill]

    def _record_fill(
        self, cid: str, symbol: str, side: str, quantity: float, price: float, fee: float, liquidity: str
    ) -> Fill:
        self._fill_seq += 1
        fill = Fill(
            f"paper-fill-{self._fill_seq}", cid, symbol, side, quantity, price, fee, liquidity, self._now or 0.0
        )
        self._fees += fee
        self._fills.append(fill)
        return fill

    def _apply(self, symbol: str, side: str, quantity: float, price: float, leverage: float) -> None:
        """Net the fill into the one-way position: add (average entry), reduce (realise P&L) or flip."""
        signed = quantity if side == BUY else -quantity
        pos = self._positions.get(symbol)
        if pos is None or _sign(pos.quantity) == _sign(signed):
            held = abs(pos.quantity) if pos else 0.0
            entry = (held * pos.entry + quantity * price) / (held + quantity) if pos else price
            self._positions[symbol] = _Position(_add(pos.quantity if pos else 0.0, signed), entry, leverage)
            return
        closing = min(quantity, abs(pos.quantity))
        self._realized += closing * (price - pos.entry) * _sign(pos.quantity)
        remaining = _add(pos.quantity, signed)
        if remaining == 0:
            del self._positions[symbol]
        elif _sign(remaining) == _sign(pos.quantity):
            pos.quantity = remaining
        else:
            self._positions[symbol] = _Position(remaining, price, leverage)

    def _reducible(self, symbol: str, side: str) -> float:
        """How much of the position an order on ``side`` can reduce (0 when it would not reduce)."""
        pos = self._positions.get(symbol)
        if pos is None or _sign(pos.quantity) == (1 if side == BUY else -1):
            return 0.0
        return abs(pos.quantity)

    def _cancel_stale_reduce_only(self, symbol: str) -> None:
        """A reduce-only order cannot outlive the position it reduces (flat or flipped)."""
        for order in list(self._open.values()):
            if order.reduce_only and order.symbol == symbol and self._reducible(symbol, order.side) == 0:
                self._set(order, status=CANCELLED, reason="reduce-only: no position left to reduce")

    # -------------------------------------------------------------- liquidation

    def _liquidation_price(self, pos: _Position) -> float:
        return liquidation_price(pos.direction, pos.entry, pos.leverage, self.maintenance_margin_pct)

    def _liquidate_if_crossed(self, symbol: str, low: float, high: float) -> list[Event]:
        """Close an isolated position at its liquidation price when the adverse extreme reaches it."""
        pos = self._positions.get(symbol)
        if pos is None:
            return []
        liq = self._liquidation_price(pos)
        if (low > liq) if pos.quantity > 0 else (high < liq):
            return []
        side, quantity = (SELL if pos.quantity > 0 else BUY), abs(pos.quantity)
        fill = self._record_fill(
            f"liquidation-{symbol}-{self._fill_seq + 1}",
            symbol,
            side,
            quantity,
            liq,
            quantity * liq * self.venue.taker_fee_pct / 100,
            LIQUIDATION,
        )
        self._apply(symbol, side, quantity, liq, pos.leverage)
        self._cancel_stale_reduce_only(symbol)
        return [fill]

    # -------------------------------------------------------------- funding

    def _record_rate(self, symbol: str, obs: _Observed) -> None:
        if obs.rate is None:
            return
        history = self._rates.setdefault(symbol, [])
        history.append([obs.rate_ts, obs.rate])
        history.sort(key=lambda entry: entry[0])  # stable: the later observation wins a tie

    def _rate_at(self, symbol: str, when: float) -> float | None:
        """The latest rate published at or before ``when``: no lookahead."""
        known = [rate for published, rate in self._rates.get(symbol, ()) if published <= when]
        return known[-1] if known else None

    def _prune_history(self, horizon: float) -> None:
        """Forget fills, funding payments and settled orders from before ``horizon`` (a function
        of the clock alone: a resumed broker forgets exactly what an uninterrupted one does)."""
        if self._fills and self._fills[0].ts < horizon:
            self._fills = [f for f in self._fills if f.ts >= horizon]
        if self._payments and self._payments[0].ts < horizon:
            self._payments = [p for p in self._payments if p.ts >= horizon]
        for cid in [c for c, o in self._orders.items() if o.status != OPEN and o.created_at < horizon]:
            del self._orders[cid]
            self._leverage.pop(cid, None)

    def _prune_rates(self, now: float) -> None:
        """Keep the last rate published by ``now`` and any published later; older ones can never be used."""
        for symbol, history in self._rates.items():
            past = [e for e in history if e[0] <= now]
            self._rates[symbol] = past[-1:] + [e for e in history if e[0] > now]

    def _settle_funding(self, when: float) -> list[Event]:
        """Each open position pays quantity × mark × rate (positive rate: longs pay, shorts receive)."""
        events: list[Event] = []
        for symbol, pos in sorted(self._positions.items()):  # same order fresh or restored
            rate = self._rate_at(symbol, when)
            if rate is None:
                continue
            mark = self._value(symbol, pos.entry)
            amount = 0.0 - pos.quantity * mark * rate
            payment = FundingPayment(f"{self.venue.id}-funding-{symbol}-{when:.0f}", symbol, rate, amount, when)
            self._funding += amount
            self._payments.append(payment)
            events.append(payment)
        return events

    # -------------------------------------------------------------- quotes and margin

    def _update_quote(self, symbol: str, obs: _Observed, ts: float) -> None:
        """Keep each quote field's last valid value; ``ts`` moves only when a price was observed."""
        last = obs.price or (obs.candles[-1].close if obs.candles else None)
        if not (last or obs.mark or obs.bid or obs.ask):
            return
        old = self._quotes.get(symbol, {"last": None, "mark": None, "bid": None, "ask": None, "value": None})
        self._quotes[symbol] = {
            "last": last or old["last"],
            "mark": obs.mark or old["mark"],
            "bid": obs.bid or old["bid"],
            "ask": obs.ask or old["ask"],
            "value": obs.mark or last or old["value"],
            "ts": ts,
        }

    def _value(self, symbol: str, default: float) -> float:
        """Valuation price: the latest snapshot's mark, else its price (else ``default``)."""
        q = self._quotes.get(symbol)
        return q["value"] if q and q["value"] is not None else default

    def _used_margin(self) -> float:
        """Margin the open positions hold, summed in symbol order (a float sum must not depend
        on the order positions were opened or restored in)."""
        return sum(abs(p.quantity) * p.entry / p.leverage for _, p in sorted(self._positions.items()))

    def _reserved(self) -> float:
        """Margin held for open orders that could open exposure (reduce-only orders hold none)."""
        total = 0.0
        for cid, order in self._open.items():
            if not order.reduce_only:
                reference = order.limit_price or self._value(order.symbol, 0.0)
                total += order.quantity * reference / self._leverage[cid]
        return total

    # -------------------------------------------------------------- vetting requests

    def _instrument(self, symbol: Any) -> Instrument | None:
        venue_symbol = self.venue.symbols.get(symbol) if isinstance(symbol, str) else None
        return self.venue.instruments.get(venue_symbol) if venue_symbol else None

    def _vet(self, r: Any) -> tuple[str, float, str]:
        """(reason to reject or "", quantity after rounding and clipping, note for the order)."""
        cid = getattr(r, "client_order_id", None)
        inst = self._instrument(getattr(r, "symbol", None))
        side, kind = getattr(r, "side", None), getattr(r, "order_type", None)
        quantity, leverage = _positive(getattr(r, "quantity", None)), _finite(getattr(r, "leverage", None))
        if not isinstance(cid, str) or not cid:
            return "client_order_id must be a non-empty string", 0.0, ""
        if inst is None:
            return f"unknown symbol {getattr(r, 'symbol', None)!r} on {self.venue.id}", 0.0, ""
        if side not in (BUY, SELL):
            return f"side must be buy or sell, not {side!r}", 0.0, ""
        if kind not in (MARKET, LIMIT):
            return f"order_type must be market or limit, not {kind!r}", 0.0, ""
        if quantity is None:
            return "quantity must be a positive number", 0.0, ""
        if kind == LIMIT and _positive(getattr(r, "limit_price", None)) is None:
            return "a limit order needs a positive limit_price", 0.0, ""
        if leverage is None or not 1 <= leverage <= inst.max_leverage:
            return f"leverage must be from 1 to {inst.max_leverage:g}", 0.0, ""
        return self._vet_size(r, inst, quantity, leverage)

    def _vet_size(self, r: OrderRequest, inst: Instrument, quantity: float, leverage: float) -> tuple[str, float, str]:
        note, whole = "", 0.0
        if r.reduce_only:
            whole = self._reducible(r.symbol, r.side)
            if whole == 0:
                return "reduce-only order but no position to reduce", 0.0, ""
            if quantity > whole:
                quantity, note = whole, f"clipped to the position ({quantity:g} requested)"
        rounded = round_to_step(quantity, inst)
        if rounded < min_base_size(inst) and not (r.reduce_only and rounded == whole):
            return (
                (
                    f"quantity {quantity:g} is below the minimum size {min_base_size(inst):g} "
                    f"(step {float(_base_step(inst)):g})"
                ),
                0.0,
                "",
            )
        if not r.reduce_only:
            problem = self._margin_problem(r, rounded, leverage)
            if problem:
                return problem, 0.0, ""
        return "", rounded, note

    def _margin_problem(self, r: OrderRequest, quantity: float, leverage: float) -> str:
        """Opening exposure must fit the available margin (priced at the limit, else the last value)."""
        # _vet gives a reason for a limit order without a positive limit_price
        reference = (
            float(r.limit_price) if r.order_type == LIMIT and r.limit_price is not None else self._value(r.symbol, 0.0)
        )
        opening = max(0.0, quantity - self._reducible(r.symbol, r.side))
        needed = opening * reference / leverage
        available = self.balance().available_margin
        if needed > available + _MARGIN_TOLERANCE:
            return f"insufficient margin: needs {needed:.2f}, available {available:.2f}"
        return ""

    def _reject(self, r: Any, reason: str) -> OrderState:
        limit = _finite(getattr(r, "limit_price", None))
        state = OrderState(
            str(getattr(r, "client_order_id", "")),
            "",
            str(getattr(r, "symbol", "")),
            str(getattr(r, "side", "")),
            _finite(getattr(r, "quantity", None)) or 0.0,
            0.0,
            str(getattr(r, "order_type", "")),
            limit,
            REJECTED,
            bool(getattr(r, "reduce_only", False)),
            reason,
            self._now or 0.0,
        )
        if state.client_order_id and isinstance(getattr(r, "client_order_id", None), str):
            self._orders[state.client_order_id] = state
            self._leverage[state.client_order_id] = _finite(getattr(r, "leverage", None)) or 1.0
        return state

    def _set(self, order: OrderState, **changes: Any) -> OrderState:
        """Every change of a placed order goes through here, so the open-order index stays current."""
        updated = replace(order, **changes)
        cid = order.client_order_id
        self._orders[cid] = updated
        if updated.status == OPEN:
            self._open[cid] = updated
        else:
            self._open.pop(cid, None)
        return updated

    # -------------------------------------------------------------- persistence

    def state(self) -> dict:
        """Everything needed to resume: a JSON-serialisable dict (floats round-trip exactly)."""
        return {
            "version": STATE_VERSION,
            "venue": self.venue.id,
            "settings": {
                "starting_balance": self.starting_balance,
                "slippage_bps": self.slippage_bps,
                "maintenance_margin_pct": self.maintenance_margin_pct,
            },
            "now": self._now,
            "order_seq": self._order_seq,
            "fill_seq": self._fill_seq,
            "realized": self._realized,
            "fees": self._fees,
            "funding": self._funding,
            "orders": [dict(asdict(o), leverage=self._leverage[cid]) for cid, o in self._orders.items()],
            "positions": {s: [p.quantity, p.entry, p.leverage] for s, p in self._positions.items()},
            "fills": [asdict(f) for f in self._fills],
            "payments": [asdict(p) for p in self._payments],
            "quotes": {s: dict(q) for s, q in self._quotes.items()},
            "rates": {s: [list(e) for e in h] for s, h in self._rates.items()},
        }

    @classmethod
    def from_state(cls, venue: Exchange, state: Mapping[str, Any]) -> PaperBroker:
        """A broker that continues exactly where ``state()`` left off (ValueError for another venue/version)."""
        if not isinstance(state, Mapping):
            raise ValueError(f"the paper-broker state must be an object, found {type(state).__name__}")
        if state.get("version") != STATE_VERSION or state.get("venue") != venue.id:
            raise ValueError(
                f"paper-broker state v{state.get('version')} for {state.get('venue')!r} cannot "
                f"resume v{STATE_VERSION} on {venue.id!r}"
            )
        check_state(venue, state)
        broker = cls(venue, **state["settings"])
        broker._now, broker._order_seq, broker._fill_seq = state["now"], state["order_seq"], state["fill_seq"]
        broker._realized, broker._fees, broker._funding = state["realized"], state["fees"], state["funding"]
        for raw in state["orders"]:
            fields = dict(raw)
            broker._leverage[fields["client_order_id"]] = fields.pop("leverage")
            broker._orders[fields["client_order_id"]] = OrderState(**fields)
        broker._open = {cid: o for cid, o in broker._orders.items() if o.status == OPEN}
        broker._positions = {s: _Position(*p) for s, p in state["positions"].items()}
        broker._fills = [Fill(**f) for f in state["fills"]]
        broker._payments = [FundingPayment(**p) for p in state["payments"]]
        broker._quotes = {s: dict(q) for s, q in state["quotes"].items()}
        broker._rates = {s: [list(e) for e in h] for s, h in state["rates"].items()}
        return broker


# ------------------------------------------------------------------ checking a saved state


def _need(ok: bool, where: str, what: str, value: Any) -> None:
    if not ok:
        raise ValueError(f"{where} must be {what}, found {value!r}"[:200])


def check_state(venue: Exchange, state: Mapping[str, Any]) -> None:
    """ValueError naming the first field of a saved broker state that this broker could not
    continue from exactly. The shape (keys, types, finite numbers, ranges) is the JSON Schema
    in ``state_schema``; what depends on the venue or on two fields together is checked here.
    Checked before anything is restored, so a bad state is refused whole (RB804)."""
    problem = first_problem(state)
    if problem is not None:
        raise ValueError(problem)
    for i, order in enumerate(state["orders"]):
        if order["status"] != REJECTED:  # a rejected request is kept as it came: nothing acts on it
            _check_standing_order(venue, order, f"orders[{i}]")
    for symbol in state["positions"]:
        _need(symbol in venue.symbols, f"positions.{symbol}", f"a position in a symbol {venue.id} trades", symbol)


def _check_standing_order(venue: Exchange, order: Mapping[str, Any], where: str) -> None:
    """An accepted order is in a symbol the venue trades and never filled beyond its quantity."""
    _need(order["symbol"] in venue.symbols, f"{where}.symbol", f"a symbol {venue.id} trades", order["symbol"])
    _need(
        order["filled_quantity"] <= order["quantity"] * (1 + 1e-9),
        f"{where}.filled_quantity",
        "between 0 and the quantity",
        order["filled_quantity"],
    )


def _limit_fill_price(side: str, limit: float, open_: float, high: float, low: float) -> float | None:
    """Limit price when the candle reaches it; the open when the candle opens beyond it (freqtrade)."""
    if side == BUY:
        return open_ if open_ <= limit else limit if low <= limit else None
    return open_ if open_ >= limit else limit if high >= limit else None
