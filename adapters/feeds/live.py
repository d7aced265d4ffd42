"""The live feed (``--feed live[:VENUE]``, ``rulebot record``): each cycle's snapshot built
from a venue's public market data (engine.ports.MarketDataPort) and, when there is one, a
market-intelligence source (engine.ports.IntelPort).

One snapshot per cycle: the first at once, then one at every multiple of ``every_s`` on
the UTC clock — the instants the bot's scheduler makes ``bot_cycle`` due, so the snapshot
of a cycle is there when the cycle runs. A wait the bot asks for that ends just before the
next snapshot is due (within ``GRACE_S``) is stretched to it: otherwise a clock a hair early
would give the cycle nothing and the snapshot a minute later.

Per symbol: the ticker (price, mark, bid, ask), the order book, the 1-minute candles closed
since the previous snapshot, the funding rate and the open interest; intelligence fills the
fields the venue did not give, and fear & greed. Each input carries the time it was
published: the venue's own stamp of a ticker, the instant the answer came for the rest, the
intelligence's publication times — never later than the snapshot itself.

A source that fails (a VenueError) leaves its inputs out of that snapshot: a problem in
``problems``, logged with venue, endpoint and why (loudly when a source starts failing,
quietly while it goes on, and once more when it answers again). A VenueFatal (keys,
permissions, a blocked account) ends the feed: ``fatal`` holds it, ``ended`` is True.
The snapshot is parsed exactly as a recorded line is (engine/market/snapshot.py
``parse_snapshot``), so a venue's absurd value is dropped here as it would be from a file,
and the bot's data-sanity layer (engine/market/sanity.py) then screens it like any other
snapshot. With a recorder, every snapshot is appended to the recording before it is given.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from engine.common.times import plausible_time
from engine.language.diagnostics import Diagnostic, Severity
from engine.market.snapshot import FORMAT_VERSION, SCALARS, Candle, Snapshot, parse_snapshot
from engine.ports import IntelPort, IntelReading, MarketDataPort, VenueError, VenueFatal

logger = logging.getLogger(__name__)

GRACE_S = 1.0  # a wait ending this close before the next snapshot is due waits for it
MINUTE = 60.0
KEPT_PROBLEMS = 100  # a feed runs for months: the first problems are kept, the rest only logged and counted
INTEL = "intelligence"  # the endpoint name of an intelligence reading in problems


class Recorder(Protocol):
    """Where each snapshot is appended (adapters/snapshots/daily.py DailyRecorder)."""

    def append(self, snapshot: Snapshot) -> None: ...


def wait_on(event: threading.Event, seconds: float) -> bool:
    """Wait ``seconds`` on ``event``; True when it was set (the bot's wake)."""
    return event.wait(max(0.0, seconds))


class LiveFeed:
    """Snapshots of ``symbols`` (rulebot names) from ``market`` at venue ``venue``, every
    ``every_s`` seconds of ``clock``; never ends unless the venue refuses for good."""

    realtime = True

    def __init__(
        self,
        market: MarketDataPort,
        symbols: Sequence[str],
        *,
        venue: str,
        every_s: float,
        intel: IntelPort | None = None,
        recorder: Recorder | None = None,
        depth: int = 20,
        clock: Callable[[], float] = time.time,
        wait: Callable[[threading.Event, float], bool] = wait_on,
    ) -> None:
        if not every_s > 0:
            raise ValueError(f"live:{venue}: the cycle must be positive, not {every_s!r} s")
        if not symbols:
            raise ValueError(f"live:{venue}: no symbol to read")
        self.market, self.symbols, self.venue = market, tuple(symbols), venue
        self.every_s, self.intel, self.recorder, self.depth = every_s, intel, recorder, depth
        self.clock, self._wait = clock, wait
        self.name = f"live:{venue}"
        self.problems: list[Diagnostic] = []  # the first KEPT_PROBLEMS; every one is logged
        self.problems_dropped = 0
        self.fatal: VenueFatal | None = None
        self.cycles = 0  # snapshots given
        self._due: float | None = None  # None: the first snapshot is due at once
        self._last_ts = -math.inf
        self._candles_since: dict[str, float] = {}  # symbol → open time of the first candle not yet given
        self._failing: set[tuple[str, str]] = set()  # (endpoint, symbol) failing since their last answer
        self._prices: dict[str, float] = {}  # symbol → the last price the venue gave
        self._closed = False

    @property
    def ended(self) -> bool:
        return self.fatal is not None or self._closed

    def close(self) -> None:
        """Ends the feed and closes the clients' connections."""
        self._closed = True
        for client in (self.market, self.intel):
            close = getattr(client, "close", None)
            if close is not None:
                close()

    def price_of(self, symbol: str) -> float | None:
        """The last price the venue gave for ``symbol`` (intelligence turns amounts into USD with it)."""
        return self._prices.get(symbol)

    # ------------------------------------------------------------------ pacing

    def next(self, wake: threading.Event, timeout_s: float | None) -> Snapshot | None:
        """The snapshot of the cycle that is due; None when ``timeout_s`` passed before it was,
        when ``wake`` was set, or once the feed ended."""
        now = self.clock()
        deadline = None if timeout_s is None else now + timeout_s
        while not self.ended and not wake.is_set():
            now = self.clock()
            due = now if self._due is None else self._due
            if now >= due:
                snapshot = self._take()
                if snapshot is not None or (deadline is not None and self.clock() >= deadline):
                    return snapshot
                continue  # nothing could be read this cycle: wait for the next one
            until = due if deadline is None or deadline >= due - GRACE_S else deadline
            stretched = until == due
            if until <= now:
                return None
            if self._wait(wake, until - now):
                return None
            if not stretched and self.clock() >= until:
                return None
        return None

    def _take(self) -> Snapshot | None:
        """Read every source, build, record and give this cycle's snapshot; the next one is
        due at the next multiple of the cycle."""
        snapshot = self._build()
        now = self.clock()
        self._due = (math.floor(now / self.every_s) + 1) * self.every_s
        if snapshot is None:
            return None
        self.cycles += 1
        if self.recorder is not None:
            try:
                self.recorder.append(snapshot)
            except OSError as error:
                self._problem(
                    "RB710", f"the snapshot at {snapshot.ts:.3f} could not be recorded: {error.strerror or error}"
                )
        return snapshot

    # ------------------------------------------------------------------ one snapshot

    def _build(self) -> Snapshot | None:
        symbols: dict[str, dict[str, Any]] = {}
        times: dict[str, dict[str, float]] = {}
        for symbol in self.symbols:
            if self.fatal is not None:
                return None
            symbols[symbol], times[symbol] = self._read_symbol(symbol)
        reading = self._read_intel()
        if self.fatal is not None:
            return None
        ts = max(self.clock(), math.nextafter(self._last_ts, math.inf))
        for symbol in self.symbols:
            if reading is not None:
                _add_intel(symbol, reading, symbols[symbol], times[symbol])
            _stamp(symbols[symbol], times[symbol], ts)
        obj: dict[str, Any] = {
            "v": FORMAT_VERSION,
            "ts": ts,
            "symbols": {name: fields for name, fields in symbols.items() if fields},
        }
        if reading is not None and reading.fear_greed is not None:
            obj["fear_greed"] = reading.fear_greed
            obj["fear_greed_ts"] = _published(reading.fear_greed_ts, ts)
        if not obj["symbols"] and "fear_greed" not in obj:
            self._problem("RB610", f"{self.venue}: no source answered for the snapshot at {ts:.3f}; none given")
            return None
        snapshot, found = parse_snapshot(obj, self.name, self.cycles + 1)
        for problem in found:  # a venue's impossible value, dropped as a recorded one is
            logger.warning("%s: %s %s", self.name, problem.code, problem.message)
        self._keep(found)
        if snapshot is not None:
            self._last_ts = snapshot.ts
        return snapshot

    def _read_symbol(self, symbol: str) -> tuple[dict[str, Any], dict[str, float]]:
        """One symbol's fields (snapshot JSON names) and each input's publication time."""
        fields: dict[str, Any] = {}
        times: dict[str, float] = {}
        ticker = self._call("ticker", symbol, lambda: self.market.ticker(symbol))
        if ticker is not None:
            answered = self.clock()
            stamped = ticker.ts if _number(ticker.ts) and plausible_time(ticker.ts) else answered
            fields["price"], times["price"] = ticker.last, min(stamped, answered)
            self._prices[symbol] = ticker.last
            if ticker.mark is not None:
                fields["mark"] = ticker.mark
            for name in ("bid", "ask"):
                value = getattr(ticker, name)
                if value is not None:
                    fields[name], times["order_book"] = value, min(stamped, answered)
        book = self._call("order_book", symbol, lambda: self.market.order_book(symbol, self.depth))
        if book is not None:
            fields["book"] = {
                "bids": [list(level) for level in book.bids],
                "asks": [list(level) for level in book.asks],
            }
            times["order_book"] = min(times.get("order_book", math.inf), self.clock())
        candles = self._candles(symbol)
        if candles:
            fields["candles"] = [[c.ts, c.open, c.high, c.low, c.close, c.volume] for c in candles]
        rate = self._call("funding_rate", symbol, lambda: self.market.funding_rate(symbol))
        if rate is not None:
            fields["funding_rate"], times["funding_rate"] = rate, self.clock()
        interest = self._call("open_interest", symbol, lambda: self.market.open_interest_usd(symbol))
        if interest is not None:
            fields["open_interest_usd"], times["open_interest"] = interest, self.clock()
        return fields, times

    def _candles(self, symbol: str) -> list[Candle]:
        """The 1-minute candles closed since the previous snapshot (at the first, the last
        closed one); a candle still forming is left for the next snapshot."""
        now = self.clock()
        since = self._candles_since.get(symbol, math.floor(now / MINUTE) * MINUTE - MINUTE)
        found = self._call("candles", symbol, lambda: self.market.candles(symbol, "1m", since, now))
        if not found:
            return []
        closed_by = self.clock()
        kept = sorted((c for c in found if since <= c.ts and c.ts + MINUTE <= closed_by), key=lambda candle: candle.ts)
        unique = [c for i, c in enumerate(kept) if i == 0 or c.ts > kept[i - 1].ts]
        if unique:
            self._candles_since[symbol] = unique[-1].ts + MINUTE
        return unique

    def _read_intel(self) -> IntelReading | None:
        if self.intel is None:
            return None
        intel = self.intel
        reading = self._call(INTEL, "", lambda: intel.read(self.symbols, self.clock()))
        if reading is not None and reading.stale:
            logger.info(
                "%s: intelligence served from its cache (the API failed): %s", self.name, ", ".join(reading.stale)
            )
        return reading

    # ------------------------------------------------------------------ failures

    def _call(self, endpoint: str, symbol: str, read: Callable[[], Any]) -> Any:
        """``read()``, or None when it failed: the failure is a problem, never raised."""
        key = (endpoint, symbol)
        try:
            answer = read()
        except VenueFatal as error:
            self.fatal = error
            self._failed(key, error, Severity.ERROR)
            logger.error("%s: the venue refuses for good; the feed stops: %s", self.name, error)
            return None
        except VenueError as error:
            self._failed(key, error, Severity.WARNING)
            return None
        except Exception as error:  # a client bug must not stop the bot: it is an error, with its trace
            logger.exception("%s: %s %s raised unexpectedly", self.name, endpoint, symbol)
            self._failed(
                key, VenueError(f"{type(error).__name__}: {error}", venue=self.venue, endpoint=endpoint), Severity.ERROR
            )
            return None
        if key in self._failing:
            self._failing.discard(key)
            logger.warning("%s: %s%s answers again", self.name, endpoint, f" {symbol}" if symbol else "")
        return answer

    def _failed(self, key: tuple[str, str], error: VenueError, severity: Severity) -> None:
        endpoint, symbol = key
        where = f"{error.venue or self.venue} {error.endpoint or endpoint}{f' ({symbol})' if symbol else ''}"
        status = f" (HTTP {error.status})" if error.status else ""
        message = f"{where}{status}: {error}; its inputs are left out of this snapshot"
        level = logging.WARNING if key not in self._failing or severity is Severity.ERROR else logging.DEBUG
        self._failing.add(key)
        logger.log(level, "%s: %s %s", self.name, error.code, message)
        self._keep([Diagnostic(error.code, message, file=self.name, line=self.cycles + 1, severity=severity)])

    def _problem(self, code: str, message: str) -> None:
        logger.warning("%s: %s %s", self.name, code, message)
        self._keep([Diagnostic(code, message, file=self.name, line=self.cycles + 1, severity=Severity.ERROR)])

    def _keep(self, found: list[Diagnostic]) -> None:
        room = max(0, KEPT_PROBLEMS - len(self.problems))
        self.problems.extend(found[:room])
        self.problems_dropped += len(found) - len(found[:room])


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _published(at: float | None, ts: float) -> float:
    """A publication time as the snapshot carries it: never after the snapshot, never absurd."""
    if at is None or not _number(at) or not plausible_time(at):
        return ts
    return min(at, ts)


def _stamp(fields: dict[str, Any], times: dict[str, float], ts: float) -> None:
    """Write each input's publication time (``<input>_ts``) for the inputs present."""
    for name, at in times.items():
        fields[f"{name}_ts"] = _published(at, ts)


def _add_intel(symbol: str, reading: IntelReading, fields: dict[str, Any], times: dict[str, float]) -> None:
    """The intelligence's fields the venue did not give, with their publication times."""
    values = reading.values.get(symbol) or {}
    published = reading.times.get(symbol) or {}
    for name, value in values.items():
        input_name = SCALARS[name][0] if name in SCALARS else ""
        if not input_name or name in fields or input_name not in published:
            continue  # not a snapshot field, the venue's own, or of unknown age: left out
        fields[name] = value
        times.setdefault(input_name, published[input_name])
