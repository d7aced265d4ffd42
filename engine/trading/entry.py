"""The entry pipeline: signal record → policy → signal requirements → requirements that need
no order → gate chain → sizing → requirements on the order → OrderIntent or NO_TRADE, with
the full trace (docs/gates.md "Pipeline order").

Pure: everything it reads is passed in (plan, signal record, market values, portfolio,
correlations, the clock), and it returns data. Every decision — trade or not — is fit to
append to logs/signal_universe.jsonl for counterfactual learning (seed "Pre-Entry Gate").
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.bot import states
from engine.common.errors import RuleRuntimeError
from engine.language.expr import MissingInputError
from engine.trading.gates import ChainResult, GateContext, run_chain
from engine.trading.signals.vote import CONVICTION_RANK
from engine.trading.sizing import Sizing, multiplier_product, round_down, round_up, size_entry

TRADE, NO_TRADE = "TRADE", "NO_TRADE"


#: inputs that exist only once an order has a size
SIZE_INPUTS = ("required_margin_usd", "order_exposure_pct")
_SIZE_INPUTS = frozenset(SIZE_INPUTS)
_DIRECTION_SIGN = {"LONG": 1, "SHORT": -1}


@dataclass(frozen=True, slots=True)
class CheckResult:
    id: str
    category: str
    passed: bool | None  # None: not evaluated (it needs an order size and there is none)
    reason: str
    detail: str = ""

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "category": self.category,
            "passed": self.passed,
            "reason": self.reason,
            "detail": self.detail,
        }


@dataclass(frozen=True, slots=True)
class OrderIntent:
    """What the executor should send: one order, idempotent by its client order id."""

    symbol: str
    venue: str
    venue_symbol: str
    direction: str
    side: str  # buy | sell
    contracts: float
    base_quantity: float
    price: float
    notional_usd: float
    leverage: float
    order_type: str  # market | limit
    limit_price: float | None
    stop_price: float | None
    client_order_id: str
    grace_window_s: float
    version: str
    ts: float

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__slots__}


@dataclass(frozen=True, slots=True)
class EntryDecision:
    outcome: str  # TRADE | NO_TRADE
    symbol: str
    ts: float
    version: str
    direction: str
    first_blocker: str | None
    checks: tuple[CheckResult, ...]
    chain: ChainResult | None
    sizing: Sizing | None
    intent: OrderIntent | None
    signal: Any

    def as_dict(self, signal: dict | None = None) -> dict:
        """``signal``: the signal record's ``as_dict()`` when the caller has it already (the
        runner logs it on its own too), so it is built once."""
        return {
            "outcome": self.outcome,
            "symbol": self.symbol,
            "ts": self.ts,
            "version": self.version,
            "direction": self.direction,
            "first_blocker": self.first_blocker,
            "multiplier_trail": [r.as_dict() for r in self.chain.trail] if self.chain else [],
            "checks": [c.as_dict() for c in self.checks],
            "sizing": self.sizing.as_dict() if self.sizing else None,
            "intent": self.intent.as_dict() if self.intent else None,
            "signal": self.signal.as_dict() if signal is None else signal,
        }


def trading_state(plan, portfolio) -> tuple[str, str]:
    """ACTIVE, REDUCING (entries frozen) or HALTED, with the reason: engine/bot/states.py
    decides from the portfolio's held claims (operator, tasks) and the kill switch."""
    state, reason, _ = states.trading_state(plan, portfolio)
    return state, reason


def decision_env(record, market: Mapping[str, Any], portfolio, symbol: str) -> dict:
    """The gate vocabulary: market values + the vote + this symbol/direction's track record."""
    stats = portfolio.trade_stats(symbol, record.direction)
    env = dict(market)
    env.update(
        direction=float(_DIRECTION_SIGN.get(record.direction, 0)),
        confidence=record.confidence,
        aligned_count=float(record.aligned_count),
        conviction_rank=float(CONVICTION_RANK[record.conviction]),
        cascade_active=record.cascade_active,
        recent_trades=float(stats.trades),
        recent_expectancy_pct=stats.expectancy_pct,
        recent_win_rate=stats.win_rate,
    )
    return env


def policy_checks(plan, symbol: str) -> list[CheckResult]:
    """The policy stage, first of every entry decision (the dry-run's column form reads it too)."""
    policy = plan.requirements
    return [
        CheckResult("alpha_trading_enabled", "policy", policy.alpha_trading_enabled, "POLICY_ALPHA_DISABLED"),
        CheckResult("symbol_enabled", "policy", symbol in policy.enabled_symbols, "POLICY_SYMBOL_DISABLED"),
    ]


#: Refused inputs that make the price an entry would be made at: with one of them refused
#: the symbol makes no entry this cycle (engine/market/sanity.py).
PRICE_INPUTS = frozenset({"price", "mark", "bid", "ask", "candles", "book"})


def data_checks(refused) -> list[CheckResult]:
    """The sanity layer's word on this symbol's inputs, first of a decision that has refusals:
    it blocks when a price input was refused, and otherwise says what was treated as missing."""
    if not refused:
        return []
    blocks = any(r.field in PRICE_INPUTS for r in refused)
    detail = "; ".join(r.reason for r in refused)
    return [CheckResult("market_data_sane", "market", not blocks, "MARKET_DATA_REFUSED", detail[:400])]


def missing_data_checks(record, market: Mapping[str, Any]) -> list[CheckResult]:
    """For a NEUTRAL vote that had nothing to go on, the data that was not there, first of the
    decision: the symbol has no price, or every component answered NEUTRAL for a missing or
    stale input. A directional vote had data enough to vote, and a NEUTRAL one otherwise is
    the components' verdict, so neither is named here (nor does a dry-run, which keeps only
    directional decisions, ever see this check)."""
    if record.direction != "NEUTRAL" or not record.components:
        return []
    absent: dict[str, str] = {} if "price" in market else {"price": "missing"}
    silent = True
    for component in record.components:
        what, _, name = (component.reasons[0] if component.reasons else "").partition(":")
        if what in ("missing", "stale") and component.direction == "NEUTRAL":
            absent.setdefault(name, what)
        else:
            silent = False
    if "price" in market and not silent:
        return []
    detail = "; ".join(
        f"{', '.join(n for n, w in absent.items() if w == what)} {what}"
        for what in ("missing", "stale")
        if what in absent.values()
    )
    return [CheckResult("market_data_present", "market", False, "MARKET_DATA_MISSING", detail[:400])]


def signal_checks(plan) -> list:
    """The requirement checks of the signal category, in their order: the stage between the
    policy and the gate chain (the dry-run's column form reads it too)."""
    return [check for check in plan.requirements.checks if check.category == "signal"]


def unsized_checks(plan) -> list:
    """The requirement checks outside the signal category that read no order size, in file
    order: evaluated right after the signal checks, before the chain and sizing (a position
    already open is why nothing trades, whatever a gate or the sizing would have said)."""
    return [c for c in plan.requirements.checks if c.category != "signal" and _SIZE_INPUTS.isdisjoint(c.when.names)]


def sized_checks(plan) -> list:
    """The requirement checks that read the proposed order (``SIZE_INPUTS``), in file order:
    evaluated after sizing."""
    return [c for c in plan.requirements.checks if c.category != "signal" and not _SIZE_INPUTS.isdisjoint(c.when.names)]


def _check(check, env, sized: bool = True) -> CheckResult:
    if not sized and not _SIZE_INPUTS.isdisjoint(check.when.names):
        return CheckResult(check.id, check.category, None, check.reason, "not evaluated: no order size")
    try:
        holds = bool(check.when(env))
        return CheckResult(check.id, check.category, holds, check.reason)
    except MissingInputError as error:
        if check.on_missing == "pass":
            return CheckResult(check.id, check.category, True, check.reason, f"passed by rule: {error}"[:160])
        return CheckResult(check.id, check.category, False, check.reason, f"unevaluable: {error}"[:160])
    except RuleRuntimeError as error:  # fail closed: a check that cannot be evaluated blocks
        return CheckResult(check.id, check.category, False, check.reason, f"unevaluable: {error}"[:160])


def _portfolio_env(env: dict, portfolio, symbol: str, direction: str, sizing: Sizing | None) -> dict:
    env = dict(env)
    equity = portfolio.equity_usd
    in_symbol = portfolio.positions_in(symbol)
    env.update(
        portfolio_value_usd=equity,
        available_margin_usd=portfolio.available_margin_usd,
        has_position_same_direction=any(p.direction == direction for p in in_symbol),
        positions_in_symbol=float(len(in_symbol)),
        open_positions=float(len(portfolio.positions)),
        exposure_pct=portfolio.exposure_pct(),
    )
    if sizing is not None and sizing.ok:
        env.update(
            required_margin_usd=sizing.margin_usd,
            order_exposure_pct=sizing.notional_usd / equity * 100 if equity > 0 else float("inf"),
        )
    return env


def _expected_edge(plan, env) -> float | None:
    try:
        return float(plan.gates.expected_edge(env))
    except RuleRuntimeError:
        return None


def _stop_loss_pct(plan) -> float | None:
    return plan.exits.stop_loss_pct()


def decide_entry(
    plan,
    record,
    market: Mapping[str, Any],
    portfolio,
    correlations: Mapping[str, float],
    now: float,
    *,
    full_trail: bool = True,
    refused: tuple = (),
) -> EntryDecision:
    """The entry decision for one signal record. With ``full_trail`` (live, paper) every check
    and gate is evaluated, even after a block, for the logs and counterfactual learning;
    without it (dry-run, which keeps only the outcome and the first blocker) evaluation stops
    at the first blocker: the same order, the same outcome and blocker, a shorter trail."""
    symbol, direction = record.symbol, record.direction
    env = decision_env(record, market, portfolio, symbol)
    early = data_checks(refused) + missing_data_checks(record, market) + policy_checks(plan, symbol)
    early += [_check(c, env) for c in signal_checks(plan)]
    lean = not full_trail and direction != "NEUTRAL"
    if lean and (failed := next((c for c in early if c.passed is False), None)) is not None:
        return _no_trade(plan, record, now, failed.reason, early)
    ready_env = _portfolio_env(env, portfolio, symbol, direction, None)
    for check in unsized_checks(plan):  # as soon as their inputs exist: before the chain and sizing
        early.append(_check(check, ready_env))
        if lean and early[-1].passed is False:
            return _no_trade(plan, record, now, early[-1].reason, early)
    chain = sizing = None
    if direction != "NEUTRAL":
        state, why = trading_state(plan, portfolio)
        venue = plan.venues.exchange(plan.venues.execution_venue)
        ctx = GateContext(
            symbol, direction, record, env, portfolio, venue, correlations, state, why, _expected_edge(plan, env)
        )
        chain = run_chain(plan.gates, ctx, until_blocked=lean)
        if lean and chain.first_blocker is not None:
            return _no_trade(plan, record, now, chain.first_blocker.reason, early, chain)
        factors = [1.0 if result.blocked else result.multiplier for result in chain.trail]
        if plan.risk.sizing.signal_conviction_multiplier:
            factors.append(record.size_multiplier)
        sizing = size_entry(
            plan,
            symbol=symbol,
            direction=direction,
            conviction=record.conviction,
            price=market.get("price"),
            equity_usd=portfolio.equity_usd,
            multiplier=multiplier_product(factors),
            stop_loss_pct=_stop_loss_pct(plan),
        )
        if lean and not sizing.ok:
            return _no_trade(plan, record, now, sizing.reason, early, chain, sizing)
    full_env = _portfolio_env(env, portfolio, symbol, direction, sizing)
    sized = sizing is not None and sizing.ok
    late = []
    for check in sized_checks(plan):
        late.append(_check(check, full_env, sized))
        if lean and late[-1].passed is False:
            break
    checks = tuple(early + late)
    blocker = _first_blocker(early, chain, sizing, late)
    # no blocker implies a signal direction, hence a chain and a sizing (never None here)
    intent = None if blocker or sizing is None else _intent(plan, record, sizing, now)
    return EntryDecision(
        TRADE if intent else NO_TRADE,
        symbol,
        now,
        plan.version,
        direction,
        blocker,
        checks,
        chain,
        sizing,
        intent,
        record,
    )


def _no_trade(plan, record, now: float, blocker: str, checks: list, chain=None, sizing=None) -> EntryDecision:
    """A decision cut short at its first blocker (``full_trail=False``)."""
    return EntryDecision(
        NO_TRADE,
        record.symbol,
        now,
        plan.version,
        record.direction,
        blocker,
        tuple(checks),
        chain,
        sizing,
        None,
        record,
    )


def neutral_decision(plan, record, now: float) -> EntryDecision:
    """NO_TRADE for a NEUTRAL signal without evaluating the requirements: a NEUTRAL signal
    never trades, whatever they say (used where no trail of neutral decisions is kept)."""
    return EntryDecision(
        NO_TRADE, record.symbol, now, plan.version, "NEUTRAL", "SIGNAL_NEUTRAL", (), None, None, None, record
    )


def _first_blocker(early, chain, sizing, late) -> str | None:
    for check in early:
        if check.passed is False:
            return check.reason
    if chain is None:
        return "SIGNAL_NEUTRAL"
    if chain.first_blocker is not None:
        return chain.first_blocker.reason
    if not sizing.ok:
        return sizing.reason
    for check in late:
        if check.passed is False:
            return check.reason
    return None


def client_order_id(prefix: str, version: str, symbol: str, direction: str, ts: float) -> str:
    """Deterministic per decision, so a retried submission is recognised, never doubled."""
    return f"{prefix}{order_digest(version, symbol, direction, ts)}"


def order_digest(version: str, symbol: str, direction: str, ts: float) -> str:
    """The decision-specific tail of a client order id: the report matches a trade (whose id is
    its entry order's) to the decision that sent it by recomputing this."""
    return hashlib.sha256(f"{version}|{symbol}|{direction}|{ts:.3f}".encode()).hexdigest()[:20]


def _intent(plan, record, sizing: Sizing, now: float) -> OrderIntent:
    risk, venue = plan.risk, plan.venues.exchange(plan.venues.execution_venue)
    instrument = venue.instruments[sizing.venue_symbol]
    limit_price = None
    if risk.orders.entry_type == "limit":
        offset = risk.orders.limit_offset_bps / 1e4
        # a limit sits on the passive side of the touch: a buy rounds down, a sell rounds up
        limit_price = (
            round_down(sizing.price * (1 - offset), instrument.tick_size)
            if record.direction == "LONG"
            else round_up(sizing.price * (1 + offset), instrument.tick_size)
        )
    grace = (
        risk.grace_windows.high_conviction
        if record.conviction in risk.grace_windows.high_conviction_levels
        else risk.grace_windows.standard
    )
    return OrderIntent(
        symbol=record.symbol,
        venue=venue.id,
        venue_symbol=sizing.venue_symbol,
        direction=record.direction,
        side="buy" if record.direction == "LONG" else "sell",
        contracts=sizing.contracts,
        base_quantity=sizing.base_quantity,
        price=sizing.price,
        notional_usd=sizing.notional_usd,
        leverage=sizing.leverage,
        order_type=risk.orders.entry_type,
        limit_price=limit_price,
        stop_price=sizing.stop_price,
        client_order_id=client_order_id(
            risk.orders.client_order_id_prefix, plan.version, record.symbol, record.direction, now
        ),
        grace_window_s=grace,
        version=plan.version,
        ts=now,
    )
