"""The SQLite state store (``state/*.db``): orders, fills, funding, positions, trades,
cursors, rule versions and post-trade hook runs — crash-safe, queryable, no server.

Crash safety comes from four things together: WAL journaling, ``synchronous=FULL`` (a
committed transition survives power loss, not only a killed process), exactly one
transaction per :class:`~engine.ports.Transition`, and idempotent writes (fills, funding
and trades are inserted once by id, orders and positions are upserts), so replaying the
last transition after a restart is harmless. docs/state.md has the schema and the model.

Bad input is refused, never dropped: a failed constraint anywhere in a transition rolls the
whole transition back and raises :class:`StateError` naming the table, the id and the
constraint. Inserts use ``ON CONFLICT (id) DO NOTHING`` rather than ``INSERT OR IGNORE``
because the latter also silently skips rows that break NOT NULL or CHECK constraints.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields, replace
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol

from adapters.store.jsonl import line as log_line
from adapters.store.jsonl import lines as log_lines
from engine.bot.records import BotRecords, BotStatus, LiftedOverride, Reload, ScheduleEntry, StateChange
from engine.bot.tasks.base import Override, TaskRun
from engine.common.errors import RulebotError
from engine.learners.base import ClosedTrade, ComponentCall, LearningData, SignalOutcome
from engine.learners.resolution import Resolution, Signal, direction_named, direction_sign
from engine.ports import STATE_CODES, Fill, FundingPayment, OrderState, Transition
from engine.trading.positions import OpenPosition, TradeRecord
from engine.versions.model import LIVE as LIVE_PROMOTION
from engine.versions.model import PROMOTIONS, VersionRecord

CODES = STATE_CODES  # declared with the port (engine/ports.py): the engine documents every code
STORE_FAILED = "RB800"
NEWER_SCHEMA = "RB801"
CHANGE_REFUSED = "RB802"
MIGRATION_FAILED = "RB803"
LOG_BEHIND = "RB806"

logger = logging.getLogger(__name__)

BUSY_TIMEOUT_S = 10.0
MIN_SQLITE = (3, 37, 0)  # STRICT tables


class StateError(RulebotError):
    """The state store refused or failed an operation; ``code`` says which kind (RB80x)."""

    code = STORE_FAILED

    def __init__(self, message: str, code: str = STORE_FAILED):
        super().__init__(message)
        self.code = code


# ------------------------------------------------------------------ schema

_V1 = """
CREATE TABLE rule_versions (
    version_id TEXT NOT NULL PRIMARY KEY CHECK (version_id <> ''),
    created_at REAL NOT NULL,
    author     TEXT NOT NULL CHECK (author = 'human' OR author GLOB 'learner:?*'),
    parent     TEXT CHECK (parent IS NULL OR parent <> version_id),
    message    TEXT NOT NULL DEFAULT ''
) STRICT;

CREATE TABLE orders (
    client_order_id TEXT NOT NULL PRIMARY KEY CHECK (client_order_id <> ''),
    venue_order_id  TEXT NOT NULL,
    symbol          TEXT NOT NULL CHECK (symbol <> ''),
    side            TEXT NOT NULL CHECK (side IN ('buy', 'sell')),
    quantity        REAL NOT NULL CHECK (quantity >= 0),
    filled_quantity REAL NOT NULL CHECK (filled_quantity >= 0),
    order_type      TEXT NOT NULL CHECK (order_type IN ('market', 'limit')),
    limit_price     REAL CHECK (limit_price > 0 OR (limit_price IS NULL AND order_type = 'market')),
    status          TEXT NOT NULL CHECK (status IN ('open', 'filled', 'cancelled', 'rejected')),
    reduce_only     INTEGER NOT NULL CHECK (reduce_only IN (0, 1)),
    reason          TEXT NOT NULL,
    created_at      REAL NOT NULL,
    position_id     TEXT,
    version         TEXT
) STRICT;
CREATE INDEX orders_by_position ON orders (position_id);

CREATE TABLE fills (
    fill_id         TEXT NOT NULL PRIMARY KEY CHECK (fill_id <> ''),
    client_order_id TEXT NOT NULL REFERENCES orders (client_order_id),
    symbol          TEXT NOT NULL CHECK (symbol <> ''),
    side            TEXT NOT NULL CHECK (side IN ('buy', 'sell')),
    quantity        REAL NOT NULL CHECK (quantity > 0),
    price           REAL NOT NULL CHECK (price > 0),
    fee             REAL NOT NULL,
    liquidity       TEXT NOT NULL CHECK (liquidity IN ('maker', 'taker')),
    ts              REAL NOT NULL
) STRICT;
CREATE INDEX fills_by_order ON fills (client_order_id);
CREATE INDEX fills_by_ts ON fills (ts);

CREATE TABLE funding_payments (
    payment_id TEXT NOT NULL PRIMARY KEY CHECK (payment_id <> ''),
    symbol     TEXT NOT NULL CHECK (symbol <> ''),
    rate       REAL NOT NULL,
    amount     REAL NOT NULL,
    ts         REAL NOT NULL
) STRICT;
CREATE INDEX funding_by_ts ON funding_payments (ts);

CREATE TABLE positions (
    id                 TEXT NOT NULL PRIMARY KEY CHECK (id <> ''),
    symbol             TEXT NOT NULL CHECK (symbol <> ''),
    direction          TEXT NOT NULL CHECK (direction IN ('LONG', 'SHORT')),
    venue              TEXT NOT NULL,
    entry_price        REAL NOT NULL CHECK (entry_price > 0),
    quantity           REAL NOT NULL CHECK (quantity >= 0),
    initial_quantity   REAL NOT NULL CHECK (initial_quantity > 0),
    leverage           REAL NOT NULL CHECK (leverage > 0),
    opened_at          REAL NOT NULL,
    entry_version      TEXT NOT NULL,
    conviction         TEXT NOT NULL,
    confidence         REAL NOT NULL,
    grace_until        REAL NOT NULL,
    alignment_at_entry REAL,
    trend_at_entry     INTEGER NOT NULL CHECK (trend_at_entry IN (-1, 0, 1)),
    stop_price         REAL CHECK (stop_price IS NULL OR stop_price > 0),
    fees_paid          REAL NOT NULL,
    funding_paid       REAL NOT NULL,
    realized_pnl       REAL NOT NULL,
    exit_fills_value   REAL NOT NULL,
    peak_pnl_pct       REAL NOT NULL,
    hold_multiplier    REAL NOT NULL CHECK (hold_multiplier > 0),
    ladder_done        TEXT NOT NULL CHECK (json_type(ladder_done) = 'array'),
    attribution        TEXT NOT NULL CHECK (json_type(attribution) = 'object')
) STRICT;
CREATE INDEX positions_by_symbol ON positions (symbol);

CREATE TABLE trades (
    id            TEXT NOT NULL PRIMARY KEY CHECK (id <> ''),
    symbol        TEXT NOT NULL CHECK (symbol <> ''),
    direction     TEXT NOT NULL CHECK (direction IN ('LONG', 'SHORT')),
    venue         TEXT NOT NULL,
    entry_ts      REAL NOT NULL,
    exit_ts       REAL NOT NULL CHECK (exit_ts >= entry_ts),
    entry_price   REAL NOT NULL CHECK (entry_price > 0),
    exit_price    REAL NOT NULL CHECK (exit_price >= 0),
    quantity      REAL NOT NULL CHECK (quantity > 0),
    leverage      REAL NOT NULL CHECK (leverage > 0),
    gross_pnl     REAL NOT NULL,
    fees          REAL NOT NULL,
    funding       REAL NOT NULL,
    net_pnl       REAL NOT NULL,
    net_pnl_pct   REAL NOT NULL,
    duration_s    REAL NOT NULL CHECK (duration_s >= 0),
    exit_reason   TEXT NOT NULL,
    exit_tier     TEXT NOT NULL,
    entry_version TEXT NOT NULL,
    exit_version  TEXT NOT NULL,
    conviction    TEXT NOT NULL,
    confidence    REAL NOT NULL,
    attribution   TEXT NOT NULL CHECK (json_type(attribution) = 'object'),
    peak_pnl_pct  REAL NOT NULL
) STRICT;
CREATE INDEX trades_by_exit_ts ON trades (exit_ts);

CREATE TABLE cursors (
    name  TEXT NOT NULL PRIMARY KEY CHECK (name <> ''),
    value REAL NOT NULL
) STRICT;

CREATE TABLE hook_runs (
    trade_id TEXT NOT NULL REFERENCES trades (id),
    hook     TEXT NOT NULL CHECK (hook <> ''),
    status   TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
    error    TEXT NOT NULL,
    ran_at   REAL NOT NULL,
    attempts INTEGER NOT NULL CHECK (attempts >= 1),
    PRIMARY KEY (trade_id, hook)
) STRICT;

-- A closed position never comes back, and a trade is recorded only once its position is gone.
CREATE TRIGGER positions_stay_closed BEFORE INSERT ON positions
WHEN EXISTS (SELECT 1 FROM trades WHERE id = NEW.id)
BEGIN
    SELECT RAISE(ABORT, 'position already closed: a trade with this id exists');
END;

CREATE TRIGGER trades_need_their_position_closed BEFORE INSERT ON trades
WHEN EXISTS (SELECT 1 FROM positions WHERE id = NEW.id)
BEGIN
    SELECT RAISE(ABORT, 'position still open: list its id in closed_positions');
END;
"""

# (version, description, SQL). Append only: never edit or reorder an applied migration.
_V2 = """
CREATE TABLE blobs (
    name  TEXT NOT NULL PRIMARY KEY CHECK (name <> ''),
    value TEXT NOT NULL CHECK (json_valid(value))
) STRICT;
"""

# SQLite cannot alter a CHECK in place: the table is rebuilt (sqlite.org/lang_altertable.html,
# "making other kinds of table schema changes") inside the migration's one transaction. The
# new table is created under another name, every row is copied with its rowid, the old table
# is dropped, the new one renamed to `fills` and its indexes recreated (no trigger or view
# mentions `fills`). Foreign keys stay ON: no table references `fills` (so the drop and the
# rename touch no other table), and each copied row is checked against `orders` again.
# Columns, their order, types, constraints and the foreign key are those of v1; only the
# `liquidity` CHECK gains 'liquidation'.
#
# Then the liquidation fills written before v3 are found again: the runner stored them as
# 'taker' fills of an order it made up itself (engine/trading/runner.py `_touched_orders`: no venue
# id, reason 'liquidation', a filled reduce-only market order with no limit, on the fill's
# symbol and side). Nothing else writes an order like that.
_V3 = """
CREATE TABLE fills_v3 (
    fill_id         TEXT NOT NULL PRIMARY KEY CHECK (fill_id <> ''),
    client_order_id TEXT NOT NULL REFERENCES orders (client_order_id),
    symbol          TEXT NOT NULL CHECK (symbol <> ''),
    side            TEXT NOT NULL CHECK (side IN ('buy', 'sell')),
    quantity        REAL NOT NULL CHECK (quantity > 0),
    price           REAL NOT NULL CHECK (price > 0),
    fee             REAL NOT NULL,
    liquidity       TEXT NOT NULL CHECK (liquidity IN ('maker', 'taker', 'liquidation')),
    ts              REAL NOT NULL
) STRICT;

INSERT INTO fills_v3 (rowid, fill_id, client_order_id, symbol, side, quantity, price, fee, liquidity, ts)
SELECT rowid, fill_id, client_order_id, symbol, side, quantity, price, fee, liquidity, ts FROM fills;

DROP TABLE fills;

ALTER TABLE fills_v3 RENAME TO fills;

CREATE INDEX fills_by_order ON fills (client_order_id);
CREATE INDEX fills_by_ts ON fills (ts);

UPDATE fills SET liquidity = 'liquidation'
WHERE liquidity = 'taker' AND EXISTS (
    SELECT 1 FROM orders o
    WHERE o.client_order_id = fills.client_order_id
      AND o.reason = 'liquidation' AND o.venue_order_id = '' AND o.status = 'filled'
      AND o.order_type = 'market' AND o.limit_price IS NULL AND o.reduce_only = 1
      AND o.symbol = fills.symbol AND o.side = fills.side);
"""

# The outbox (adapters/store/outbox.py): a step's log records are inserted in the step's own
# transaction and delivered to the logs after it; `log_offsets` holds each log's length once
# everything before the rows still in `outbox` had been delivered. And one canonical type per
# value: a REAL column gives back 2.0 for the 2 a fresh run holds (an integral leverage), so
# `int_fields` names the float-annotated fields that held an int, restored as ints.
_V4 = """
CREATE TABLE outbox (
    seq  INTEGER PRIMARY KEY,
    log  TEXT NOT NULL CHECK (log <> ''),
    line TEXT NOT NULL CHECK (json_valid(line))
) STRICT;

CREATE TABLE log_offsets (
    log    TEXT NOT NULL PRIMARY KEY CHECK (log <> ''),
    length INTEGER NOT NULL CHECK (length >= 0)
) STRICT;

ALTER TABLE positions ADD COLUMN int_fields TEXT NOT NULL DEFAULT '[]' CHECK (json_type(int_fields) = 'array');

ALTER TABLE trades ADD COLUMN int_fields TEXT NOT NULL DEFAULT '[]' CHECK (json_type(int_fields) = 'array');
"""

# The running bot's own records (engine/bot/records.py): task runs, state changes and reloads are
# history (appended, never updated); the schedule, heartbeats and the status row are
# last-write-wins; an override is inserted once and its lift recorded once. `bot_status` is a single
# row (id 1) so `rulebot status` reads it without the bot.
_V5 = """
CREATE TABLE task_runs (
    seq          INTEGER PRIMARY KEY,
    job_id       TEXT NOT NULL CHECK (job_id <> ''),
    task         TEXT NOT NULL CHECK (task <> ''),
    scheduled_ts REAL NOT NULL,
    started_ts   REAL NOT NULL,
    duration_s   REAL NOT NULL CHECK (duration_s >= 0),
    status       TEXT NOT NULL CHECK (status IN ('ok', 'warning', 'failed')),
    summary      TEXT NOT NULL,
    missed       INTEGER NOT NULL CHECK (missed >= 0),
    error        TEXT NOT NULL
) STRICT;
CREATE INDEX task_runs_by_task ON task_runs (task, seq);

CREATE TABLE task_schedule (
    job_id  TEXT NOT NULL PRIMARY KEY CHECK (job_id <> ''),
    next_ts REAL NOT NULL,
    last_ts REAL
) STRICT;

CREATE TABLE state_changes (
    seq    INTEGER PRIMARY KEY,
    ts     REAL NOT NULL,
    state  TEXT NOT NULL CHECK (state IN ('ACTIVE', 'REDUCING', 'HALTED')),
    reason TEXT NOT NULL,
    source TEXT NOT NULL CHECK (source <> '')
) STRICT;
CREATE INDEX state_changes_by_ts ON state_changes (ts);

CREATE TABLE overrides (
    id            TEXT NOT NULL PRIMARY KEY CHECK (id <> ''),
    state         TEXT NOT NULL CHECK (state IN ('REDUCING', 'HALTED')),
    reason        TEXT NOT NULL CHECK (reason <> ''),
    set_ts        REAL NOT NULL,
    until         REAL CHECK (until IS NULL OR until > set_ts),
    source        TEXT NOT NULL CHECK (source <> ''),
    lifted_ts     REAL,
    lifted_reason TEXT NOT NULL DEFAULT ''
) STRICT;

CREATE TABLE heartbeats (
    name TEXT NOT NULL PRIMARY KEY CHECK (name <> ''),
    ts   REAL NOT NULL
) STRICT;

CREATE TABLE reloads (
    seq         INTEGER PRIMARY KEY,
    ts          REAL NOT NULL,
    old_version TEXT NOT NULL,
    new_version TEXT,
    outcome     TEXT NOT NULL CHECK (outcome IN ('ok', 'invalid', 'unchanged')),
    errors      TEXT NOT NULL CHECK (json_type(errors) = 'array'),
    duration_s  REAL NOT NULL CHECK (duration_s >= 0)
) STRICT;

CREATE TABLE bot_status (
    id            INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    live_version  TEXT NOT NULL,
    live_since    REAL NOT NULL,
    pid           INTEGER NOT NULL,
    last_cycle_ts REAL,
    prices        TEXT NOT NULL CHECK (json_type(prices) = 'object')
) STRICT;
"""

# A reload may also be refused (a change a running bot cannot take, e.g. the profile) or fail
# (compiling raised); every attempt names what asked for it (the edited files, SIGHUP).
_V6 = """
CREATE TABLE reloads_v6 (
    seq         INTEGER PRIMARY KEY,
    ts          REAL NOT NULL,
    old_version TEXT NOT NULL,
    new_version TEXT,
    outcome     TEXT NOT NULL CHECK (outcome IN ('ok', 'invalid', 'unchanged', 'refused', 'failed')),
    errors      TEXT NOT NULL CHECK (json_type(errors) = 'array'),
    duration_s  REAL NOT NULL CHECK (duration_s >= 0),
    reason      TEXT NOT NULL DEFAULT ''
) STRICT;

INSERT INTO reloads_v6 (seq, ts, old_version, new_version, outcome, errors, duration_s)
SELECT seq, ts, old_version, new_version, outcome, errors, duration_s FROM reloads;

DROP TABLE reloads;

ALTER TABLE reloads_v6 RENAME TO reloads;
"""

# The version store (engine/versions): every rule-set version that went live or was proposed, in
# order (`seq`; one id may go live more than once, e.g. after a rollback), and each version's
# canonical content once per id (engine/language/compiler.py `canonical_form`, what its id
# hashes), so any version can be rebuilt, diffed and rolled back after the files changed.
# `rule_versions` stays: the first time each id was seen. Its rows become the first history
# rows (without content: it was not kept before).
_V7 = """
CREATE TABLE version_contents (
    version_id TEXT NOT NULL PRIMARY KEY CHECK (version_id <> ''),
    content    TEXT NOT NULL CHECK (json_type(content) = 'object')
) STRICT;

CREATE TABLE version_history (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    version_id  TEXT NOT NULL CHECK (version_id <> ''),
    created_at  REAL NOT NULL,
    author      TEXT NOT NULL CHECK (author = 'human' OR author GLOB 'learner:?*'),
    parent      TEXT CHECK (parent IS NULL OR parent <> version_id),
    message     TEXT NOT NULL DEFAULT '',
    window_from REAL,
    window_to   REAL CHECK (window_to IS NULL OR window_from IS NULL OR window_to >= window_from),
    metrics     TEXT NOT NULL DEFAULT '{}' CHECK (json_type(metrics) = 'object'),
    promotion   TEXT CHECK (promotion IS NULL OR promotion IN ('proposed', 'live', 'rejected')),
    numbers     TEXT NOT NULL DEFAULT '{}' CHECK (json_type(numbers) = 'object')
) STRICT;
CREATE INDEX version_history_by_version ON version_history (version_id, seq);

INSERT INTO version_history (version_id, created_at, author, parent, message)
SELECT version_id, created_at, author, parent, message FROM rule_versions ORDER BY created_at, version_id;
"""

# Signal resolution (engine/learners/resolution.py): every evaluated signal once, and its outcome at
# each horizon. Lean, as a line is added per symbol and minute: the components' ids and weights
# (the same for every signal of a rule version) are kept once per version in `signal_sets`, each
# signal holds only its calls (per component, in the set's order: the confidence signed by the
# direction, 0 for most NEUTRAL ones; `_call`); an outcome row is four numbers. A signal is pending while an outcome row of a horizon is missing;
# an unresolvable outcome (no price within the grace) is a row without a price. The migration's
# number is SIGNALS_SCHEMA: renumber both together.
SIGNALS_SCHEMA = 8
_V8 = """
CREATE TABLE signal_sets (
    id         INTEGER PRIMARY KEY,
    version    TEXT NOT NULL,
    components TEXT NOT NULL CHECK (json_type(components) = 'array')
) STRICT;

CREATE TABLE signals (
    id         INTEGER PRIMARY KEY,
    ts         REAL NOT NULL,
    symbol     TEXT NOT NULL CHECK (symbol <> ''),
    direction  TEXT NOT NULL CHECK (direction IN ('LONG', 'SHORT', 'NEUTRAL')),
    conviction TEXT NOT NULL,
    outcome    TEXT NOT NULL CHECK (outcome IN ('TRADE', 'BLOCKED', 'NEUTRAL')),
    blocker    TEXT CHECK (blocker IS NULL OR outcome = 'BLOCKED'),
    price      REAL NOT NULL CHECK (price > 0),
    set_id     INTEGER NOT NULL REFERENCES signal_sets (id),
    calls      TEXT NOT NULL CHECK (json_type(calls) = 'array'),
    UNIQUE (ts, symbol)
) STRICT;

CREATE TABLE signal_outcomes (
    signal_id   INTEGER NOT NULL REFERENCES signals (id),
    horizon_s   REAL NOT NULL CHECK (horizon_s > 0),
    price_after REAL CHECK (price_after IS NULL OR price_after > 0),
    price_ts    REAL CHECK ((price_ts IS NULL) = (price_after IS NULL)),
    PRIMARY KEY (signal_id, horizon_s)
) STRICT, WITHOUT ROWID;
"""

# Live mode rests stop orders at the venue (protective stops, engine/trading/protection.py) and
# may send take-profit orders: orders.order_type gains 'stop' and 'take_profit', which have no
# limit price. Rebuilt as v3 rebuilt `fills`; `fills` references `orders`, so it is rebuilt
# too, referencing the new table (renamed into place, SQLite points the reference at
# `orders`), and it is dropped first, so that dropping the old `orders` deletes no referenced
# row. Every row keeps its rowid; columns, order and every other constraint are v1's.
_V9 = """
CREATE TABLE orders_v9 (
    client_order_id TEXT NOT NULL PRIMARY KEY CHECK (client_order_id <> ''),
    venue_order_id  TEXT NOT NULL,
    symbol          TEXT NOT NULL CHECK (symbol <> ''),
    side            TEXT NOT NULL CHECK (side IN ('buy', 'sell')),
    quantity        REAL NOT NULL CHECK (quantity >= 0),
    filled_quantity REAL NOT NULL CHECK (filled_quantity >= 0),
    order_type      TEXT NOT NULL CHECK (order_type IN ('market', 'limit', 'stop', 'take_profit')),
    limit_price     REAL CHECK (limit_price > 0 OR (limit_price IS NULL AND order_type <> 'limit')),
    status          TEXT NOT NULL CHECK (status IN ('open', 'filled', 'cancelled', 'rejected')),
    reduce_only     INTEGER NOT NULL CHECK (reduce_only IN (0, 1)),
    reason          TEXT NOT NULL,
    created_at      REAL NOT NULL,
    position_id     TEXT,
    version         TEXT
) STRICT;

INSERT INTO orders_v9 (rowid, client_order_id, venue_order_id, symbol, side, quantity, filled_quantity, order_type,
                       limit_price, status, reduce_only, reason, created_at, position_id, version)
SELECT rowid, client_order_id, venue_order_id, symbol, side, quantity, filled_quantity, order_type,
       limit_price, status, reduce_only, reason, created_at, position_id, version FROM orders;

CREATE TABLE fills_v9 (
    fill_id         TEXT NOT NULL PRIMARY KEY CHECK (fill_id <> ''),
    client_order_id TEXT NOT NULL REFERENCES orders_v9 (client_order_id),
    symbol          TEXT NOT NULL CHECK (symbol <> ''),
    side            TEXT NOT NULL CHECK (side IN ('buy', 'sell')),
    quantity        REAL NOT NULL CHECK (quantity > 0),
    price           REAL NOT NULL CHECK (price > 0),
    fee             REAL NOT NULL,
    liquidity       TEXT NOT NULL CHECK (liquidity IN ('maker', 'taker', 'liquidation')),
    ts              REAL NOT NULL
) STRICT;

INSERT INTO fills_v9 (rowid, fill_id, client_order_id, symbol, side, quantity, price, fee, liquidity, ts)
SELECT rowid, fill_id, client_order_id, symbol, side, quantity, price, fee, liquidity, ts FROM fills;

DROP TABLE fills;

DROP TABLE orders;

ALTER TABLE orders_v9 RENAME TO orders;

ALTER TABLE fills_v9 RENAME TO fills;

CREATE INDEX orders_by_position ON orders (position_id);
CREATE INDEX fills_by_order ON fills (client_order_id);
CREATE INDEX fills_by_ts ON fills (ts);
"""

MIGRATIONS: tuple[tuple[int, str, str], ...] = (
    (1, "initial schema: rule versions, orders, fills, funding, positions, trades, cursors, hook runs", _V1),
    (2, "blobs: runner state (pending orders, a simulated broker) committed with each step", _V2),
    (3, "fills.liquidity may be 'liquidation' (table rebuilt); earlier liquidation fills relabelled", _V3),
    (4, "outbox and log offsets (exactly-once logs); int_fields keep integral values' type", _V4),
    (5, "the running bot: task runs, schedule, state changes, overrides, heartbeats, reloads, status", _V5),
    (6, "reloads: outcomes refused and failed; the reason (what asked for the reload)", _V6),
    (7, "version store: history of live and proposed versions, each version's canonical content", _V7),
    (
        SIGNALS_SCHEMA,
        "signal resolution: every signal once (components per rule version), its outcome per horizon",
        _V8,
    ),
    (9, "orders.order_type may be 'stop' or 'take_profit' (live mode's resting orders; orders and fills rebuilt)", _V9),
)

_BOOTSTRAP = """CREATE TABLE IF NOT EXISTS schema_migrations (
    version     INTEGER PRIMARY KEY,
    applied_at  REAL NOT NULL,
    description TEXT NOT NULL
)"""


class Logs(Protocol):
    """The logs a store's outbox delivers to (adapters/store/outbox.py ``LogFiles``)."""

    names: frozenset[str]

    def lengths(self) -> dict[str, int]: ...

    def restore(self, offsets: Mapping[str, int]) -> None: ...

    def deliver(self, lines: Sequence[tuple[str, str]]) -> None: ...

    def archive(self, day: str) -> list[str]: ...

    def empty(self, names: Sequence[str]) -> None: ...


# ------------------------------------------------------------------ rows ⇄ dataclasses


@dataclass(frozen=True, slots=True)
class RuleVersion:
    version_id: str
    created_at: float
    author: str  # human | learner:<name>
    parent: str | None
    message: str


@dataclass(frozen=True, slots=True)
class HookRun:
    trade_id: str
    hook: str
    status: str  # ok | failed
    error: str
    ran_at: float  # the last attempt
    attempts: int


@dataclass(frozen=True)
class _Table:
    """How one dataclass maps onto one table: columns are its field names, in order."""

    name: str
    cls: type
    key: str
    order_by: str
    json_decoders: Mapping[str, Callable] = field(default_factory=dict)
    bools: frozenset = frozenset()
    keeps_ints: bool = False  # a last column `int_fields` names the float fields that held an int

    @cached_property
    def columns(self) -> tuple[str, ...]:
        names = tuple(f.name for f in fields(self.cls))
        return (*names, "int_fields") if self.keeps_ints else names

    @cached_property
    def types(self) -> dict[str, str]:
        """Field annotations as text (``float | None``), whether or not they were postponed."""
        return {
            f.name: f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
            for f in fields(self.cls)
        }

    def encode(self, obj: Any) -> tuple:
        if not isinstance(obj, self.cls):
            raise TypeError(f"expected {self.cls.__name__}, got {type(obj).__name__}")
        row = tuple(self._encode(name, getattr(obj, name)) for name in self.types)
        if not self.keeps_ints:
            return row
        ints = [
            name
            for name, annotation in self.types.items()
            if annotation.partition(" | ")[0] == "float" and type(getattr(obj, name)) is int
        ]
        return (*row, json.dumps(ints, separators=(",", ":")))

    def _encode(self, name: str, value: Any) -> Any:
        if name in self.json_decoders:
            return _json(name, value)
        _check_type(name, self.types[name], value)
        if name in self.bools:
            return int(value)
        return value

    def decode(self, row: Sequence) -> Any:
        values = {}
        for name, value in zip(self.columns, row):
            if name in self.json_decoders:
                value = self.json_decoders[name](json.loads(value))
            elif name in self.bools:
                value = bool(value)
            values[name] = value
        if self.keeps_ints:
            for name in json.loads(values.pop("int_fields")):
                values[name] = int(values[name])  # stored exactly: an int within float's range
        return self.cls(**values)


_SCALARS = {"float": (int, float), "int": (int,), "str": (str,), "bool": (bool,)}


def _check_type(name: str, annotation: str, value: Any) -> None:
    """The dataclass annotation, enforced: SQLite would coerce '12.5' to 12.5 or drop NaN to NULL."""
    base, _, optional = annotation.partition(" | ")
    if value is None and optional == "None":
        return
    accepted = _SCALARS.get(base)
    if accepted is None:
        return  # not a scalar we know: the table's constraints decide
    if not isinstance(value, accepted) or (isinstance(value, bool) and base != "bool"):
        raise TypeError(f"{name} must be {annotation}, got {type(value).__name__} {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{name} is {value!r}; only finite numbers are stored")


def _json(name: str, value: Any) -> str:
    """Tuples as JSON arrays, mappings as objects; refuses what would not come back equal."""
    if isinstance(value, Mapping):
        if not all(isinstance(k, str) for k in value):
            raise ValueError(f"{name} keys must be strings")
        value = dict(value)
    elif isinstance(value, (tuple, list)):
        value = list(value)
    else:
        raise TypeError(f"{name} must be a tuple or a mapping, got {type(value).__name__}")
    try:
        return json.dumps(value, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} is not storable as JSON: {exc}") from exc


ORDERS = _Table(
    "orders", OrderState, "client_order_id", "created_at, client_order_id", bools=frozenset({"reduce_only"})
)
FILLS = _Table("fills", Fill, "fill_id", "ts, fill_id")
FUNDING = _Table("funding_payments", FundingPayment, "payment_id", "ts, payment_id")
POSITIONS = _Table(
    "positions",
    OpenPosition,
    "id",
    "opened_at, id",
    json_decoders=MappingProxyType({"ladder_done": tuple, "attribution": MappingProxyType}),
    keeps_ints=True,
)
TRADES = _Table(
    "trades",
    TradeRecord,
    "id",
    "exit_ts, id",
    json_decoders=MappingProxyType({"attribution": MappingProxyType}),
    keeps_ints=True,
)
RULE_VERSIONS = _Table("rule_versions", RuleVersion, "version_id", "created_at, version_id")
HOOK_RUNS = _Table("hook_runs", HookRun, "trade_id", "trade_id, hook")
# the version store (migration 7); seq is given by SQLite, so inserts name the other columns
VERSIONS = _Table(
    "version_history",
    VersionRecord,
    "seq",
    "seq",
    json_decoders=MappingProxyType({"metrics": MappingProxyType, "numbers": MappingProxyType}),
)
_VERSION_COLUMNS = VERSIONS.columns[1:]
_INSERT_VERSION = (
    f"INSERT INTO version_history ({', '.join(_VERSION_COLUMNS)}) VALUES ({', '.join('?' * len(_VERSION_COLUMNS))})"
)
# the running bot's records (migration 5); appended tables keep their order in `seq`
TASK_RUNS = _Table("task_runs", TaskRun, "job_id", "seq")
SCHEDULE = _Table("task_schedule", ScheduleEntry, "job_id", "next_ts, job_id")
STATE_CHANGES = _Table("state_changes", StateChange, "state", "seq")
OVERRIDES = _Table("overrides", Override, "id", "set_ts, id")
RELOADS = _Table("reloads", Reload, "ts", "seq", json_decoders=MappingProxyType({"errors": tuple}))
STATUS = _Table("bot_status", BotStatus, "pid", "id", json_decoders=MappingProxyType({"prices": MappingProxyType}))


def _insert_sql(table: _Table, extra: Sequence[str] = ()) -> str:
    cols = (*table.columns, *extra)
    return f"INSERT INTO {table.name} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"


def _upsert_sql(table: _Table, extra: Sequence[str] = ()) -> str:
    sets = [f"{c} = excluded.{c}" for c in table.columns if c != table.key]
    sets += [f"{c} = COALESCE(excluded.{c}, {table.name}.{c})" for c in extra]
    return f"{_insert_sql(table, extra)} ON CONFLICT ({table.key}) DO UPDATE SET {', '.join(sets)}"


def _select_sql(table: _Table, where: str = "") -> str:
    return f"SELECT {', '.join(table.columns)} FROM {table.name} {where} ORDER BY {table.order_by}"


_UPSERT_ORDER = _upsert_sql(ORDERS, ("version",))
# a database before migration 4 (a store opened with fewer migrations) has no int_fields
_BEFORE_V4 = {id(t): replace(t, keeps_ints=False) for t in (POSITIONS, TRADES)}
_INSERT_RULE_VERSION = f"{_insert_sql(RULE_VERSIONS)} ON CONFLICT (version_id) DO NOTHING"
_UPSERT_HOOK_RUN = (
    f"{_insert_sql(HOOK_RUNS)} ON CONFLICT (trade_id, hook) DO UPDATE SET status = excluded.status, "
    "error = excluded.error, ran_at = excluded.ran_at, attempts = hook_runs.attempts + 1"
)
_INSERT_HOOK_RUN = f"{_insert_sql(HOOK_RUNS)} ON CONFLICT (trade_id, hook) DO NOTHING"
_UPSERT_OFFSET = (
    "INSERT INTO log_offsets (log, length) VALUES (?, ?) ON CONFLICT (log) DO UPDATE SET length = excluded.length"
)
_INSERT_OVERRIDE = f"{_insert_sql(OVERRIDES)} ON CONFLICT (id) DO NOTHING"
_LIFT_OVERRIDE = "UPDATE overrides SET lifted_ts = ?, lifted_reason = ? WHERE id = ? AND lifted_ts IS NULL"
_UPSERT_SCHEDULE = _upsert_sql(SCHEDULE)
_UPSERT_HEARTBEAT = "INSERT INTO heartbeats (name, ts) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET ts = excluded.ts"
_UPSERT_STATUS = (
    f"INSERT INTO bot_status (id, {', '.join(STATUS.columns)}) VALUES (1, {', '.join('?' * len(STATUS.columns))}) "
    f"ON CONFLICT (id) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in STATUS.columns)}"
)
_INSERT_OUTBOX = "INSERT INTO outbox (log, line) VALUES (?, ?)"
_UPSERT_CURSOR = (
    "INSERT INTO cursors (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value"
)

# A step's signal rows go in one statement per table (a few signals and a few dozen outcomes a
# step; one statement, not one per row), at most _ROWS_PER_STATEMENT rows each.
_ROWS_PER_STATEMENT = 500
_INSERT_SIGNAL_SETS = (
    "INSERT INTO signal_sets (id, version, components) VALUES {rows} ON CONFLICT (id) DO NOTHING",
    "(?, ?, ?)",
)
_INSERT_SIGNALS = (
    "INSERT INTO signals (ts, symbol, direction, conviction, outcome, blocker, price, set_id, calls) "
    "VALUES {rows} ON CONFLICT (ts, symbol) DO NOTHING",
    "(?, ?, ?, ?, ?, ?, ?, ?, ?)",
)
_INSERT_SIGNAL_OUTCOMES = (
    "INSERT INTO signal_outcomes (signal_id, horizon_s, price_after, price_ts) "
    "SELECT s.id, v.column1, v.column2, v.column3 FROM (VALUES {rows}) v "
    "JOIN signals s ON s.ts = v.column4 AND s.symbol = v.column5 WHERE true "
    "ON CONFLICT (signal_id, horizon_s) DO NOTHING",
    "(?, ?, ?, ?, ?)",
)
_SIGNAL_COLUMNS = (
    "s.id, s.ts, s.symbol, s.direction, s.conviction, s.outcome, s.blocker, s.price, s.calls, t.version, t.components"
)
_SIGNAL_FROM = "signals s JOIN signal_sets t ON t.id = s.set_id"


def _signal_set(signal: Signal) -> tuple[tuple, int, str, str]:
    """(key, id, version, components JSON) of the signal's component set: the components' ids and
    weights under its rule version; the id is 60 bits of the set's hash, the same in any store."""
    key = (signal.version, tuple((c.component, c.weight) for c in signal.components))
    text = json.dumps([[c, w] for c, w in key[1]], allow_nan=False, separators=(",", ":"))
    digest = hashlib.sha256(f"{signal.version}\n{text}".encode()).hexdigest()
    return key, int(digest[:15], 16), signal.version, text


def _signal_row(signal: Signal, set_id: int) -> tuple:
    if not isinstance(signal, Signal):
        raise TypeError(f"signals holds resolution.Signal, got {type(signal).__name__}")
    for name in ("ts", "price"):
        _check_type(f"signal {name}", "float", getattr(signal, name))
    calls = [_call(c) for c in signal.components]
    text = json.dumps(calls, allow_nan=False, separators=(",", ":"))
    return (
        signal.ts,
        signal.symbol,
        signal.direction,
        signal.conviction,
        signal.outcome,
        signal.blocker,
        signal.price,
        set_id,
        text,
    )


def _call(call: ComponentCall) -> Any:
    """One component's call as stored, compactly: the confidence signed by the direction (+
    LONG, − SHORT; 0 a NEUTRAL call without confidence, most of them), or [sign, confidence]
    where that would be ambiguous (a directional call of confidence 0, a NEUTRAL one with some)."""
    sign = direction_sign(call.direction)
    confidence = call.confidence
    if (sign == 0) == (confidence == 0) and (sign == 0 or confidence > 0):
        return 0 if sign == 0 else sign * confidence
    return [sign, confidence]


def _uncall(stored: Any) -> tuple[str, float]:
    """(direction, confidence) of a stored call (``_call``)."""
    if isinstance(stored, list):
        return direction_named(stored[0]), stored[1]
    if stored == 0:
        return direction_named(0), 0.0
    return direction_named(1 if stored > 0 else -1), abs(stored)


def _outcome_row(resolution: Resolution) -> tuple:
    if not isinstance(resolution, Resolution):
        raise TypeError(f"resolutions holds resolution.Resolution, got {type(resolution).__name__}")
    _check_type("horizon_s", "float", resolution.horizon_s)
    _check_type("price_after", "float | None", resolution.price_after)
    _check_type("price_ts", "float | None", resolution.price_ts)
    signal = resolution.signal
    return (resolution.horizon_s, resolution.price_after, resolution.price_ts, signal.ts, signal.symbol)


class _SignalDecoder:
    """Stored signals back as :class:`Signal` objects, each component set decoded once."""

    def __init__(self) -> None:
        self._sets: dict[str, tuple[tuple[str, float], ...]] = {}

    def __call__(self, row: Sequence) -> Signal:
        _, ts, symbol, direction, conviction, outcome, blocker, price, calls, version, components = row
        named = self._sets.get(components)
        if named is None:
            named = self._sets[components] = tuple((c, w) for c, w in json.loads(components))
        made = json.loads(calls)
        if len(made) != len(named):
            raise StateError(f"signals {symbol} at {ts}: {len(made)} calls for {len(named)} components")
        return Signal(
            ts=ts,
            symbol=symbol,
            direction=direction,
            conviction=conviction,
            outcome=outcome,
            blocker=blocker,
            version=version,
            price=price,
            components=tuple(ComponentCall(c, *_uncall(call), w) for (c, w), call in zip(named, made)),
        )


_BAD_INPUT = (
    sqlite3.IntegrityError,
    sqlite3.ProgrammingError,
    sqlite3.InterfaceError,
    TypeError,
    ValueError,
    OverflowError,
)


def _code_for(exc: BaseException) -> str:
    return CHANGE_REFUSED if isinstance(exc, _BAD_INPUT) else STORE_FAILED


def _statements(script: str) -> Iterator[str]:
    """Split a migration into statements (trigger bodies keep their inner semicolons)."""
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            yield pending.strip()
            pending = ""
    leftover = [ln for ln in pending.splitlines() if ln.strip() and not ln.strip().startswith("--")]
    if leftover:
        raise ValueError(f"incomplete SQL statement in migration: {leftover[0][:80]!r}")


# ------------------------------------------------------------------ reading


class Reads:
    """The queries a store and a read-only view (adapters/store/reader.py) share: subclasses
    give ``_read`` (one query, its errors as StateError) and the positions' table form."""

    _positions: _Table
    _trades: _Table

    def _read(self, query: Callable[[sqlite3.Connection], Any]) -> Any:
        raise NotImplementedError

    def _settle(self) -> None:
        """Write what waits to be written before a read of the tables it is kept for (a
        store's open group keeps their rows to its end; a read-only view has none)."""

    def _all(self, table: _Table, where: str = "", params: Sequence = ()) -> list:
        return self._read(lambda db: [table.decode(r) for r in db.execute(_select_sql(table, where), params)])

    def open_positions(self) -> list[OpenPosition]:
        return self._all(self._positions)

    def cursor(self, name: str) -> float | None:
        self._settle()
        row = self._read(lambda db: db.execute("SELECT value FROM cursors WHERE name = ?", (name,)).fetchone())
        return None if row is None else row[0]

    def blob(self, name: str) -> str | None:
        """The JSON text stored under ``name`` by the last transition that set it."""
        row = self._read(lambda db: db.execute("SELECT value FROM blobs WHERE name = ?", (name,)).fetchone())
        return None if row is None else row[0]

    # the running bot's records (migration 5)

    def _last(self, table: _Table, limit: int, where: str = "", params: Sequence = ()) -> list:
        """The last ``limit`` rows of an appended table, oldest first."""
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            raise ValueError(f"limit must be a whole number >= 0, got {limit!r}")
        sql = f"SELECT {', '.join(table.columns)} FROM {table.name} {where} ORDER BY seq DESC LIMIT ?"
        rows = self._read(lambda db: db.execute(sql, (*params, limit)).fetchall())
        return [table.decode(r) for r in reversed(rows)]

    def task_runs(self, limit: int = 100, task: str | None = None) -> list[TaskRun]:
        """The last ``limit`` task runs (of ``task`` only, when given), newest last."""
        if task is None:
            return self._last(TASK_RUNS, limit)
        return self._last(TASK_RUNS, limit, "WHERE task = ?", (task,))

    def last_runs(self) -> dict[str, TaskRun]:
        """Each task's last run, by task name."""
        where = "WHERE seq IN (SELECT max(seq) FROM task_runs GROUP BY task)"
        return {run.task: run for run in self._all(TASK_RUNS, where)}

    def schedule(self) -> list[ScheduleEntry]:
        """Every scheduled job's next and last run, soonest first."""
        self._settle()
        return self._all(SCHEDULE)

    def state_changes(self, since: float | None = None, limit: int | None = None) -> list[StateChange]:
        """The trading-state transitions (from ``since`` on, or the last ``limit``), oldest first."""
        if limit is not None:
            return self._last(STATE_CHANGES, limit)
        if since is None:
            return self._all(STATE_CHANGES)
        return self._all(STATE_CHANGES, "WHERE ts >= ?", (since,))

    def active_overrides(self, now: float) -> list[Override]:
        """Overrides neither lifted nor expired at ``now``, earliest set first."""
        return self._all(OVERRIDES, "WHERE lifted_ts IS NULL AND (until IS NULL OR until > ?)", (now,))

    def unlifted_overrides(self) -> list[Override]:
        """Overrides not lifted yet, those past their ``until`` included (expired ones hold
        nothing, but stay unlifted until the expire_manual_overrides task records it), earliest set first."""
        return self._all(OVERRIDES, "WHERE lifted_ts IS NULL")

    def has_override(self, override_id: str) -> bool:
        """Whether an override with this id was ever recorded (lifted or not)."""
        row = self._read(lambda db: db.execute("SELECT 1 FROM overrides WHERE id = ?", (override_id,)).fetchone())
        return row is not None

    def heartbeats(self) -> dict[str, float]:
        """Each subsystem's last beat."""
        self._settle()
        return dict(self._read(lambda db: db.execute("SELECT name, ts FROM heartbeats ORDER BY name").fetchall()))

    def reloads(self, limit: int = 20) -> list[Reload]:
        """The last ``limit`` reload attempts, newest last."""
        return self._last(RELOADS, limit)

    def bot_status(self) -> BotStatus | None:
        """The running bot's status row at its last cycle; None before a bot ever ran."""
        self._settle()
        rows = self._all(STATUS)
        return rows[0] if rows else None

    # the version store (migration 7)

    def version_history(self, limit: int | None = None) -> list[VersionRecord]:
        """The history of rule-set versions, newest first (the last ``limit`` entries)."""
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
            raise ValueError(f"limit must be a whole number >= 0, got {limit!r}")
        sql = f"SELECT {', '.join(VERSIONS.columns)} FROM version_history ORDER BY seq DESC"
        params: tuple = ()
        if limit is not None:
            sql, params = sql + " LIMIT ?", (limit,)
        return [VERSIONS.decode(r) for r in self._read(lambda db: db.execute(sql, params).fetchall())]

    def live_version(self) -> VersionRecord | None:
        """The entry that made the current version live (the newest not proposed or rejected)."""
        where = "WHERE promotion IS NULL OR promotion = 'live' ORDER BY seq DESC LIMIT 1"
        sql = f"SELECT {', '.join(VERSIONS.columns)} FROM version_history {where}"
        row = self._read(lambda db: db.execute(sql).fetchone())
        return None if row is None else VERSIONS.decode(row)

    def version_content(self, version_id: str) -> dict | None:
        """The canonical content stored for ``version_id``; None when none was kept."""
        sql = "SELECT content FROM version_contents WHERE version_id = ?"
        row = self._read(lambda db: db.execute(sql, (version_id,)).fetchone())
        return None if row is None else json.loads(row[0])

    def version_ids(self, prefix: str = "") -> list[str]:
        """Every version id in the history (starting with ``prefix``), sorted."""
        pattern = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        sql = "SELECT DISTINCT version_id FROM version_history WHERE version_id LIKE ? ESCAPE '\\' ORDER BY version_id"
        return [r[0] for r in self._read(lambda db: db.execute(sql, (pattern,)).fetchall())]

    # signal resolution (migration SIGNALS_SCHEMA)

    def _has_signals(self) -> bool:
        return bool(
            self._read(lambda db: db.execute("SELECT 1 FROM sqlite_master WHERE name = 'signal_outcomes'").fetchone())
        )

    def pending_signals(self, since: float) -> list[tuple[Signal, tuple[Resolution, ...]]]:
        """The signals made after ``since``, each with its resolutions so far (unresolvable ones
        included), oldest first: what a resumed run's resolver starts from
        (``engine.learners.resolution.Resolver(horizons, pending)``)."""
        if not self._has_signals():
            return []
        decode = _SignalDecoder()

        def query(db: sqlite3.Connection) -> list[tuple[Signal, tuple[Resolution, ...]]]:
            done: dict[int, list[tuple[float, float | None, float | None]]] = {}
            for signal_id, *values in db.execute(
                "SELECT o.signal_id, o.horizon_s, o.price_after, o.price_ts FROM signal_outcomes o "
                "JOIN signals s ON s.id = o.signal_id WHERE s.ts > ? ORDER BY o.signal_id, o.horizon_s",
                (since,),
            ):
                done.setdefault(signal_id, []).append((values[0], values[1], values[2]))
            rows = db.execute(
                f"SELECT {_SIGNAL_COLUMNS} FROM {_SIGNAL_FROM} WHERE s.ts > ? ORDER BY s.ts, s.symbol", (since,)
            )
            out = []
            for row in rows:
                signal = decode(row)
                out.append((signal, tuple(Resolution(signal, *values) for values in done.get(row[0], ()))))
            return out

        return self._read(query)

    def learning_data(self, since: float, until: float) -> LearningData:
        """What a learning cycle over [``since``, ``until``) reads: the resolved outcomes of the
        signals made in it whose price was seen by ``until`` (a walk-forward never reads a
        price from its future; unresolvable ones are left out, ``signal_counts`` counts them),
        and the trades closed in it; oldest first."""
        for name, value in (("since", since), ("until", until)):
            _check_type(name, "float", value)
        if until < since:
            raise ValueError(f"learning_data: until ({until}) is before since ({since})")
        decode = _SignalDecoder()

        def query(db: sqlite3.Connection) -> tuple[SignalOutcome, ...]:
            made: dict[int, Signal] = {}
            out = []
            sql = (
                f"SELECT {_SIGNAL_COLUMNS}, o.horizon_s, o.price_after FROM signal_outcomes o "
                "JOIN signals s ON s.id = o.signal_id JOIN signal_sets t ON t.id = s.set_id "
                "WHERE s.ts >= ? AND s.ts < ? AND o.price_ts IS NOT NULL AND o.price_ts <= ? "
                "ORDER BY s.ts, s.symbol, o.horizon_s"
            )
            for row in db.execute(sql, (since, until, until)):
                signal = made.get(row[0])
                if signal is None:
                    signal = made[row[0]] = decode(row[:11])
                out.append(signal.resolved(row[11], row[12]))
            return tuple(out)

        outcomes = self._read(query) if self._has_signals() else ()
        trades = self._all(self._trades, "WHERE exit_ts >= ? AND exit_ts < ?", (since, until))
        return LearningData(since, until, outcomes, tuple(ClosedTrade.of(t) for t in trades))

    def signal_counts(self, since: float, until: float) -> dict[str, int]:
        """Over the signals made in [``since``, ``until``): how many there are and their
        (signal, horizon) pairs resolved and unresolvable by ``until``."""
        if not self._has_signals():
            return {"signals": 0, "resolved": 0, "unresolvable": 0}

        def query(db: sqlite3.Connection) -> dict[str, int]:
            signals = db.execute("SELECT count(*) FROM signals WHERE ts >= ? AND ts < ?", (since, until)).fetchone()[0]
            resolved, unresolvable = db.execute(
                "SELECT count(o.price_after), count(*) - count(o.price_after) FROM signal_outcomes o "
                "JOIN signals s ON s.id = o.signal_id WHERE s.ts >= ? AND s.ts < ? "
                "AND (o.price_ts IS NULL OR o.price_ts <= ?)",
                (since, until, until),
            ).fetchone()
            return {"signals": signals, "resolved": resolved, "unresolvable": unresolvable}

        return self._read(query)


# ------------------------------------------------------------------ the store


class StateStore(Reads):
    """One SQLite database; implements :class:`engine.ports.StatePort`. One per process."""

    def __init__(self, path: str | Path, *, migrations: Sequence[tuple[int, str, str]] = MIGRATIONS):
        if sqlite3.sqlite_version_info < MIN_SQLITE:
            raise StateError(
                f"SQLite {'.'.join(map(str, MIN_SQLITE))} or newer is needed (STRICT tables); "
                f"this Python links {sqlite3.sqlite_version}"
            )
        self.path = Path(path)
        self._migrations = tuple(sorted(migrations))
        self._conn: sqlite3.Connection | None = None
        self._logs: Logs | None = None  # attach_logs: the logs the outbox delivers to
        self._unsettled = False  # the outbox holds rows already delivered, their lengths not yet recorded
        self._delivering = False  # a delivery started and did not finish: the logs' state is unknown
        self._group: list[tuple[str, str]] | None = None  # group(): the open group's log lines
        self._group_blobs: dict[str, Any] = {}  # group(): each blob's last value, written at its end
        # group(): the last value of each row only the last value of counts (cursors, heartbeats,
        # the schedule, the bot's status): (statement, key) → (table, parameters), written at its end
        self._group_rows: dict[tuple[str, Any], tuple[str, Sequence]] = {}
        self._sets: dict[tuple, tuple[int, str, str]] = {}  # a signal's component set → its row (computed once)
        memory = str(path) == ":memory:"
        try:
            if not memory:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            # timeout= is SQLite's busy timeout; isolation_level=None: we issue BEGIN/COMMIT ourselves
            self._conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S, isolation_level=None)
            self._refuse_newer(self._stored_version())
            self.journal_mode = self._conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            self._conn.execute("PRAGMA synchronous = FULL")
            self._conn.execute("PRAGMA foreign_keys = ON")
            self._migrate()
            self._positions, self._trades = POSITIONS, TRADES
            if self._stored_version() < 4:
                self._positions, self._trades = _BEFORE_V4[id(POSITIONS)], _BEFORE_V4[id(TRADES)]
            # whether the runner resolves its signals into this store (engine/learners/resolution.py)
            self.keeps_signals = self._stored_version() >= SIGNALS_SCHEMA
            logger.debug("opened the state database %s (journal %s)", self.path, self.journal_mode)
        except BaseException as exc:
            self.close()
            if isinstance(exc, StateError) or not isinstance(exc, Exception):
                raise
            raise StateError(f"cannot open the state database {self.path}: {exc}") from exc

    # ---------------------------------------------------------- migrations

    @property
    def known_version(self) -> int:
        return self._migrations[-1][0] if self._migrations else 0

    def schema_version(self) -> int:
        """The newest migration applied to this database."""
        return self._read(lambda db: self._stored_version())

    def _stored_version(self) -> int:
        """Read-only: 0 for a fresh (or foreign) file."""
        has = self._db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
        if has.fetchone() is None:
            return 0
        return self._db.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()[0]

    def _refuse_newer(self, stored: int) -> None:
        if stored > self.known_version:
            raise StateError(
                f"the state database {self.path} has schema version {stored}, newer than this rulebot "
                f"knows ({self.known_version}); upgrade rulebot or use another file. "
                f"The file was not modified.",
                NEWER_SCHEMA,
            )

    def _migrate(self) -> None:
        """Apply each pending migration in its own transaction; re-checks under the write lock."""
        if self._stored_version() >= self.known_version:
            return  # the usual case: no write lock taken
        for version, description, script in self._migrations:
            try:
                with self._transaction():
                    self._db.execute(_BOOTSTRAP)
                    stored = self._stored_version()
                    self._refuse_newer(stored)
                    if stored >= version:
                        continue
                    logger.info("migrating %s to schema version %d: %s", self.path, version, description)
                    for statement in _statements(script):
                        self._db.execute(statement)
                    self._db.execute(
                        "INSERT INTO schema_migrations (version, applied_at, description) VALUES (?, ?, ?)",
                        (version, time.time(), description),
                    )
            except StateError:
                raise
            except Exception as exc:
                raise StateError(
                    f"migration {version} ({description}) of {self.path} failed: {exc}", MIGRATION_FAILED
                ) from exc

    # ---------------------------------------------------------- plumbing

    @property
    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StateError(f"the state store {self.path} is closed")
        return self._conn

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """BEGIN IMMEDIATE … COMMIT; any exception rolls everything back and propagates."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            yield
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                # the original error matters more; SQLite rolls back on its own
                with contextlib.suppress(sqlite3.Error):
                    db.execute("ROLLBACK")
            raise

    @contextmanager
    def _writing(self, what: str) -> Iterator[None]:
        """A write transaction whose failures become StateError (KeyboardInterrupt stays itself)."""
        try:
            with self._transaction():
                yield
        except StateError:
            raise
        except Exception as exc:
            raise StateError(f"{what} failed, nothing written: {exc}", _code_for(exc)) from exc

    def _item(self, table: str, key: Any, sql: str, params: Sequence) -> sqlite3.Cursor:
        """Execute one row's statement; errors name the table and the row's id."""
        try:
            return self._db.execute(sql, params)
        except sqlite3.Error as exc:
            raise StateError(f"{table} {key!r} refused: {exc}", _code_for(exc)) from exc

    def _items(self, table: str, sql: str, rows: Sequence[tuple]) -> None:
        """Execute one statement for many rows (one call: a step logs several records); on an
        error, row by row again, so that the error names the row (``_item``; the transaction
        is rolled back by the caller either way)."""
        try:
            self._db.executemany(sql, rows)
        except sqlite3.Error:
            for row in rows:
                self._item(table, row[0], sql, row)
            raise

    def _rows(self, table: str, sql: tuple[str, str], rows: Sequence[tuple]) -> None:
        """Many rows in one statement (``sql``: the statement with ``{rows}``, one row's
        placeholders); an error names the table and the row (``_item``)."""
        statement, one = sql
        for start in range(0, len(rows), _ROWS_PER_STATEMENT):
            chunk = rows[start : start + _ROWS_PER_STATEMENT]
            params = [value for row in chunk for value in row]
            try:
                self._db.execute(statement.format(rows=", ".join([one] * len(chunk))), params)
            except sqlite3.Error:
                for row in chunk:  # again row by row, so that the error names the row
                    self._item(table, row[:2], statement.format(rows=one), row)
                raise

    def _encode(self, table: _Table, obj: Any, index: int) -> tuple:
        try:
            return table.encode(obj)
        except (TypeError, ValueError) as exc:
            key = getattr(obj, table.key, f"#{index}")
            raise StateError(f"{table.name} {key!r} refused: {exc}", CHANGE_REFUSED) from exc

    def _read(self, query: Callable[[sqlite3.Connection], Any]) -> Any:
        try:
            return query(self._db)
        except StateError:
            raise
        except sqlite3.Error as exc:
            raise StateError(f"reading {self.path} failed: {exc}") from exc

    # ---------------------------------------------------------- writing

    def apply(self, transition: Transition, *, version: str | None = None) -> None:
        """Write one lifecycle step atomically; re-applying the same transition changes nothing.

        ``version`` (the rule version that decided the step) is stamped on the orders it
        upserts; an order keeps its earlier version when it is upserted again without one.
        """
        if not isinstance(transition, Transition):
            raise StateError(f"apply() needs a Transition, got {type(transition).__name__}", CHANGE_REFUSED)
        if self._delivering:
            raise StateError(
                f"the last delivery of log records from {self.path} did not finish; nothing more is written "
                f"until a restart delivers them again"
            )
        if self._group is not None:  # inside group(): the group's transaction holds it; delivered at its end
            self._group.extend(self._write_transition(transition, version))
            return
        with self._writing("applying the transition"):
            lines = self._write_transition(transition, version)
        self._unsettled = False  # committed: what was delivered before is recorded
        self._deliver(lines)

    def _write_transition(self, transition: Transition, version: str | None) -> list[tuple[str, str]]:
        """The statements of one transition (inside a transaction); returns its log lines."""
        closing = self._closed_ids(transition.closed_positions)
        # before the cursors move: a step already taken adds no records
        fresh = bool(transition.records or transition.bot) and self._fresh(transition)
        lines = self._outbox_lines(transition) if fresh else []
        if transition.bot is not None and fresh:
            lines += self._write_bot(transition.bot)
        self._write_orders(transition, version)
        self._record_ledger(transition)
        self._write_positions(transition.positions, closing)
        self._record_trades(transition.trades)
        self._record_hook_runs(transition.hook_runs)
        self._record_signals(transition)
        self._write_bookmarks(transition)
        self._fill_outbox(lines)
        return lines

    def _record_signals(self, transition: Transition) -> None:
        """The step's new signals, inserted once by (ts, symbol), their component sets once by
        hash; then its resolutions, once by (signal, horizon). A resolution must name a stored
        signal (of this step or an earlier one)."""
        if not (transition.signals or transition.resolutions):
            return
        if not self.keeps_signals:
            raise ValueError(
                f"signals and resolutions need the signal tables (schema version {SIGNALS_SCHEMA}); "
                f"this database has {self._stored_version()}"
            )
        rows: list[tuple] = []
        sets: dict[tuple, tuple[int, str, str]] = {}
        for signal in transition.signals:
            key = (signal.version, tuple((c.component, c.weight) for c in signal.components))
            made = sets.get(key) or self._sets.get(key)
            if made is None:
                made = self._sets[key] = _signal_set(signal)[1:]
            sets[key] = made
            rows.append(_signal_row(signal, made[0]))
        self._rows("signal_sets", _INSERT_SIGNAL_SETS, list(sets.values()))
        self._rows("signals", _INSERT_SIGNALS, rows)
        outcomes = [_outcome_row(r) for r in transition.resolutions]
        before = self._db.total_changes
        self._rows("signal_outcomes", _INSERT_SIGNAL_OUTCOMES, outcomes)
        if self._db.total_changes - before < len(outcomes):  # some already stored, or a signal unknown
            for row in outcomes:
                known = "SELECT 1 FROM signals WHERE ts = ? AND symbol = ?"
                if self._db.execute(known, row[3:]).fetchone() is None:
                    raise StateError(
                        f"signal_outcomes refused: no stored signal of {row[4]!r} at {row[3]} (horizon {row[0]:g} s)",
                        CHANGE_REFUSED,
                    )

    @contextmanager
    def group(self) -> Iterator[None]:
        """Every ``apply`` inside is part of ONE transaction, committed (one fsync) at the end,
        and their log records are delivered after that commit. The crash guarantee is the one
        of a single step: a kill inside the group loses the whole group, and the state is the
        one before it (its cursor too), so resuming re-runs those steps to the same result. An
        error inside rolls the whole group back and propagates."""
        if self._group is not None:
            raise StateError(f"{self.path}: a group of transitions is already open", CHANGE_REFUSED)
        if self._delivering:
            raise StateError(
                f"the last delivery of log records from {self.path} did not finish; nothing more is written "
                f"until a restart delivers them again"
            )
        self._group, self._group_blobs, self._group_rows = [], {}, {}
        try:
            with self._transaction():  # the steps' own errors propagate as they are
                yield
                self._settle()
                for name, value in self._group_blobs.items():  # the last step's, made once
                    self._write_blob(name, value() if callable(value) else value)
            lines = self._group
        except sqlite3.Error as exc:
            raise StateError(f"applying a group of transitions failed, nothing written: {exc}", _code_for(exc)) from exc
        finally:
            self._group, self._group_blobs, self._group_rows = None, {}, {}
        self._unsettled = False
        self._deliver(lines)

    def _last_wins(self, table: str, key: Any, sql: str, params: Sequence) -> None:
        """Upsert a row of which only the last value counts; inside a group, once at its end
        (the same transaction: the crash guarantee is the group's), not once per step."""
        if self._group is None:
            self._item(table, key, sql, params)
            return
        self._group_rows[(sql, key)] = (table, params)  # in the order of first writes: new rows get the same rowids

    def _settle(self) -> None:
        rows, self._group_rows = self._group_rows, {}
        for (sql, key), (table, params) in rows.items():
            self._item(table, key, sql, params)

    def _record_hook_runs(self, runs: Sequence[tuple]) -> None:
        """The hook runs of the step's trades, in its transaction: recorded once, a first attempt."""
        for i, run in enumerate(runs):
            if not (isinstance(run, tuple) and len(run) == 5):
                raise ValueError(f"hook_runs entries are (trade id, hook, status, error, ran_at), got {run!r}"[:200])
            row = self._encode(HOOK_RUNS, HookRun(*run, 1), i)
            self._item("hook_runs", run[:2], _INSERT_HOOK_RUN, row)

    # ---------------------------------------------------------- the outbox

    @property
    def outbox(self) -> bool:
        """Whether this store delivers the log records (logs attached): the runner then hands
        them over in its transitions instead of writing them itself."""
        return self._logs is not None

    def attach_logs(self, logs: Logs) -> None:
        """Deliver every step's log records to ``logs`` exactly once; first finish what a crash
        left: each log is cut back to the length it had before the rows still in the outbox,
        and those rows are delivered again (adapters/store/outbox.py has the argument)."""
        offsets = dict(self._read(lambda db: db.execute("SELECT log, length FROM log_offsets").fetchall()))
        rows = self._read(lambda db: db.execute("SELECT log, line FROM outbox ORDER BY seq").fetchall())
        logs.restore(offsets)
        self._logs = logs
        if rows:
            logger.info("delivering %d log record(s) of the last step again", len(rows))
        self._deliver([(log, line) for log, line in rows])

    def close_log_day(self, day: str) -> list[str]:
        """Close the logs' day ``day`` between two steps: each non-empty log becomes its day's
        compressed file and starts again empty; returns the logs closed.

        Exactly once still holds across a kill at any instant: (1) one transaction records the
        logs' lengths and empties the outbox (everything in it was delivered); (2) the day's
        files are written whole (a temporary file renamed into place); (3) one transaction
        records the closed logs' length as 0; (4) the logs are cut to 0. Killed before (3), the
        database still holds the full lengths: the next step's day differs from the cursor's
        again, so the day is closed again and its file rewritten with the same lines. Killed
        after (3), the restart's cut (``attach_logs``) empties the logs, whose lines are in
        the day's file already."""
        if self._logs is None:
            raise ValueError("close_log_day needs logs (attach_logs): none are attached")
        if self._group is not None:
            raise StateError(f"{self.path}: the logs' day is closed between groups of steps, not inside one")
        if self._delivering:
            raise StateError(
                f"the last delivery of log records from {self.path} did not finish; nothing more is written "
                f"until a restart delivers them again"
            )
        with self._writing("recording the logs' lengths"):
            self._unsettled = True
            self._fill_outbox([])
        self._unsettled = False
        closed = self._logs.archive(day)
        if closed:
            with self._writing(f"starting the logs after {day}"):
                for log in closed:
                    self._item("log_offsets", log, _UPSERT_OFFSET, (log, 0))
            self._logs.empty(closed)
        return closed

    def _outbox_lines(self, transition: Transition) -> list[tuple[str, str]]:
        """The step's records as log lines; none when the step is already committed (re-applied)."""
        if not transition.records:
            return []
        if self._logs is None:
            raise ValueError("records need logs to deliver them to (attach_logs): none are attached")
        if not transition.cursors:
            raise ValueError("records need a cursor: it tells a new step from one applied again")
        known = self._logs.names
        for log, _ in transition.records:
            if log not in known:
                raise ValueError(f"records: unknown log {log!r} (the logs are {', '.join(sorted(known))})")
        texts = log_lines([record for _, record in transition.records])
        return [(log, text) for (log, _), text in zip(transition.records, texts, strict=True)]

    def _fresh(self, transition: Transition) -> bool:
        """Whether the step is new: none of its cursors is already stored at or past its value
        (a step applied again after a crash adds no log records and no bot records)."""
        for cursor in transition.cursors:
            if not (isinstance(cursor, tuple) and len(cursor) == 2):
                continue  # refused, naming it, when the cursors are written
            waiting = self._group_rows.get((_UPSERT_CURSOR, cursor[0]))
            if waiting is not None:  # written by an earlier step of the open group
                stored = (waiting[1][1],)
            else:
                stored = self._db.execute("SELECT value FROM cursors WHERE name = ?", (cursor[0],)).fetchone()
            if stored is not None and cursor[1] <= stored[0]:
                return False
        return True

    # ---------------------------------------------------------- the running bot

    def record_bot(self, records: BotRecords) -> None:
        """Write one cycle's bot records in one transaction; the task runs, state changes and
        reloads also reach their logs (``BOT_LOGS``) through the outbox, exactly once, when logs
        are attached."""
        if not isinstance(records, BotRecords):
            raise StateError(f"record_bot() needs BotRecords, got {type(records).__name__}", CHANGE_REFUSED)
        if self._delivering:
            raise StateError(
                f"the last delivery of log records from {self.path} did not finish; nothing more is written "
                f"until a restart delivers them again"
            )
        with self._writing("recording the bot's cycle"):
            lines = self._write_bot(records)
            self._fill_outbox(lines)
        self._unsettled = False
        self._deliver(lines)

    def _write_bot(self, records: BotRecords) -> list[tuple[str, str]]:
        """The rows of ``records`` (inside the caller's transaction); returns their log lines."""
        for i, run in enumerate(records.task_runs):
            self._item("task_runs", run.job_id, _insert_sql(TASK_RUNS), self._encode(TASK_RUNS, run, i))
        for i, entry in enumerate(records.schedule):
            self._last_wins("task_schedule", entry.job_id, _UPSERT_SCHEDULE, self._encode(SCHEDULE, entry, i))
        for i, change in enumerate(records.state_changes):
            self._item("state_changes", change.ts, _insert_sql(STATE_CHANGES), self._encode(STATE_CHANGES, change, i))
        for i, override in enumerate(records.overrides_set):
            self._insert_once(OVERRIDES, self._encode(OVERRIDES, override, i))
        for lift in records.overrides_lifted:
            if not isinstance(lift, LiftedOverride):
                raise ValueError(f"overrides_lifted holds LiftedOverride, got {type(lift).__name__}")
            params = (lift.lifted_ts, lift.lifted_reason, lift.id)
            if not self._item("overrides", lift.id, _LIFT_OVERRIDE, params).rowcount:
                known = self._db.execute("SELECT lifted_ts FROM overrides WHERE id = ?", (lift.id,)).fetchone()
                why = "no such override" if known is None else f"already lifted at {known[0]}"
                raise StateError(f"overrides {lift.id!r} refused: cannot lift it, {why}", CHANGE_REFUSED)
        for beat in records.heartbeats:
            if not (isinstance(beat, tuple) and len(beat) == 2 and isinstance(beat[0], str) and beat[0]):
                raise ValueError(f"heartbeats entries are (name, ts), got {beat!r}"[:200])
            _check_type("heartbeat ts", "float", beat[1])
            self._last_wins("heartbeats", beat[0], _UPSERT_HEARTBEAT, beat)
        for i, reload in enumerate(records.reloads):
            self._item("reloads", reload.ts, _insert_sql(RELOADS), self._encode(RELOADS, reload, i))
        if records.status is not None:
            self._last_wins("bot_status", 1, _UPSERT_STATUS, self._encode(STATUS, records.status, 0))
        return self._bot_lines(records)

    def _bot_lines(self, records: BotRecords) -> list[tuple[str, str]]:
        """The log lines of the bot's history records, for the outbox (none without logs)."""
        entries: list[tuple[str, Any]] = [
            *(("tasks", run) for run in records.task_runs),
            *(("state_changes", change) for change in records.state_changes),
            *(("reloads", reload) for reload in records.reloads),
        ]
        if self._logs is None or not entries:
            return []
        missing = sorted({log for log, _ in entries} - self._logs.names)
        if missing:
            raise ValueError(
                f"bot records for the log(s) {', '.join(missing)}, which the attached logs do not include "
                f"(add engine.bot.records.BOT_LOGS to them)"
            )
        return [(log, log_line(asdict(item))) for log, item in entries]

    def _fill_outbox(self, lines: list[tuple[str, str]]) -> None:
        """Everything in the outbox was delivered after its commit: record the logs' lengths
        now (they end with it) and replace those rows with this step's."""
        if self._logs is None or not (lines or self._unsettled):
            return
        if not self._group:  # a group's later steps add to the outbox its first step started
            for log, length in sorted(self._logs.lengths().items()):
                self._item("log_offsets", log, _UPSERT_OFFSET, (log, length))
            self._db.execute("DELETE FROM outbox")
        self._items("outbox", _INSERT_OUTBOX, lines)

    def _deliver(self, lines: list[tuple[str, str]]) -> None:
        """After the commit: append the lines to their logs (durably, before a later commit
        records the logs' lengths)."""
        if self._logs is None or not lines:
            return
        self._delivering = True
        self._logs.deliver(lines)
        self._delivering = False
        self._unsettled = True

    def _write_orders(self, transition: Transition, version: str | None) -> None:
        """Upsert the orders, then link them to positions; links need the orders to exist first."""
        for i, order in enumerate(transition.orders):
            row = self._encode(ORDERS, order, i) + (version,)
            self._item("orders", order.client_order_id, _UPSERT_ORDER, row)
        for link in transition.order_positions:
            self._link(link)

    def _record_ledger(self, transition: Transition) -> None:
        """Fills and funding are immutable history: each id is inserted once, never overwritten."""
        for table, items in ((FILLS, transition.fills), (FUNDING, transition.funding)):
            for i, item in enumerate(items):
                self._insert_once(table, self._encode(table, item, i))

    def _write_positions(self, positions: Sequence[OpenPosition], closing: tuple[str, ...]) -> None:
        """Upsert the open positions, then delete the closed ones.

        A position both upserted and closed is only deleted (every row is still validated),
        so re-applying the transition cannot resurrect it.
        """
        for i, position in enumerate(positions):
            row = self._encode(self._positions, position, i)
            if position.id not in closing:
                self._item("positions", position.id, _upsert_sql(self._positions), row)
        for position_id in closing:
            self._item("positions", position_id, "DELETE FROM positions WHERE id = ?", (position_id,))

    def _record_trades(self, trades: Sequence[TradeRecord]) -> None:
        """Finished trades are immutable history, inserted once like fills."""
        for i, trade in enumerate(trades):
            self._insert_once(self._trades, self._encode(self._trades, trade, i))

    def _write_bookmarks(self, transition: Transition) -> None:
        """Cursors and blobs are last-write-wins bookkeeping, written after the trading data."""
        for cursor in transition.cursors:
            self._set_cursor(cursor)
        for blob in transition.blobs:
            self._set_blob(blob)

    def _set_blob(self, blob: Any) -> None:
        """A blob's value is JSON text, or a function making it when it is written: inside a
        group only the last value of each name is, once, at the group's end (a simulated
        broker's whole state need not be serialised for every step of a group)."""
        if not (
            isinstance(blob, tuple)
            and len(blob) == 2
            and isinstance(blob[0], str)
            and (isinstance(blob[1], str) or callable(blob[1]))
        ):
            raise ValueError(f"blobs entries are (name, JSON text or a function making it), got {blob!r}"[:200])
        if self._group is not None:
            self._group_blobs[blob[0]] = blob[1]
            return
        self._write_blob(blob[0], blob[1]() if callable(blob[1]) else blob[1])

    def _write_blob(self, name: str, text: Any) -> None:
        if not isinstance(text, str):
            raise ValueError(f"blob {name!r}: its value must be JSON text, got {type(text).__name__}")
        blob = (name, text)
        self._item(
            "blobs",
            blob[0],
            "INSERT INTO blobs (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            blob,
        )

    @staticmethod
    def _closed_ids(ids: Sequence) -> tuple[str, ...]:
        bad = [i for i in ids if not isinstance(i, str) or not i]
        if bad:
            raise ValueError(f"closed_positions must hold position ids (non-empty strings), got {bad!r}")
        return tuple(dict.fromkeys(ids))

    def _insert_once(self, table: _Table, row: tuple) -> None:
        """Insert by id; an id already stored must hold the same values, else it is refused."""
        key = row[table.columns.index(table.key)]
        sql = f"{_insert_sql(table)} ON CONFLICT ({table.key}) DO NOTHING"
        if self._item(table.name, key, sql, row).rowcount:
            return
        stored = self._db.execute(
            f"SELECT {', '.join(table.columns)} FROM {table.name} WHERE {table.key} = ?", (key,)
        ).fetchone()
        if tuple(stored) != row:
            raise StateError(
                f"{table.name} {key!r} refused: already recorded with different values "
                f"(stored {tuple(stored)!r}, new {row!r})",
                CHANGE_REFUSED,
            )

    def _link(self, link: Any) -> None:
        if not (isinstance(link, tuple) and len(link) == 2):
            raise ValueError(f"order_positions entries are (client_order_id, position_id), got {link!r}")
        order_id, position_id = link
        changed = self._item(
            "orders", order_id, "UPDATE orders SET position_id = ? WHERE client_order_id = ?", (position_id, order_id)
        ).rowcount
        if not changed:
            raise StateError(f"order_positions: unknown order {order_id!r} (position {position_id!r})", CHANGE_REFUSED)

    def _set_cursor(self, cursor: Any) -> None:
        if not (
            isinstance(cursor, tuple)
            and len(cursor) == 2
            and isinstance(cursor[1], (int, float))
            and not isinstance(cursor[1], bool)
            and math.isfinite(cursor[1])
        ):
            raise ValueError(f"cursors entries are (name, finite number), got {cursor!r}")
        self._last_wins("cursors", cursor[0], _UPSERT_CURSOR, cursor)

    def record_rule_version(
        self,
        version_id: str,
        author: str,
        *,
        parent: str | None = None,
        message: str = "",
        created_at: float | None = None,
    ) -> RuleVersion:
        """Record a rule version once; the first record wins (ids are content hashes, so
        loading the same rules again is harmless). Returns what is stored."""
        version = RuleVersion(version_id, time.time() if created_at is None else created_at, author, parent, message)
        with self._writing(f"recording rule version {version_id!r}"):
            self._item("rule_versions", version_id, _INSERT_RULE_VERSION, self._encode(RULE_VERSIONS, version, 0))
        return self._read(
            lambda db: RULE_VERSIONS.decode(
                db.execute(_select_sql(RULE_VERSIONS, "WHERE version_id = ?"), (version_id,)).fetchone()
            )
        )

    def record_version(
        self,
        version_id: str,
        content: Mapping[str, Any] | None,
        author: str,
        *,
        parent: str | None = None,
        message: str = "",
        created_at: float | None = None,
        window: tuple[float, float] | None = None,
        metrics: Mapping[str, Any] | None = None,
        promotion: str | None = None,
        numbers: Mapping[str, Any] | None = None,
    ) -> VersionRecord:
        """Append one entry to the version history, and the version's canonical content once
        per id, in one transaction. Idempotent: when the newest entry is already this version
        going live (a restart, a second record of one reload), nothing is added and that entry
        is returned. ``content`` must hash to ``version_id`` (else refused, RB802); content
        already stored for the id must be the same. ``promotion``: None for a version a human
        made live, ``proposed``/``live``/``rejected`` for a learned one."""
        from engine.language.compiler import version_of

        if promotion is not None and promotion not in PROMOTIONS:
            raise StateError(f"version {version_id!r} refused: promotion must be one of {PROMOTIONS}", CHANGE_REFUSED)
        if content is not None and version_of(content) != version_id:
            raise StateError(
                f"version {version_id!r} refused: its content hashes to {version_of(content)}", CHANGE_REFUSED
            )
        window_from, window_to = (None, None) if window is None else window
        entry = VersionRecord(
            0,
            version_id,
            time.time() if created_at is None else created_at,
            author,
            parent,
            message,
            window_from,
            window_to,
            MappingProxyType(dict(metrics or {})),
            promotion,
            MappingProxyType(dict(numbers or {})),
        )
        with self._writing(f"recording rule version {version_id!r}"):
            row = self._encode(VERSIONS, entry, 0)[1:]
            if content is not None:
                self._store_content(version_id, content)
            newest = self._db.execute(
                f"SELECT {', '.join(VERSIONS.columns)} FROM version_history ORDER BY seq DESC LIMIT 1"
            ).fetchone()
            if newest is not None and promotion in (None, LIVE_PROMOTION):
                last = VERSIONS.decode(newest)
                if last.version_id == version_id and last.went_live:
                    return last
            seq = int(self._item("version_history", version_id, _INSERT_VERSION, row).lastrowid or 0)
            first_seen = RuleVersion(version_id, entry.created_at, author, parent, message)
            self._item("rule_versions", version_id, _INSERT_RULE_VERSION, self._encode(RULE_VERSIONS, first_seen, 0))
        return replace(entry, seq=seq)

    def _store_content(self, version_id: str, content: Mapping[str, Any]) -> None:
        text = _json("content", content)
        stored = self._db.execute("SELECT content FROM version_contents WHERE version_id = ?", (version_id,)).fetchone()
        if stored is None:
            sql = "INSERT INTO version_contents (version_id, content) VALUES (?, ?)"
            self._item("version_contents", version_id, sql, (version_id, text))
        elif json.loads(stored[0]) != json.loads(text):
            raise StateError(f"version_contents {version_id!r} refused: stored with other content", CHANGE_REFUSED)

    def mark_promotion(self, seq: int, promotion: str, numbers: Mapping[str, Any] | None = None) -> VersionRecord:
        """Set a learned version's promotion result (and the gate's numbers) on entry ``seq``."""
        if promotion not in PROMOTIONS:
            raise StateError(f"version entry {seq!r} refused: promotion must be one of {PROMOTIONS}", CHANGE_REFUSED)
        text = _json("numbers", numbers or {})
        with self._writing(f"marking version entry {seq!r} {promotion}"):
            sql = "UPDATE version_history SET promotion = ?, numbers = ? WHERE seq = ?"
            if not self._item("version_history", seq, sql, (promotion, text, seq)).rowcount:
                raise StateError(f"version_history {seq!r} refused: no such entry", CHANGE_REFUSED)
        found = self._all(VERSIONS, "WHERE seq = ?", (seq,))
        return found[0]

    def record_hook_run(
        self, trade_id: str, hook: str, status: str, error: str = "", *, ran_at: float | None = None
    ) -> HookRun:
        """Record the outcome of one post-trade hook; a retry overwrites it and counts the attempt."""
        run = HookRun(trade_id, hook, status, error, time.time() if ran_at is None else ran_at, 1)
        with self._writing(f"recording hook run {hook!r} of trade {trade_id!r}"):
            self._item("hook_runs", (trade_id, hook), _UPSERT_HOOK_RUN, self._encode(HOOK_RUNS, run, 0))
        return self._read(
            lambda db: HOOK_RUNS.decode(
                db.execute(_select_sql(HOOK_RUNS, "WHERE trade_id = ? AND hook = ?"), (trade_id, hook)).fetchone()
            )
        )

    # ---------------------------------------------------------- reading

    def trades(self) -> list[TradeRecord]:
        return self._all(self._trades)

    def fills(self, client_order_id: str | None = None) -> list[Fill]:
        if client_order_id is None:
            return self._all(FILLS)
        return self._all(FILLS, "WHERE client_order_id = ?", (client_order_id,))

    def orders(self, position_id: str | None = None) -> list[OrderState]:
        """Every order, or those linked to ``position_id`` by ``order_positions``."""
        if position_id is None:
            return self._all(ORDERS)
        return self._all(ORDERS, "WHERE position_id = ?", (position_id,))

    def funding(self) -> list[FundingPayment]:
        return self._all(FUNDING)

    def rule_versions(self) -> list[RuleVersion]:
        return self._all(RULE_VERSIONS)

    def hook_runs(self, trade_id: str | None = None) -> list[HookRun]:
        if trade_id is None:
            return self._all(HOOK_RUNS)
        return self._all(HOOK_RUNS, "WHERE trade_id = ?", (trade_id,))

    def integrity_check(self) -> str:
        """``PRAGMA integrity_check``: "ok", or SQLite's list of problems, one per line."""
        return self._read(lambda db: "\n".join(r[0] for r in db.execute("PRAGMA integrity_check")))

    def optimize(self) -> None:
        """``PRAGMA optimize`` and a truncating WAL checkpoint, so the write-ahead log of a
        process that never exits does not grow without bound (the maintenance task asks)."""
        if self._group is not None:
            raise StateError("optimize() inside group(): the group's transaction is still open", CHANGE_REFUSED)

        def tidy(db: sqlite3.Connection) -> None:
            db.execute("PRAGMA optimize")
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()

        self._read(tidy)

    # ---------------------------------------------------------- lifetime

    def close(self) -> None:
        """Close the connection (the last one checkpoints the WAL); closing twice is fine."""
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def __enter__(self) -> StateStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
