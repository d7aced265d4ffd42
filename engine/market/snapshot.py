"""The snapshot: the frozen, timestamped input of one cycle.

A snapshot holds everything one evaluation may read, per symbol (price, mark, best
bid/ask, order-book levels, 1-minute candles closed since the previous snapshot, funding,
open interest, liquidations, taker volume, exchange net flow, implied skew) and globally
(fear & greed). Every field may be missing. Each input carries the time it was published
(``<name>_ts`` in JSON, defaulting to the snapshot's ``ts``) so components can tell stale
data from fresh. JSON shape: schemas/snapshot.schema.json; docs/snapshots.md.

Parsing never raises: a malformed field is dropped (it then reads as missing) and
reported; a snapshot without a usable ``ts`` is rejected whole. Every time (``ts``,
``<name>_ts``, candle open times) must lie in ``engine.common.times.TIME_RANGE``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from engine.common.times import describe_ts, implausible_time, plausible_time
from engine.language.diagnostics import Diagnostic, Severity

FORMAT_VERSION = 1
CODES = {
    "RB701": "snapshot is not a JSON object",
    "RB702": "snapshot has no valid `ts` (epoch seconds from 2009-01-03 to 2100-01-01)",
    "RB703": "snapshot field has the wrong type or an impossible value; it is ignored",
    "RB704": "unknown snapshot field; it is ignored",
    "RB705": "unsupported snapshot format version",
    "RB710": "snapshot file cannot be read",
    "RB711": "a line of a snapshot file is not valid JSON; it is skipped",
    "RB712": "the last line of a snapshot file is torn (incomplete); it is skipped",
    "RB713": "compressed snapshot file is truncated; the complete part was read",
    "RB714": "snapshot is not later than the one before it; it is skipped",
    "RB715": "a source file of a snapshot build spec cannot be used (missing, unreadable, a named column absent, "
    "no rows); the build writes nothing",
    "RB720": "recorded snapshots cannot take the dry-run fast path (the reason is given); they are replayed "
    "the scalar way",
}

#: Scalar inputs per symbol: JSON field → (input name used for staleness, must be positive).
SCALARS = {
    "price": ("price", True),
    "mark": ("price", True),
    "bid": ("order_book", True),
    "ask": ("order_book", True),
    "funding_rate": ("funding_rate", False),
    "open_interest_usd": ("open_interest", True),
    "liq_long_usd": ("liquidations", False),
    "liq_short_usd": ("liquidations", False),
    "taker_buy_usd": ("taker_volume", False),
    "taker_sell_usd": ("taker_volume", False),
    "exchange_netflow_usd": ("exchange_netflow", False),
    "implied_skew": ("volatility_skew", False),
}
NON_NEGATIVE = {"liq_long_usd", "liq_short_usd", "taker_buy_usd", "taker_sell_usd"}
INPUT_NAMES = (
    "price",
    "order_book",
    "candles_1m",
    "funding_rate",
    "open_interest",
    "liquidations",
    "taker_volume",
    "exchange_netflow",
    "volatility_skew",
    "fear_greed",
)
TIMESTAMPS = {f"{name}_ts" for name in INPUT_NAMES}


@dataclass(frozen=True, slots=True)
class Candle:
    ts: float  # open time, epoch seconds
    open: float
    high: float
    low: float
    close: float
    volume: float


@dataclass(frozen=True, slots=True)
class Book:
    bids: tuple[tuple[float, float], ...]  # (price, size), best first
    asks: tuple[tuple[float, float], ...]


@dataclass(frozen=True, slots=True)
class SymbolSnapshot:
    symbol: str
    values: Mapping[str, float]  # JSON scalar field → value (only those present)
    times: Mapping[str, float]  # input name → publication time
    book: Book | None = None
    candles: tuple[Candle, ...] = ()  # 1-minute candles closed since the previous snapshot

    def get(self, name: str) -> float | None:
        return self.values.get(name)


@dataclass(frozen=True, slots=True)
class Snapshot:
    ts: float
    symbols: Mapping[str, SymbolSnapshot]
    fear_greed: float | None = None
    fear_greed_ts: float | None = None


def _number(value: Any) -> float | None:
    """The value as a finite float, else None. JSON integers have no size limit: one too
    big for a float is as unusable as a string (float() would raise OverflowError)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        value = float(value)
    except OverflowError:
        return None
    return value if math.isfinite(value) else None


class _Parser:
    """Collects problems while turning one JSON object into a Snapshot."""

    def __init__(self, where: str, line: int):
        self.where, self.line = where, line
        self.problems: list[Diagnostic] = []

    def problem(self, code: str, message: str, path: str, severity: Severity = Severity.ERROR) -> None:
        self.problems.append(
            Diagnostic(code, message, file=self.where, line=self.line, col=1, path=path, severity=severity)
        )

    def drop(self, path: str, why: str, hint: str = "") -> None:
        self.problems.append(
            Diagnostic(
                "RB703",
                f"{path}: {why}; ignored",
                file=self.where,
                line=self.line,
                col=1,
                path=path,
                suggestion=hint,
                severity=Severity.WARNING,
            )
        )

    def time(self, obj: Mapping, key: str, default: float, path: str) -> float:
        """An input's publication time; a bad one is dropped and the default used."""
        if key not in obj:
            return default
        value = _number(obj[key])
        if value is None:
            self.drop(f"{path}/{key}", "not a finite number")
            return default
        if not plausible_time(value):
            self.drop(f"{path}/{key}", *implausible_time(value))
            return default
        return value

    def symbol(self, name: str, obj: Any, ts: float) -> SymbolSnapshot | None:
        path = f"/symbols/{name}"
        if not isinstance(obj, dict):
            self.drop(path, "not an object")
            return None
        values: dict[str, float] = {}
        times: dict[str, float] = {}
        for key, raw in obj.items():
            if key in SCALARS:
                self._scalar(key, raw, path, values)
            elif key not in TIMESTAMPS and key not in ("book", "candles"):
                self.problem("RB704", f"{path}/{key}: unknown field; ignored", f"{path}/{key}", Severity.WARNING)
        for key in values:
            input_name = SCALARS[key][0]
            times[input_name] = self.time(obj, f"{input_name}_ts", ts, path)
        book = self._book(obj.get("book"), path) if "book" in obj else None
        if book is not None:
            times["order_book"] = self.time(obj, "order_book_ts", ts, path)
        candles = self._candles(obj.get("candles"), path, ts) if "candles" in obj else ()
        if candles:
            times["candles_1m"] = self.time(obj, "candles_1m_ts", candles[-1].ts + 60.0, path)
        return SymbolSnapshot(name, MappingProxyType(values), MappingProxyType(times), book, candles)

    def _scalar(self, key: str, raw: Any, path: str, values: dict) -> None:
        value = _number(raw)
        positive = SCALARS[key][1]
        if value is None:
            self.drop(f"{path}/{key}", f"expected a finite number, found {_shown(raw)}")
        elif positive and value <= 0:
            self.drop(f"{path}/{key}", f"must be positive, found {value:g}")
        elif key in NON_NEGATIVE and value < 0:
            self.drop(f"{path}/{key}", f"must not be negative, found {value:g}")
        else:
            values[key] = value

    def _levels(self, raw: Any, path: str) -> tuple[tuple[float, float], ...] | None:
        if not isinstance(raw, list):
            return None
        levels = []
        for level in raw:
            if not (isinstance(level, list) and len(level) == 2):
                return None
            price, size = _number(level[0]), _number(level[1])
            if price is None or size is None or price <= 0 or size < 0:
                return None
            levels.append((price, size))
        return tuple(levels)

    def _book(self, raw: Any, path: str) -> Book | None:
        if not isinstance(raw, dict):
            self.drop(f"{path}/book", "not an object with bids and asks")
            return None
        bids, asks = self._levels(raw.get("bids"), path), self._levels(raw.get("asks"), path)
        if bids is None or asks is None:
            self.drop(f"{path}/book", "bids and asks must be lists of [price > 0, size ≥ 0]")
            return None
        return Book(bids, asks)

    def _candles(self, raw: Any, path: str, ts: float) -> tuple[Candle, ...]:
        """The candles closed by ``ts``; one opening at or after ``ts`` is from the future
        (a bad stamp, or a recorder copying the candle still forming) and is dropped."""
        if not isinstance(raw, list):
            self.drop(f"{path}/candles", "not a list")
            return ()
        candles: list[Candle] = []
        for index, row in enumerate(raw):
            # the row's finite numbers: fewer than 6 when it is not a list of 6 finite numbers
            numbers = (
                [n for x in row if (n := _number(x)) is not None] if isinstance(row, list) and len(row) == 6 else []
            )
            if (
                len(numbers) < 6
                or min(numbers[1:5]) <= 0
                or numbers[5] < 0
                or not numbers[3] <= min(numbers[1], numbers[4]) <= max(numbers[1], numbers[4]) <= numbers[2]
            ):
                self.drop(
                    f"{path}/candles/{index}",
                    "a candle is [open_ts, open, high, low, close, volume] with low ≤ open, close ≤ high",
                )
                continue
            if not plausible_time(numbers[0]):
                why, hint = implausible_time(numbers[0])
                self.drop(f"{path}/candles/{index}", f"open time {why}", hint)
                continue
            if numbers[0] >= ts:
                self.drop(
                    f"{path}/candles/{index}",
                    f"opens at {describe_ts(numbers[0])}, not before the "
                    f"snapshot's ts {describe_ts(ts)}: a candle from the future",
                )
                continue
            if candles and numbers[0] <= candles[-1].ts:
                self.drop(f"{path}/candles/{index}", "candles must be in increasing time order")
                continue
            candles.append(Candle(*numbers))
        return tuple(candles)


def parse_snapshot(obj: Any, where: str = "", line: int = 0) -> tuple[Snapshot | None, list[Diagnostic]]:
    """A Snapshot from one decoded JSON object, plus what was wrong with it."""
    parser = _Parser(where, line)
    if not isinstance(obj, dict):
        parser.problem("RB701", "a snapshot must be a JSON object", "")
        return None, parser.problems
    version = obj.get("v", FORMAT_VERSION)
    if type(version) is not int or version != FORMAT_VERSION:  # true and 1.0 equal 1, but are not a version
        parser.problem("RB705", f"snapshot format v={obj.get('v')!r}; this rulebot reads v={FORMAT_VERSION}", "/v")
        return None, parser.problems
    ts = _number(obj.get("ts"))
    if ts is None or not plausible_time(ts):
        parser.problems.append(_bad_ts(obj.get("ts"), ts, where, line))
        return None, parser.problems
    symbols = obj.get("symbols", {})
    if not isinstance(symbols, dict):
        parser.drop("/symbols", "not an object")
        symbols = {}
    parsed = {}
    for name, raw in symbols.items():
        one = parser.symbol(str(name), raw, ts)
        if one is not None:
            parsed[str(name)] = one
    fear_greed = _number(obj.get("fear_greed")) if "fear_greed" in obj else None
    if "fear_greed" in obj and (fear_greed is None or not 0 <= fear_greed <= 100):
        parser.drop("/fear_greed", "must be a number from 0 to 100")
        fear_greed = None
    fg_ts = parser.time(obj, "fear_greed_ts", ts, "") if fear_greed is not None else None
    for key in obj:
        if key not in ("v", "ts", "symbols", "fear_greed", "fear_greed_ts"):
            parser.problem("RB704", f"/{key}: unknown field; ignored", f"/{key}", Severity.WARNING)
    return Snapshot(ts, MappingProxyType(parsed), fear_greed, fg_ts), parser.problems


def _bad_ts(raw: Any, ts: float | None, where: str, line: int) -> Diagnostic:
    """RB702 for a missing, non-numeric or implausible ``ts``, with the likely unit slip."""
    if ts is None:
        why, hint = f"`ts` must be epoch seconds, found {_shown(raw)}", ""
    else:
        why, hint = implausible_time(ts)
        why = f"`ts` {why}"
    return Diagnostic("RB702", why, file=where, line=line, col=1, path="/ts", suggestion=hint)


def _shown(raw: Any) -> str:
    """A bad value in a message, cut short (a JSON integer may have thousands of digits)."""
    if isinstance(raw, int) and not isinstance(raw, bool) and raw.bit_length() > 1024:
        return f"an integer of about {int(raw.bit_length() * math.log10(2)) + 1} digits"
    return repr(raw)[:100]


def snapshot_to_json(snapshot: Snapshot) -> dict:
    """The JSON object that parses back to ``snapshot`` (used by recording and tests)."""
    symbols = {}
    for name, sym in snapshot.symbols.items():
        out: dict[str, Any] = dict(sym.values)
        for input_name, ts in sym.times.items():
            if ts != snapshot.ts or input_name == "candles_1m":
                out[f"{input_name}_ts"] = ts
        if sym.book is not None:
            out["book"] = {"bids": [list(x) for x in sym.book.bids], "asks": [list(x) for x in sym.book.asks]}
        if sym.candles:
            out["candles"] = [[c.ts, c.open, c.high, c.low, c.close, c.volume] for c in sym.candles]
        symbols[name] = out
    obj: dict[str, Any] = {"v": FORMAT_VERSION, "ts": snapshot.ts, "symbols": symbols}
    if snapshot.fear_greed is not None:
        obj["fear_greed"] = snapshot.fear_greed
        if snapshot.fear_greed_ts != snapshot.ts:
            obj["fear_greed_ts"] = snapshot.fear_greed_ts
    return obj
