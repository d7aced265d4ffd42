"""The trading loop for one plan: one ``step`` per snapshot, the same in paper mode and in
dry-run (and, once an exchange adapter exists, live).

A step: the market-data sanity layer removes what it refuses from the snapshot
(engine/market/sanity.py) → the broker reports what happened since the last snapshot
(fills, funding, liquidations) → positions and trades are updated → the signal features advance → every
open position is checked against the exit ladder → every symbol is checked for an entry →
orders go to the broker → everything the step changed is committed in ONE transaction,
with the broker's and the runner's own state and the snapshot time as the cursor. A crash
at any instant therefore leaves the state of the previous step, and re-running the step
from there gives the same result (everything is deterministic; ids are derived, not random).

The runner receives its adapters (broker, state store, log sinks): engine code never
imports ``adapters``; the CLI wires them. A simulated broker's state is committed with each
step (blob "broker"); whoever builds the runner restores the broker from it first.

Log records and post-trade hook runs follow from the step's changes, so they go into its
transaction: the hook runs as rows, the records (with a store that has an outbox, as in
``rulebot paper``) as outbox rows the store delivers to the logs exactly once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from types import MappingProxyType
from typing import Any, cast

from engine.bot import states
from engine.common.errors import ResumeError
from engine.learners.resolution import Resolver, grace, outcome_line, price_of, prices_of, signal_of
from engine.market.sanity import MarketScreen, Screened
from engine.market.snapshot import Snapshot
from engine.ports import MARKET, OrderRequest, OrderState, Transition
from engine.trading import lifecycle
from engine.trading.entry import OrderIntent
from engine.trading.exits import evaluate_exits, protective
from engine.trading.pipeline import Carry, EntryPipeline, carry_from
from engine.trading.portfolio import AccountStats, Portfolio, Position, TradeStats
from engine.trading.posttrade import PostTrade

CURSOR = "snapshot_ts"
LOGS = ("signals", "universe", "exits", "trades", "post_trade", "market", "outcomes")  # the runner's logs, by sink name
_OBJECTS = frozenset({"signals", "universe"})  # sinks handed objects (``as_dict()`` logs them)

logger = logging.getLogger(__name__)


def _noop(record: dict) -> None:
    return None


@dataclass
class Sinks:
    """Where records go without an outbox (lists in tests; ``rulebot paper``'s store takes them
    in its outbox instead, for its JSON-lines logs). ``signals`` gets each
    SignalRecord and ``universe`` each EntryDecision as objects (call ``as_dict()`` to log
    them); the others get JSON-ready dicts."""

    signals: Callable[[Any], None] = _noop
    universe: Callable[[Any], None] = _noop
    exits: Callable[[dict], None] = _noop
    trades: Callable[[dict], None] = _noop
    post_trade: Callable[[dict], None] = _noop
    market: Callable[[dict], None] = _noop  # refused market values and data-driven state changes
    outcomes: Callable[[dict], None] = _noop  # each signal resolved at its last horizon (a store keeping signals)


@dataclass
class Pending:
    """Why an order was sent, so its fills can be applied when they come back."""

    kind: str  # entry | exit
    position_id: str
    reason: str = ""
    tier: str = ""
    rungs: tuple = ()
    intent: dict | None = None  # entry: OrderIntent as a dict
    context: dict = field(default_factory=dict)  # entry: conviction, confidence, alignment, trend, attribution


@dataclass
class StepResult:
    ts: float
    screened: Screened  # what the sanity layer refused, and the snapshot the step used
    fills: int = 0
    trades: list = field(default_factory=list)
    entries: list = field(default_factory=list)
    exits: list = field(default_factory=list)


class Runner:
    def __init__(
        self,
        plan,
        broker,
        store,
        *,
        sinks: Sinks | None = None,
        full_trail: bool = True,
        signals=None,
        correlation=None,
        screen=None,
    ):
        """``screen`` replaces the sanity layer where a column form has proven it refuses nothing
        (the dry-run fast path, engine/replay/columns/sanity.py)."""
        self.plan, self.broker, self.store = plan, broker, store
        self.full_trail = full_trail
        self.screen = screen or MarketScreen.for_plan(plan)
        self.outputs = sinks or Sinks()
        # a store with an outbox takes every log record in the step's transaction and delivers it
        # exactly once; otherwise the records go to the sinks after the commit (tests, dry-run)
        self._outbox = bool(getattr(store, "outbox", False))
        self._buffer: list[tuple[str, Any]] = []
        self.sinks = Sinks(**{name: self._buffered(name) for name in LOGS})
        self.pipeline = EntryPipeline(
            plan, universe_sink=self.sinks.universe, full_trail=full_trail, signals=signals, correlation=correlation
        )
        # without a neutral trail and with nobody logging signal records, a symbol whose vote
        # is known to be NEUTRAL has nothing to decide (its decision would be dropped)
        # a store that keeps signals resolves every one of them (engine/learners/resolution.py): the
        # step's new signals and resolutions are committed with it; an in-memory store does not
        self._keeps_signals = bool(getattr(store, "keeps_signals", False))
        self._skip_known_neutral = (
            not full_trail and not self._outbox and self.outputs.signals is _noop and not self._keeps_signals
        )
        self.post_trade = PostTrade(plan)
        self.pending: dict[str, Pending] = {}
        self._liquidations: set[str] = set()  # client ids of the venue's liquidation fills
        # the trading states an operator or a task holds (engine/bot/states.py), set by the bot's loop
        self.held: tuple[states.Claim, ...] = ()
        self.positions = {p.id: p for p in store.open_positions()}
        self.cursor = store.cursor(CURSOR)
        self.resolver = self._resolver(plan)
        self._restore_blobs()
        if self.cursor is not None:
            logger.info(
                "resuming after the step at %s: %d open position(s), %d pending order(s)",
                self.cursor,
                len(self.positions),
                len(self.pending),
            )

    def _buffered(self, name: str) -> Callable[[Any], None]:
        """Log records wait for the step's commit (in it, with an outbox), so a crash never
        logs a step twice; a sink nobody listens to costs nothing."""
        if not self._outbox and getattr(self.outputs, name) is _noop:
            return _noop
        return lambda record: self._buffer.append((name, record))

    def _records(self) -> tuple[tuple[str, dict], ...]:
        """The step's records for the outbox, JSON-ready (signals and decisions are objects)."""
        if not self._outbox:
            return ()
        buffered, self._buffer = self._buffer, []
        memo: dict[int, dict] = {}
        return tuple((name, self._as_dict(name, record, memo)) for name, record in buffered)

    @staticmethod
    def _as_dict(name: str, record: Any, memo: dict[int, dict]) -> Any:
        """A record as JSON-ready data; a signal record is logged on its own and inside its
        entry decision, so its dict is built once per step (``memo``: id → dict, the objects
        alive in the step's buffer)."""
        if name not in _OBJECTS:
            return record
        if name == "signals":
            made = memo.get(id(record))
            if made is None:
                made = memo[id(record)] = record.as_dict()
            return made
        signal = memo.get(id(record.signal))
        if signal is None:
            signal = memo[id(record.signal)] = record.signal.as_dict()
        return record.as_dict(signal)

    def _flush(self) -> None:
        buffered, self._buffer = self._buffer, []
        for name, record in buffered:
            getattr(self.outputs, name)(record)

    # ------------------------------------------------------------------ restart

    def _restore_blobs(self) -> None:
        pending = self.store.blob("pending")
        if pending:
            try:
                self.pending = {k: Pending(**{**v, "rungs": tuple(v["rungs"])}) for k, v in json.loads(pending).items()}
            except (AttributeError, KeyError, TypeError, ValueError) as error:
                raise ResumeError(
                    f"the saved pending orders cannot be resumed ({type(error).__name__}: {error})"
                ) from None
        for trade in self.store.trades():  # ledgers are derived: rebuilt from the trades
            self.post_trade.run(trade)

    def _resolver(self, plan) -> Resolver | None:
        """The signals waiting for their horizons: after a restart (or a reload that changed the
        horizons) those the store holds without an outcome at some horizon, which are the ones
        a run that never stopped would be waiting on."""
        if not self._keeps_signals:
            return None
        horizons = plan.learning.signal_resolution_horizons
        if self.cursor is None:
            return Resolver(horizons)
        since = self.cursor - max(h + grace(h) for h in horizons) - 1.0  # every signal still in a grace
        return Resolver(horizons, self.store.pending_signals(since))

    def warm(self, snapshot) -> Screened:
        """Replay a snapshot the state already contains: advance the sanity layer and the
        features (both derived state, rebuilt this way after a restart), trade nothing."""
        screened = self.screen.screen(snapshot)
        self.pipeline.update(screened.snapshot)
        return screened

    # ------------------------------------------------------------------ one step

    def fresh_pipeline(self, plan) -> tuple[EntryPipeline, MarketScreen]:
        """A new entry pipeline and sanity layer for ``plan``, writing to this runner's sinks,
        for a hot reload to warm (away from the loop) before ``adopt``."""
        pipeline = EntryPipeline(plan, universe_sink=self.sinks.universe, full_trail=self.full_trail)
        return pipeline, MarketScreen.for_plan(plan)

    def reload_pipeline(self, plan, recent: Iterable[Any]) -> tuple[EntryPipeline, MarketScreen, Carry]:
        """For a hot reload to ``plan`` (the bot's, or a walk-forward's learned version): a fresh
        pipeline and sanity layer, warmed on the ``recent`` snapshots in the parts it cannot
        carry over from the live pipeline, and what it will carry (``adopt_reloaded``)."""
        pipeline, screen = self.fresh_pipeline(plan)
        carry = carry_from(self.plan, plan)
        pipeline.expect_carry(carry)
        if carry.warms(plan):
            for snapshot in recent:
                pipeline.update(screen.screen(snapshot).snapshot)
        return pipeline, screen, carry

    def adopt_reloaded(
        self, plan, pipeline: EntryPipeline, screen: MarketScreen, carry: Carry, missed: Iterable[Any] = ()
    ) -> None:
        """Trade ``plan`` from the next step with the pipeline ``reload_pipeline`` made: warmed
        on what the live one took meanwhile (``missed``), then given what it carries over."""
        if carry.warms(plan):
            for snapshot in missed:
                pipeline.update(screen.screen(snapshot).snapshot)
        pipeline.carry_over(self.pipeline, carry)
        self.adopt(plan, pipeline, self.screen if carry.screen else screen)

    def adopt(self, plan, pipeline: EntryPipeline, screen: MarketScreen) -> None:
        """Trade ``plan`` from the next step on (a hot reload, between steps): its warmed
        pipeline and sanity layer replace the old ones, the post-trade ledgers are rebuilt from
        the stored trades under the new rules; positions, pending orders and the broker stay,
        and the new exit ladder applies to the open positions from the next step."""
        horizons = self.plan.learning.signal_resolution_horizons
        self.plan, self.pipeline, self.screen = plan, pipeline, screen
        if self.resolver is not None and plan.learning.signal_resolution_horizons != horizons:
            self.resolver = self._resolver(plan)
        self.post_trade = PostTrade(plan)
        for trade in self.store.trades():
            self.post_trade.run(trade)

    def cancel(self, client_order_id: str, reason: str) -> OrderState | None:
        """Cancel an order at the broker (a task found it stuck); the order's state and the
        broker's are committed with the next step. None when the broker has no such open order."""
        if client_order_id not in {o.client_order_id for o in self.broker.open_orders()}:
            return None  # unknown, or no longer open (a cancel repeated after a restart)
        logger.warning("cancelling order %s: %s", client_order_id, reason)
        return self.broker.cancel_order(client_order_id)

    def forget(self, client_order_id: str, reason: str) -> bool:
        """Stop waiting for an order the broker does not know (lost in transit); committed
        with the next step. False when it was not pending."""
        if self.pending.pop(client_order_id, None) is None:
            return False
        logger.warning("forgetting pending order %s: %s", client_order_id, reason)
        return True

    def step(self, snapshot, *, bot=None) -> StepResult:
        """Trade one snapshot; ``bot`` (engine.bot.records.BotRecords) is what the running bot
        records for this cycle, committed in the step's transaction."""
        screened = self.screen.screen(snapshot)
        snapshot = screened.snapshot
        result = StepResult(ts=snapshot.ts, screened=screened)
        self._report_screen(screened)
        work = _Work()
        for event in self.broker.observe(snapshot):
            self._apply_event(event, work, result)
        self._protect(work)
        self.pipeline.update(snapshot)
        if self.resolver is not None:
            work.resolutions = self.resolver.observe(snapshot.ts, prices_of(snapshot))
            for signal, resolutions in self.resolver.finished:  # one line a signal, at its last horizon
                self.sinks.outcomes(outcome_line(signal, resolutions))
        self._check_exits(snapshot, work, result)
        self._check_entries(snapshot, work, result)
        self._finish(snapshot.ts, work, result, bot)
        return result

    def _finish(self, ts: float, work: _Work, result: StepResult, bot=None) -> None:
        """The step's closed trades through the post-trade hooks, then one commit."""
        result.trades.sort(key=lambda t: (t.exit_ts, t.id))  # the order a restart replays them in
        for trade in result.trades:
            runs = self.post_trade.run(trade)
            self.sinks.trades(trade.as_dict())
            for run in runs:
                self.sinks.post_trade(run)
                work.hook_runs.append((trade.id, run["hook"], run["status"], run.get("error", ""), ts))
        self._commit(ts, work, bot)
        for trade in result.trades:
            logger.info(
                "trade %s closed (%s %s, %s): net %.2f",
                trade.id,
                trade.direction,
                trade.symbol,
                trade.exit_reason,
                trade.net_pnl,
            )
        self._flush()

    def close_at_end(self) -> list:
        """When a replay's data ends: a broker that closes what is still open then (the
        freqtrade fill model: freqtrade's ``force_exit`` at the last candle's open) does so,
        and its fills are applied and committed as one more step at the last cycle's time.
        The trades it closed; [] for any other broker."""
        close = getattr(self.broker, "close_at_end", None)
        if close is None or self.cursor is None:
            return []
        work = _Work()
        result = StepResult(ts=self.cursor, screened=Screened(Snapshot(self.cursor, MappingProxyType({}))))
        for event in close():
            self._apply_event(event, work, result)
        self._finish(self.cursor, work, result)
        return result.trades

    def carry(self, positions: Iterable[Any], ts: float) -> None:
        """Put ``positions`` — open positions whose peak P&L or hold multiplier the exit check
        at ``ts`` moves, where nothing else happens — and commit them as the step at ``ts``
        would have: for the dry-run fast path's holding windows (engine/replay/holding.py),
        which prove the rest of that step a no-op and skip it."""
        work = _Work()
        for position in positions:
            self._put(position, work)
        self._commit(ts, work)

    def _report_screen(self, screened: Screened) -> None:
        for refusal in screened.refusals:
            self.sinks.market({"event": "refused", **refusal.as_dict()})
        if screened.transition is not None:
            self.sinks.market({"event": "trading_state", **screened.transition.as_dict()})

    def _apply_event(self, event, work: _Work, result: StepResult) -> None:
        if hasattr(event, "payment_id"):
            self._apply_funding(event, work)
            return
        if event.liquidity == "liquidation":  # the venue's forced close, stored as such (fee as charged)
            self._liquidations.add(event.client_order_id)
        work.fills.append(event)
        result.fills += 1
        pending = self.pending.get(event.client_order_id) or self._protective_exit(event.client_order_id)
        if pending is None and event.client_order_id in self._liquidations:
            pending = next(
                (Pending("exit", p.id, "LIQUIDATION") for p in self.positions.values() if p.symbol == event.symbol),
                None,
            )
        if pending is None:
            return
        if pending.kind == "entry":
            self._apply_entry_fill(event, pending, work)
        else:
            self._apply_exit_fill(event, pending, work, result)

    def _protective_exit(self, client_order_id: str) -> Pending | None:
        """The exit a broker made itself, as its tier's exit of its position: a venue's
        resting protective stop (live mode: ``(position id, tier)``, engine/trading/
        protection.py), or the stop and ROI exits of the freqtrade fill model
        (``(position id, tier, reason)``, adapters/paper/freqtrade.py)."""
        known = getattr(self.broker, "protective_exit", None)
        found = known(client_order_id) if known is not None else None
        if found is None:
            return None
        position_id, tier, *reason = found
        return Pending("exit", position_id, reason[0] if reason else "STOP_LOSS", tier)

    def _protect(self, work: _Work) -> None:
        """A broker that rests protective stops at the venue (live) gets the open positions
        after the step's fills: each keeps its stop; the stop orders are recorded."""
        protect = getattr(self.broker, "protect", None)
        if protect is None:
            return
        for state in protect(self.plan, self.ordered_positions()):
            work.orders.append(state)
            served = self.broker.protective_exit(state.client_order_id)
            if served is not None:
                work.links.append((state.client_order_id, served[0]))

    def _apply_funding(self, payment, work: _Work) -> None:
        work.funding.append(payment)
        for position in list(self.positions.values()):
            if position.symbol == payment.symbol:
                self._put(lifecycle.apply_funding(position, payment), work)

    def _apply_entry_fill(self, fill, pending: Pending, work: _Work) -> None:
        current = self.positions.get(pending.position_id)
        if current is None:
            # an entry Pending always carries its intent (set where the entry order is sent)
            intent = OrderIntent(**cast(dict[str, Any], pending.intent))
            ctx = pending.context
            position = lifecycle.open_position(
                intent,
                fill,
                conviction=ctx["conviction"],
                confidence=ctx["confidence"],
                alignment=ctx["alignment"],
                trend=ctx["trend"],
                attribution=ctx["attribution"],
            )
        else:
            position = lifecycle.add_entry_fill(current, fill)
        self._put(position, work)

    def _apply_exit_fill(self, fill, pending: Pending, work: _Work, result: StepResult) -> None:
        position = self.positions.get(pending.position_id)
        if position is None:
            return
        position = lifecycle.apply_exit_fill(position, fill)
        if pending.rungs:
            position = replace(position, ladder_done=tuple(sorted(set(position.ladder_done) | set(pending.rungs))))
        reason = "LIQUIDATION" if fill.client_order_id in self._liquidations else pending.reason
        if lifecycle.is_closed(position):
            trade = lifecycle.close_trade(
                position,
                exit_ts=fill.ts,
                reason=reason,
                tier=pending.tier,
                exit_version=self.plan.version,
                last_fill=fill,
            )
            work.trades.append(trade)
            work.closed.append(position.id)
            self.positions.pop(position.id, None)
            result.trades.append(trade)
        else:
            self._put(position, work)

    def _put(self, position, work: _Work) -> None:
        self.positions[position.id] = position
        work.positions[position.id] = position

    # ------------------------------------------------------------------ exits

    def ordered_positions(self) -> list:
        """Open positions oldest first: the same order in a fresh run and after a restart, so
        orders (and the venue's ids for them) are placed in the same sequence."""
        return sorted(self.positions.values(), key=lambda p: (p.opened_at, p.id))

    def _check_exits(self, snapshot, work: _Work, result: StepResult) -> None:
        """Every open position against the exit ladder. While an operator or a task holds
        trading HALTED only the protective tiers (the stops) close: no discretionary exit, but
        never a position left without its stop (the venue's liquidation applies regardless).
        A kill-switch breach halts entries only: its exits go on reducing the risk, as in
        dry-run (engine/bot/states.py ``withholds_exits``)."""
        halted = states.withholds_exits(self.held)
        delegated: frozenset[str] = getattr(self.broker, "executes_tiers", frozenset())  # the broker fills these
        for position in self.ordered_positions():
            if self._has_open_exit(position.id):
                continue
            market = self.pipeline.market(position.symbol, snapshot.ts)
            price = market.get("price")
            if price is None:
                continue
            evaluation = evaluate_exits(self.plan, position, market, price, snapshot.ts)
            peak = max(position.peak_pnl_pct, evaluation.pnl_pct)
            updated = position
            if peak != position.peak_pnl_pct or evaluation.hold_multiplier != position.hold_multiplier:
                updated = replace(position, peak_pnl_pct=peak, hold_multiplier=evaluation.hold_multiplier)
                self._put(updated, work)
            signal = evaluation.chosen or evaluation.partial
            if delegated and signal is not None and signal.tier in delegated:
                signal = _first_not_in(evaluation.fired, delegated)
            if halted and signal is not None and not protective(signal.kind):
                shielded = [s for s in evaluation.fired if protective(s.kind)]
                signal = next((s for s in shielded if s.full), None) or next(iter(shielded), None)
            if signal is not None:
                record = {
                    "ts": snapshot.ts,
                    "version": self.plan.version,
                    "position": position.id,
                    "symbol": position.symbol,
                }
                if halted:
                    record["trading_state"] = states.HALTED  # only the protective tiers close
                self.sinks.exits({**record, **evaluation.as_dict()})
                self._send_exit(updated, signal, snapshot.ts, work, result)

    def _closes_all(self, position, signal) -> bool:
        """A full exit, or a partial one that takes what is left (the ladder's last rung): what
        is left goes (no rounding remnant)."""
        return signal.full or signal.closes_rest

    def _has_open_exit(self, position_id: str) -> bool:
        return any(p.kind == "exit" and p.position_id == position_id for p in self.pending.values())

    def _send_exit(self, position, signal, now: float, work: _Work, result: StepResult) -> None:
        quantity = (
            position.quantity
            if self._closes_all(position, signal)
            else min(position.quantity, signal.fraction * position.initial_quantity)
        )
        client_id = f"{position.id}-x{len(position.ladder_done)}-{int(now)}"
        request = OrderRequest(
            client_id,
            position.symbol,
            "sell" if position.direction == "LONG" else "buy",
            quantity,
            MARKET,
            None,
            True,
            position.leverage,
        )
        state = self.broker.place_order(request)
        work.orders.append(state)
        work.links.append((client_id, position.id))
        if state.status != "rejected":
            self.pending[client_id] = Pending("exit", position.id, signal.reason, signal.tier, signal.rungs)
        else:
            logger.debug("exit order %s rejected by the venue: %s", client_id, state.reason)
        result.exits.append(signal)

    # ------------------------------------------------------------------ entries

    def trading_state(self, now: float) -> tuple[states.TradingState, str, str]:
        """(state, reason, source) at ``now``: the held claims and the kill switch on the
        account now (engine/bot/states.py)."""
        return states.trading_state(self.plan, self.portfolio(now))

    def portfolio(self, now: float) -> Portfolio:
        """What the entry decisions at ``now`` see of the account (the broker's balance now)."""
        balance = self.broker.balance()
        positions = tuple(
            Position(
                p.symbol,
                p.direction,
                p.quantity * p.entry_price,
                p.quantity * p.entry_price / p.leverage,
                p.entry_price,
                p.leverage,
                p.opened_at,
            )
            for p in self.ordered_positions()
        )
        stats = {key: TradeStats(**value) for key, value in self.post_trade.trade_stats(now).items()}
        account = AccountStats(**self.post_trade.account_stats(balance.equity, now))
        return Portfolio(
            balance.equity,
            balance.available_margin,
            positions,
            stats,
            account,
            held=self.held,
            data_alarm=self.screen.alarm,
            venue_halt=getattr(self.broker, "halted", ""),
        )

    def _check_entries(self, snapshot, work: _Work, result: StepResult) -> None:
        signals, portfolio = self.pipeline.signals, None
        screened = result.screened
        for symbol in signals.symbols:
            if self._skip_known_neutral and signals.known_neutral(symbol):
                continue
            portfolio = portfolio or self.portfolio(snapshot.ts)  # built once, only if some symbol decides
            decision = self.pipeline.decide(symbol, portfolio, snapshot.ts, screened.refused(symbol))
            self.sinks.signals(decision.signal)
            if self.resolver is not None:  # every signal, traded, blocked or NEUTRAL, on its cycle's price
                signal = signal_of(decision, price_of(snapshot.symbols.get(symbol)))
                if signal is not None:
                    self.resolver.add(signal)
                    work.signals.append(signal)
            if decision.intent is None or self._busy(symbol):
                continue
            self._send_entry(decision, snapshot.ts, work, result)

    def _busy(self, symbol: str) -> bool:
        """An order for this symbol is still out: wait for it before deciding again."""
        return any((p.intent or {}).get("symbol") == symbol for p in self.pending.values() if p.kind == "entry")

    def _send_entry(self, decision, now: float, work: _Work, result: StepResult) -> None:
        intent = decision.intent
        request = OrderRequest(
            intent.client_order_id,
            intent.symbol,
            intent.side,
            intent.base_quantity,
            intent.order_type,
            intent.limit_price,
            False,
            intent.leverage,
        )
        state = self.broker.place_order(request)
        work.orders.append(state)
        work.links.append((intent.client_order_id, intent.client_order_id))
        if state.status == "rejected":
            logger.debug("entry order %s rejected by the venue: %s", intent.client_order_id, state.reason)
            return
        market = self.pipeline.market(intent.symbol, now)
        alignment = market.get("mtf_long" if intent.direction == "LONG" else "mtf_short")
        spread = market.get("ema_spread_pct")
        trend = 0 if spread is None else (1 if spread > 0 else -1 if spread < 0 else 0)
        attribution = dict(
            sorted((c.id, c.contribution) for c in decision.signal.components if c.direction == intent.direction)
        )  # sorted: identical after a restart
        self.pending[intent.client_order_id] = Pending(
            "entry",
            intent.client_order_id,
            intent=intent.as_dict(),
            context={
                "conviction": decision.signal.conviction,
                "confidence": decision.signal.confidence,
                "alignment": alignment,
                "trend": trend,
                "attribution": attribution,
            },
        )
        result.entries.append(intent)

    # ------------------------------------------------------------------ commit

    def _commit(self, ts: float, work: _Work, bot=None) -> None:
        done = {f.client_order_id for f in work.fills}
        still_open = {o.client_order_id for o in self.broker.open_orders()}  # asked once per step
        for client_id in list(self.pending):
            if (client_id in done and client_id not in still_open) or (
                client_id not in still_open and self._ended_unfilled(client_id, work)
            ):
                self.pending.pop(client_id)
        blobs = []
        durable = getattr(self.store, "durable", True)
        if durable:  # only a kept store needs what a restart reads back
            # made when written: in a group of steps (the store's group()), once for the last one
            blobs.append(("pending", self._pending_json))
            if hasattr(self.broker, "state"):  # a simulated venue: its state moves with ours
                blobs.append(("broker", self._broker_json))
        self.store.apply(
            Transition(
                orders=tuple(self._touched_orders(work)) + tuple(work.orders),
                fills=tuple(work.fills),
                funding=tuple(work.funding),
                positions=tuple(p for p in work.positions.values() if p.id not in work.closed),
                closed_positions=tuple(work.closed),
                trades=tuple(work.trades),
                cursors=((CURSOR, ts),),
                order_positions=tuple(work.links),
                blobs=tuple(blobs),
                hook_runs=tuple(work.hook_runs) if durable else (),
                records=self._records(),
                bot=bot,
                signals=tuple(work.signals),
                resolutions=tuple(work.resolutions),
            ),
            version=self.plan.version,
        )
        self.cursor = ts

    def _ended_unfilled(self, client_id: str, work: _Work) -> bool:
        """The venue cancelled a pending order without a fill (the freqtrade fill model's
        reversal entry whose opposite trade stayed open): recorded, and no longer waited for."""
        state = self.broker.order(client_id) if hasattr(self.broker, "order") else None
        if state is None or state.status != "cancelled" or state.filled_quantity:
            return False
        work.orders.append(state)
        logger.info("order %s ended unfilled: %s", client_id, state.reason)
        return True

    def _pending_json(self) -> str:
        return json.dumps({k: asdict(v) for k, v in self.pending.items()}, sort_keys=True)

    def _broker_json(self) -> str:
        return json.dumps(self.broker.state(), sort_keys=True)

    def _touched_orders(self, work: _Work):
        """Final states of the orders that filled in this step (so the orders table is current);
        a liquidation is the venue's own order, recorded so its fill has an order to belong to."""
        states = []
        for client_id in sorted({f.client_order_id for f in work.fills} - {o.client_order_id for o in work.orders}):
            state = self.broker.order(client_id)
            if state is None:
                fill = next(f for f in work.fills if f.client_order_id == client_id)
                state = OrderState(
                    client_id,
                    "",
                    fill.symbol,
                    fill.side,
                    fill.quantity,
                    fill.quantity,
                    MARKET,
                    None,
                    "filled",
                    True,
                    "liquidation" if client_id in self._liquidations else "venue order",
                    fill.ts,
                )
            states.append(state)
        return states


@dataclass
class _Work:
    orders: list = field(default_factory=list)
    fills: list = field(default_factory=list)
    funding: list = field(default_factory=list)
    positions: dict = field(default_factory=dict)
    closed: list = field(default_factory=list)
    trades: list = field(default_factory=list)
    links: list = field(default_factory=list)
    hook_runs: list = field(default_factory=list)
    signals: list = field(default_factory=list)  # the step's new signals (a store that keeps them)
    resolutions: list = field(default_factory=list)  # (signal, horizon) outcomes resolved in the step


def _first_not_in(fired, delegated) -> Any:
    """The exit the runner's own tiers choose when the broker fills ``delegated`` tiers itself:
    the first full exit among the others, else their first partial one."""
    mine = [s for s in fired if s.tier not in delegated]
    return next((s for s in mine if s.full), None) or next(iter(mine), None)
