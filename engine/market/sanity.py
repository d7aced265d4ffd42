"""The market-data sanity layer: every input of a snapshot is checked against the rules'
plausibility bounds (``requirements.yaml`` → ``market_data``) before anything reads it —
the broker, the features, the exits — the same in dry-run, paper and live.

The parser (engine/market/snapshot.py) already drops what cannot be a value (NaN, inf,
negative prices). This layer refuses what is finite but absurd: a price 1e-9 or 1e12 times
the last one, a mark far from the last trade, a funding rate of 1e9, a trillion USD of
liquidations in a minute. A refused value is treated as missing: it is removed from the
snapshot the runner sees (so its components vote NEUTRAL and no fill, stop or liquidation
happens at it), it is reported as a :class:`Refusal`, and refusals that persist move the
trading state to REDUCING. Nothing is corrected or replaced.

Prices are judged against a *reference*: the last accepted price of the symbol (or, without
a price, its last accepted candle close). A move is allowed up to ``price_move_pct`` in one
minute, growing with the square root of the minutes since the symbol's last reading (a
random walk's spread over a gap in the data). The clock runs from the last reading, refused
or not: were it to run from the last *accepted* one, a bad level would be accepted merely
by persisting — ×3 after 24 minutes, a 40 % crash after 6 — before ``new_level_after``.
A refused level that then holds for ``new_level_after`` — each reading within the
bound of the one before — is accepted as the new reference, so a genuine crash is traded on
again while a bad print that comes back never moves it. Quotes (mark, bid, ask, book) must
lie within ``quote_band_pct`` of the accepted price; sizes and rates have absolute caps.

The screen's own state (references, streaks) is derived: replaying the same snapshots
rebuilds it, as the runner's warm-up rebuilds the features. Pure apart from that state:
no I/O, the clock is the snapshot's ``ts``.
"""

from __future__ import annotations

import contextlib
import logging
import math
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from engine.market.snapshot import SCALARS, Book, Candle, Snapshot, SymbolSnapshot

logger = logging.getLogger(__name__)

ACTIVE, REDUCING = "ACTIVE", "REDUCING"
#: Absolute caps on scalar fields: field → (name of the bound, compare the absolute value).
CAPPED = {
    "funding_rate": "funding_rate_cap",
    "open_interest_usd": "max_open_interest_usd",
    "liq_long_usd": "max_flow_usd",
    "liq_short_usd": "max_flow_usd",
    "taker_buy_usd": "max_flow_usd",
    "taker_sell_usd": "max_flow_usd",
    "exchange_netflow_usd": "max_flow_usd",
    "implied_skew": "max_skew_points",
}
QUOTES = ("mark", "bid", "ask")
MINUTE = 60.0


@dataclass(frozen=True, slots=True)
class Refusal:
    """One value the layer refused: where, what, and the bound it broke."""

    ts: float
    symbol: str
    field: str  # a snapshot field (price, mark, funding_rate, …), ``candles`` or ``book``
    value: float
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"ts": self.ts, "symbol": self.symbol, "field": self.field, "value": self.value, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class Transition:
    """A change of the data-driven trading state, with its reason."""

    ts: float
    state: str  # ACTIVE | REDUCING
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"ts": self.ts, "state": self.state, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class Screened:
    """A snapshot with its refused values removed, what was refused, and any state change."""

    snapshot: Snapshot
    refusals: tuple[Refusal, ...] = ()
    transition: Transition | None = None

    def refused(self, symbol: str) -> tuple[Refusal, ...]:
        return tuple(r for r in self.refusals if r.symbol == symbol)


def allowed_log_move(price_move_pct: float, elapsed_s: float) -> float:
    """The largest |ln(price / reference)| accepted ``elapsed_s`` after the reference."""
    return math.log1p(price_move_pct / 100) * math.sqrt(max(elapsed_s, MINUTE) / MINUTE)


def _pct(ratio: float) -> str:
    """A move as a percentage, or as a factor when it is huge (×1000, not +1e+05 %)."""
    if not 0.5 <= ratio <= 2:
        return f"×{ratio:.4g}"
    return f"{(ratio - 1) * 100:+.4g} %"


@dataclass
class _Reference:
    """A symbol's last accepted price, and a refused level that may become the new one."""

    price: float
    ts: float
    seen: float = math.nan  # the last reading judged against it (refused or not); ``ts`` when nan
    candidate: float | None = None
    candidate_ts: float = 0.0
    candidate_since: float = 0.0

    def accept(self, price: float, ts: float) -> None:
        self.price, self.ts, self.seen, self.candidate = price, ts, math.nan, None

    def since(self) -> float:
        """Where the move bound's clock starts: the symbol's last reading."""
        return self.ts if math.isnan(self.seen) else self.seen


@dataclass
class MarketScreen:
    """The sanity layer's state over one run: references per symbol, refusal streaks, and the
    data-driven trading state. ``screen`` each snapshot in time order."""

    bounds: Any  # engine.language.kinds.requirements.MarketDataBounds
    references: dict[str, _Reference] = field(default_factory=dict)
    refusing_since: dict[str, float] = field(default_factory=dict)  # symbol → first ts of its streak
    last_refusal: float | None = None
    state: str = ACTIVE
    reason: str = ""

    @classmethod
    def for_plan(cls, plan: Any) -> MarketScreen:
        return cls(plan.requirements.market_data)

    @property
    def alarm(self) -> str:
        """Why entries are frozen by the data, or "" (the entry pipeline's REDUCING reason)."""
        return self.reason if self.state == REDUCING else ""

    def screen(self, snapshot: Snapshot) -> Screened:
        refusals: list[Refusal] = []
        symbols = dict(snapshot.symbols)
        for name, sym in snapshot.symbols.items():
            kept, refused = self._symbol(sym, snapshot.ts)
            if refused:
                symbols[name] = kept
                refusals += refused
        if refusals:
            snapshot = replace(snapshot, symbols=MappingProxyType(symbols))
            self._alarm(refusals)
        transition = self._track(snapshot, {r.symbol for r in refusals})
        return Screened(snapshot, tuple(refusals), transition)

    # ------------------------------------------------------------------ one symbol

    def _symbol(self, sym: SymbolSnapshot, ts: float) -> tuple[SymbolSnapshot, list[Refusal]]:
        refused: list[Refusal] = []
        self._price(sym, ts, refused)
        reference = self.references.get(sym.symbol)
        current = reference.price if reference else None
        candles = self._candles(sym, ts, current, refused)
        if reference is not None and (sym.candles or "price" in sym.values):
            reference.seen = ts  # a reading was judged: the bound's clock restarts from it
        values = sym.values
        if current is not None:
            for name in QUOTES:
                value = values.get(name)
                if value is not None and not self._in_band(value, current):
                    refused.append(self._refusal(ts, sym.symbol, name, value, self._band_reason(value, current)))
        for name, bound_name in CAPPED.items():
            value = values.get(name)
            if value is not None and abs(value) > getattr(self.bounds, bound_name):
                bound = getattr(self.bounds, bound_name)
                refused.append(self._refusal(ts, sym.symbol, name, value, f"|{value:g}| above the cap {bound:g}"))
        book = self._book(sym, ts, current, refused)
        if not refused:
            return sym, []
        dropped = {r.field for r in refused}
        kept = {name: value for name, value in values.items() if name not in dropped}
        return _rebuilt(sym, kept, book, candles), refused

    def _price(self, sym: SymbolSnapshot, ts: float, refused: list[Refusal]) -> None:
        """Judge the symbol's price reading (its price, else its last candle's close) and move
        the reference; a refused price field is added to ``refused``."""
        price = sym.values.get("price")
        reading = price if price is not None else (sym.candles[-1].close if sym.candles else None)
        if reading is None:
            return
        reference = self.references.get(sym.symbol)
        if reference is None:
            self.references[sym.symbol] = _Reference(reading, ts)
        elif abs(math.log(reading / reference.price)) <= self._allowed(ts - reference.since()):
            reference.accept(reading, ts)
        elif self._new_level(reference, reading, ts):
            logger.warning(
                "%s: the price level %g has held for %s min since %g was last accepted: it is the new reference",
                sym.symbol,
                reading,
                f"{(ts - reference.candidate_since) / 60:g}",
                reference.price,
            )
            reference.accept(reading, ts)
        elif price is not None:
            why = (
                f"{_pct(price / reference.price)} from the last accepted price {reference.price:g} "
                f"{(ts - reference.ts) / 60:g} min before, beyond the bound of "
                f"{_pct(math.exp(self._allowed(ts - reference.since())))}"
            )
            refused.append(self._refusal(ts, sym.symbol, "price", price, why))

    def _new_level(self, reference: _Reference, reading: float, ts: float) -> bool:
        """Follow a refused level; True once it has held for ``new_level_after``."""
        if reference.candidate is None or abs(math.log(reading / reference.candidate)) > self._allowed(
            ts - reference.candidate_ts
        ):
            reference.candidate, reference.candidate_ts, reference.candidate_since = reading, ts, ts
            return False
        reference.candidate, reference.candidate_ts = reading, ts
        return ts - reference.candidate_since >= self.bounds.new_level_after

    def _candles(
        self, sym: SymbolSnapshot, ts: float, current: float | None, refused: list[Refusal]
    ) -> tuple[Candle, ...]:
        """The candles within the move bound of the reference, whose traded value is sane."""
        if not sym.candles:
            return sym.candles
        reference = self.references.get(sym.symbol)
        kept = []
        for candle in sym.candles:
            why = self._candle_problem(candle, current, reference.since() if reference else ts)
            if why:
                refused.append(self._refusal(ts, sym.symbol, "candles", candle.close, why))
            else:
                kept.append(candle)
        return tuple(kept)

    def _candle_problem(self, candle: Candle, current: float | None, reference_ts: float) -> str:
        notional = candle.volume * candle.close
        if notional > self.bounds.max_flow_usd:
            return (
                f"candle at {candle.ts:g}: volume × close {notional:g} USD above the cap {self.bounds.max_flow_usd:g}"
            )
        if current is None:
            return ""
        allowed = self._allowed(abs(candle.ts + MINUTE - reference_ts))
        for name in ("open", "high", "low", "close"):
            value = getattr(candle, name)
            if abs(math.log(value / current)) > allowed:
                return (
                    f"candle at {candle.ts:g}: {name} {value:g} is {_pct(value / current)} from the accepted "
                    f"price {current:g}, beyond the bound of {_pct(math.exp(allowed))}"
                )
        return ""

    def _book(self, sym: SymbolSnapshot, ts: float, current: float | None, refused: list[Refusal]) -> Book | None:
        if sym.book is None:
            return None
        for level_price, size in sym.book.bids + sym.book.asks:
            if level_price * size > self.bounds.max_book_level_usd:
                why = f"a level of {level_price * size:g} USD, above the cap {self.bounds.max_book_level_usd:g}"
            elif current is not None and not self._in_band(level_price, current):
                why = f"level price {self._band_reason(level_price, current)}"
            else:
                continue
            refused.append(self._refusal(ts, sym.symbol, "book", level_price, why))
            return None
        return sym.book

    # ------------------------------------------------------------------ bounds

    def _allowed(self, elapsed_s: float) -> float:
        return allowed_log_move(self.bounds.price_move_pct, elapsed_s)

    def _in_band(self, value: float, current: float) -> bool:
        return abs(math.log(value / current)) <= math.log1p(self.bounds.quote_band_pct / 100)

    def _band_reason(self, value: float, current: float) -> str:
        return (
            f"{_pct(value / current)} from the accepted price {current:g}, "
            f"outside the band of ±{self.bounds.quote_band_pct:g} %"
        )

    @staticmethod
    def _refusal(ts: float, symbol: str, name: str, value: float, why: str) -> Refusal:
        return Refusal(ts, symbol, name, value, f"{symbol} {name} {value:g} refused: {why}")

    # ------------------------------------------------------------------ alarms and state

    def _alarm(self, refusals: list[Refusal]) -> None:
        for refusal in refusals:
            if refusal.symbol not in self.refusing_since:  # the first of a streak: say it loudly once
                logger.warning("market data refused: %s", refusal.reason)
            else:
                logger.debug("market data refused: %s", refusal.reason)

    def _track(self, snapshot: Snapshot, refusing: set[str]) -> Transition | None:
        """Streaks of refusals per symbol, and the ACTIVE/REDUCING state they drive."""
        ts = snapshot.ts
        for name in snapshot.symbols:
            if name in refusing:
                self.refusing_since.setdefault(name, ts)
            else:
                self.refusing_since.pop(name, None)
        if refusing:
            self.last_refusal = ts
        if self.state == ACTIVE:
            persistent = sorted(
                (since, name) for name, since in self.refusing_since.items() if ts - since >= self.bounds.reduce_after
            )
            if persistent:
                since, name = persistent[0]
                return self._move(
                    ts, REDUCING, f"{name}'s market data refused for {(ts - since) / 60:g} min in a row (exits only)"
                )
        elif self.last_refusal is not None and ts - self.last_refusal >= self.bounds.recover_after:
            return self._move(ts, ACTIVE, f"no market data refused for {(ts - self.last_refusal) / 60:g} min")
        return None

    def _move(self, ts: float, state: str, reason: str) -> Transition:
        self.state, self.reason = state, reason
        logger.warning("trading state %s: %s", state, reason)
        return Transition(ts, state, reason)


def _rebuilt(
    sym: SymbolSnapshot, values: dict[str, float], book: Book | None, candles: tuple[Candle, ...]
) -> SymbolSnapshot:
    """The symbol without its refused values; an input none of whose values is left loses its time too."""
    inputs = {SCALARS[name][0] for name in values}
    times = {
        name: when
        for name, when in sym.times.items()
        if name in inputs or (name == "candles_1m" and candles) or (name == "order_book" and book is not None)
    }
    return SymbolSnapshot(sym.symbol, MappingProxyType(values), MappingProxyType(times), book, candles)


@dataclass
class MarketDataReport:
    """What a run's sanity layer refused, kept small: counts per symbol and input, the first
    refusals in full, and every change of the trading state (the dry-run result's
    ``market_data``; the summary, the report and the JSON output show it)."""

    KEEP = 20

    refused: int = 0
    by_input: dict[str, dict[str, int]] = field(default_factory=dict)
    first: list[dict[str, Any]] = field(default_factory=list)
    states: list[dict[str, Any]] = field(default_factory=list)

    def add(self, screened: Screened) -> None:
        for refusal in screened.refusals:
            self.refused += 1
            counts = self.by_input.setdefault(refusal.symbol, {})
            counts[refusal.field] = counts.get(refusal.field, 0) + 1
            if len(self.first) < self.KEEP:
                self.first.append(refusal.as_dict())
        if screened.transition is not None:
            self.states.append(screened.transition.as_dict())

    def as_dict(self) -> dict[str, Any]:
        return {
            "refused": self.refused,
            "by_input": {name: dict(sorted(c.items())) for name, c in sorted(self.by_input.items())},
            "first": self.first,
            "states": self.states,
        }


def market_data_warnings(report: Any) -> list[str]:
    """Sentences for a run's ``market_data`` (MarketDataReport.as_dict); malformed parts are
    left out (a result file may have been edited)."""
    if not isinstance(report, dict):
        return []
    out = []
    with contextlib.suppress(TypeError, KeyError, ValueError, OverflowError, OSError, IndexError, AttributeError):
        out.append(_refused_sentence(report))
    for change in report.get("states") or ():
        try:
            out.append(_state_sentence(change))
        except (TypeError, KeyError, ValueError, OverflowError, OSError, AttributeError):
            continue
    return [line for line in out if line]


def _refused_sentence(report: dict) -> str:
    from engine.common.times import iso_utc

    by_input, first = report.get("by_input"), report.get("first")
    if not by_input:
        return ""
    counts = ", ".join(
        f"{symbol} {name} ×{int(n):,}" for symbol, c in sorted(by_input.items()) for name, n in sorted(c.items())
    )
    when = f", the first at {iso_utc(float(first[0]['ts']))}: {first[0]['reason']}" if first else ""
    return f"{int(report['refused']):,} market value(s) refused as implausible and treated as missing ({counts}){when}"


def _state_sentence(change: dict) -> str:
    from engine.common.times import iso_utc

    return f"trading state {change['state']} at {iso_utc(float(change['ts']))}: {change['reason']}"
