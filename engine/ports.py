"""The ports between the engine and the outside world: small Protocols and the plain data
they exchange. Implementations live in ``adapters/`` (paper broker, Kraken Futures, BloFin,
the SQLite state store); the engine only ever sees these types.

Sizes are in BASE units (BTC, ETH) on this side of the port; an exchange adapter converts
to its venue's contracts. Prices are in the quote currency. Times are epoch seconds.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from engine.common.errors import RulebotError
from engine.common.redaction import redact_tokens

if TYPE_CHECKING:  # the records the state keeps; positions imports nothing from here
    from engine.bot.records import BotRecords
    from engine.learners.resolution import Resolution, Signal
    from engine.market.snapshot import Book, Candle
    from engine.trading.positions import OpenPosition, TradeRecord

#: Codes of snapshot files named by an object-store URL (adapters/snapshots/remote.py).
SNAPSHOT_URL_CODES = {
    "RB560": "a snapshot URL cannot be read: the object is missing, unreachable, or its download failed",
    "RB561": "a snapshot URL's protocol has no installed implementation (the message names the package to install)",
}

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
    "RB807": "the paper profile asks for a fill model only a replay can follow (`fill_model: freqtrade` reads each "
    "candle's whole range): `rulebot run` refuses it before it opens the state database",
}

#: Codes of the venue and market-intelligence clients (adapters/venues/, adapters/intel/) and of
#: live mode. Every error a client raises is one of the VenueError classes below.
VENUE_CODES = {
    "RB610": "a venue or market-data API call failed (the message names the venue, endpoint and why)",
    "RB611": "a venue call failed in a way that is safe to retry (HTTP 429, 5xx, timeout, connection lost, "
    "nonce rejected); retried with backoff where the call is idempotent",
    "RB612": "the venue rejected the request (insufficient funds, invalid size or price, unknown order, "
    "post-only would take, reduce-only would increase); not retried",
    "RB613": "fatal venue error: bad or missing API keys, permission denied, account blocked; "
    "nothing more is sent and live trading stops (the kill switch engages)",
    "RB614": "the venue's answer could not be read (malformed or truncated JSON, a missing or non-finite "
    "field, a shape that does not match the published one)",
    "RB615": "an order's answer was lost (timeout after sending); it is looked up by client order id, never sent twice",
    "RB616": "the venue's instruments disagree with rules/venues.yaml (symbol map, tick, contract size, "
    "minimum size, leverage limit)",
    "RB617": "live mode refused to start or to trade: keys missing, --live not given, or reconciliation with "
    "the venue found a difference (the message says what differs)",
}


class VenueError(RulebotError):
    """A venue or market-data client failed; ``venue`` and ``endpoint`` say where. The
    subclass says what the caller may do: retry, give up on this request, or stop trading."""

    code = "RB610"
    retryable = False

    def __init__(self, message: str, *, venue: str = "", endpoint: str = "", status: int | None = None):
        # A venue's message can echo what it was sent (a key, a signature): redacted here,
        # once, so no client has to remember it for every error it builds.
        super().__init__(redact_tokens(message))
        self.venue, self.endpoint, self.status = venue, endpoint, status


class VenueRetryable(VenueError):
    """Safe to try again later (429, 5xx, timeout, nonce error); idempotent calls are retried."""

    code = "RB611"
    retryable = True
    retry_after_s: float | None = None  # how long the venue asked to wait (Retry-After), when it said


class VenueRejected(VenueError):
    """The venue said no to this request; sending it again gets the same answer."""

    code = "RB612"


class VenueFatal(VenueError):
    """Keys, permissions or account: nothing more is sent; live trading stops."""

    code = "RB613"


class VenueAnswerMalformed(VenueError):
    """The answer could not be parsed into the port's types; it is never half-used."""

    code = "RB614"
    retryable = True


class OrderOutcomeUnknown(VenueError):
    """An order was sent and its answer lost: look it up by client order id before anything else."""

    code = "RB615"


class InstrumentMismatch(VenueError):
    """The venue's contract specs disagree with the rules; live mode does not trade on them."""

    code = "RB616"


class LiveRefused(VenueError):
    """Live mode refuses to start or to trade; the message says what differs or is missing."""

    code = "RB617"


BUY, SELL = "buy", "sell"
MARKET, LIMIT = "market", "limit"
# Resting trigger orders (venues only; the paper broker keeps stops bot-side and refuses them)
STOP, TAKE_PROFIT = "stop", "take_profit"
# Order statuses
OPEN, FILLED, CANCELLED, REJECTED = "open", "filled", "cancelled", "rejected"


@dataclass(frozen=True, slots=True)
class OrderRequest:
    client_order_id: str  # idempotency key: placing it twice never makes two orders
    symbol: str  # rulebot symbol (BTCUSDT)
    side: str  # buy | sell
    quantity: float  # base units
    order_type: str = MARKET  # market | limit | stop | take_profit
    limit_price: float | None = None
    reduce_only: bool = False
    leverage: float = 1.0
    stop_price: float | None = None  # trigger price of a stop or take-profit order


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


@dataclass(frozen=True, slots=True)
class Instrument:
    """A venue's contract spec, in the venue's own units (what rules/venues.yaml `instruments` lists)."""

    symbol: str  # rulebot symbol (BTCUSDT)
    venue_symbol: str  # the venue's (PF_XBTUSD, BTC-USDT)
    contract_size: float  # base units per contract
    size_step: float  # in contracts
    tick_size: float  # quote
    min_size: float  # in contracts
    max_leverage: float
    tradeable: bool = True


class MarketDataPort(Protocol):
    """What rulebot reads from a venue's public market data (live feed, recording, venue check)."""

    def instruments(self) -> Sequence[Instrument]: ...

    def check_instruments(self) -> None:
        """Raise InstrumentMismatch naming every way the venue's contract specs differ from
        rules/venues.yaml (symbol map, tick, contract size, min size, leverage)."""

    def ticker(self, symbol: str) -> Ticker: ...

    def order_book(self, symbol: str, depth: int = 20) -> Book: ...

    def candles(self, symbol: str, timeframe: str, since: float, until: float | None = None) -> Sequence[Candle]: ...

    def funding_rate(self, symbol: str) -> float | None: ...

    def open_interest_usd(self, symbol: str) -> float | None: ...


@dataclass(frozen=True, slots=True)
class IntelReading:
    """Market intelligence for one cycle (CoinGlass), in the snapshot format's own names
    (engine/market/schema.py, engine/market/snapshot.py INPUT_NAMES)."""

    values: Mapping[str, Mapping[str, float]]  # rulebot symbol → field (open_interest_usd, liq_long_usd, …) → value
    times: Mapping[str, Mapping[str, float]]  # rulebot symbol → input (open_interest, liquidations, …) → published at
    fear_greed: float | None = None
    fear_greed_ts: float | None = None
    stale: tuple[str, ...] = ()  # endpoints answered from the disk cache because the API failed


class IntelPort(Protocol):
    """What rulebot reads from a market-intelligence API for one cycle; only what was published
    by ``now`` (a reading never leaks the future), missing data simply absent."""

    def read(self, symbols: Sequence[str], now: float) -> IntelReading: ...


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
