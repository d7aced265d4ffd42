"""The ports between the engine and the outside world: small Protocols and the plain data
they exchange. Implementations live in ``adapters/`` (paper broker, Kraken Futures, BloFin,
the SQLite state store); the engine only ever sees these types.

Sizes are in BASE units (BTC, ETH) on this side of the port; an exchange adapter converts
to its venue's contracts. Prices are in the quote currency. Times are epoch seconds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # the records the state keeps; positions imports nothing from here
    from engine.bot.records import BotRecords
    from engine.learners.resolution import Resolution, Signal
    from engine.trading.positions import OpenPosition, TradeRecord

#: Codes of the state store (adapters/store/state.py), declared here so the engine documents them.
STATE_CODES = {
    "RB800": "the state database could not be opened, read or written (not SQLite, locked, I/O error, closed store)",
    "RB801": "the state database has a newer schema than this rulebot knows; it is refused and left untouched",
    "RB802": "a state change was refused (bad value, failed constraint); nothing of it was written",
    "RB803": "a state database migration failed; the database stays at the last version that applied",
    "RB804": "the run saved in the state database cannot be resumed (its broker state or pending orders are "
    "malformed, or for another venue or format version); nothing is traded and the database is untouched",
    "RB805": "another running rulebot process holds the state database's lock (the message names its pid, command "
    "and start); this process is refused before it opens the database, which is untouched",
    "RB806": "a JSON-lines log is shorter than the state database records it delivered (cut or replaced outside "
    "rulebot, or --logs names another folder than the run's); nothing is written until it is restored",
}

BUY, SELL = "buy", "sell"
MARKET, LIMIT = "market", "limit"
# Order statuses
OPEN, FILLED, CANCELLED, REJECTED = "open", "filled", "cancelled", "rejected"


@dataclass(frozen=True, slots=True)
class OrderRequest:
    client_order_id: str  # idempotency key: placing it twice never makes two orders
    symbol: str  # rulebot symbol (BTCUSDT)
    side: str  # buy | sell
    quantity: float  # base units
    order_type: str = MARKET  # market | limit
    limit_price: float | None = None
    reduce_only: bool = False
    leverage: float = 1.0


@dataclass(frozen=True, slots=True)
class OrderState:
    client_order_id: str
    venue_order_id: str
    symbol: str
    side: str
    quantity: float
    filled_quantity: float
    order_type: str
    limit_price: float | None
    status: str  # open | filled | cancelled | rejected
    reduce_only: bool
    reason: str = ""  # why rejected / cancelled
    created_at: float = 0.0


@dataclass(frozen=True, slots=True)
class Fill:
    fill_id: str  # unique per venue; a fill is applied once
    client_order_id: str
    symbol: str
    side: str
    quantity: float  # base units
    price: float
    fee: float  # quote currency, positive = paid
    liquidity: str  # maker | taker | liquidation (the venue's forced close, charged as a taker fill)
    ts: float


@dataclass(frozen=True, slots=True)
class FundingPayment:
    payment_id: str
    symbol: str
    rate: float  # fraction per interval
    amount: float  # quote currency, positive = received, negative = paid
    ts: float


@dataclass(frozen=True, slots=True)
class VenuePosition:
    symbol: str
    quantity: float  # signed base units: + long, − short (one-way mode)
    entry_price: float
    leverage: float
    liquidation_price: float | None


@dataclass(frozen=True, slots=True)
class Balance:
    cash: float  # quote currency: deposits + realised P&L − fees ± funding
    equity: float  # cash + unrealised P&L
    available_margin: float


@dataclass(frozen=True, slots=True)
class Ticker:
    symbol: str
    last: float
    mark: float | None
    bid: float | None
    ask: float | None
    ts: float


class ExchangePort(Protocol):
    """What rulebot needs from an execution venue (paper broker, Kraken Futures, BloFin)."""

    def ticker(self, symbol: str) -> Ticker: ...

    def place_order(self, request: OrderRequest) -> OrderState: ...

    def cancel_order(self, client_order_id: str) -> OrderState: ...

    def open_orders(self) -> Sequence[OrderState]: ...

    def order(self, client_order_id: str) -> OrderState | None: ...

    def positions(self) -> Sequence[VenuePosition]: ...

    def balance(self) -> Balance: ...

    def fills_since(self, ts: float) -> Sequence[Fill]: ...

    def funding_since(self, ts: float) -> Sequence[FundingPayment]: ...


@dataclass(frozen=True, slots=True)
class Transition:
    """Everything one step of the position lifecycle changes, written atomically.

    Re-applying a transition is harmless: fills, funding payments, trades and hook runs are
    keyed by their ids and inserted at most once; orders and positions are upserts; the log
    records of a step whose cursor the store already holds are not taken again.
    """

    orders: tuple[OrderState, ...] = ()  # upserted by client_order_id
    fills: tuple[Fill, ...] = ()  # inserted once by fill_id
    funding: tuple[FundingPayment, ...] = ()  # inserted once by payment_id
    positions: tuple[OpenPosition, ...] = ()  # upserted by id
    closed_positions: tuple[str, ...] = ()  # position ids to delete (their trade is in `trades`)
    trades: tuple[TradeRecord, ...] = ()  # inserted once by id
    cursors: tuple[tuple[str, float], ...] = ()  # progress markers, e.g. ("snapshot_ts", t)
    order_positions: tuple[tuple[str, str], ...] = ()  # (client_order_id, position_id): the position an order serves
    # (name, JSON text, or a function making it when written): runner state that must move with the rest
    blobs: tuple[tuple[str, str | Callable[[], str]], ...] = ()
    # (trade id, hook, status, error, ran_at): the post-trade hooks run on this step's trades
    hook_runs: tuple[tuple[str, str, str, str, float], ...] = ()
    # (log name, JSON-ready record): what this step logs, for a store with an outbox (``outbox`` true),
    # which keeps them in the same transaction and delivers each to its log exactly once
    records: tuple[tuple[str, dict[str, object]], ...] = ()
    # what the running bot records about this cycle (task runs, state changes, ...), in the same
    # transaction; like ``records``, not taken again when the step's cursor is already stored
    bot: BotRecords | None = None
    # signal resolution (engine/learners/resolution.py), for a store that keeps signals
    # (``keeps_signals``): the step's new signals, inserted once by (ts, symbol), and the
    # (signal, horizon) outcomes it resolved, inserted once each
    signals: tuple[Signal, ...] = ()
    resolutions: tuple[Resolution, ...] = ()


class StatePort(Protocol):
    """Crash-safe persistence of the lifecycle (adapters/store/state.py: SQLite)."""

    def apply(self, transition: Transition) -> None: ...

    def open_positions(self) -> Sequence[OpenPosition]: ...

    def trades(self) -> Sequence[TradeRecord]: ...

    def cursor(self, name: str) -> float | None: ...

    def blob(self, name: str) -> str | None: ...
