"""Signal resolution: every evaluated signal (traded, blocked or NEUTRAL) scored at the plan's
forward horizons (``learning.signal_resolution_horizons``) against the prices that came later.

The price "at ts + h" is the first price of the signal's symbol seen at or after ts + h, within
a grace of ``max(60 s, 10 % of h)``. A signal whose symbol shows no price within that grace is
**unresolvable** at that horizon: it is counted as such (a :class:`Resolution` without a price),
never given an invented one.

Pure: no I/O and no clock of its own. The caller hands in each signal (``add``) and each later
cycle's time and prices (``observe``), in time order; the same sequence always gives the same
resolutions. The runner (engine/trading/runner.py) does so on every step and commits the new
signals and resolutions with the step; after a restart it rebuilds the resolver from the stored
signals that still miss a horizon (``Resolver(horizons, pending)``), which gives the resolver an
uninterrupted run would hold. ``resolve_series`` does the same for prices given as columns.
"""

from __future__ import annotations

import bisect
import logging
import math
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from engine.learners.base import LONG, NEUTRAL, SHORT, ComponentCall, SignalOutcome

logger = logging.getLogger(__name__)

GRACE_MIN_S = 60.0
GRACE_FRACTION = 0.10
TRADE, BLOCKED = "TRADE", "BLOCKED"  # SignalOutcome.outcome; a NEUTRAL vote's outcome is NEUTRAL
_SIGN = {LONG: 1, SHORT: -1, NEUTRAL: 0}
_DIRECTION = {1: LONG, -1: SHORT, 0: NEUTRAL}


def grace(horizon_s: float) -> float:
    """How long after ts + h a price still counts as the price at ts + h."""
    return max(GRACE_MIN_S, GRACE_FRACTION * horizon_s)


@dataclass(frozen=True, slots=True)
class Signal:
    """One evaluated symbol-cycle, waiting for its horizons: the vote, the decision, the price."""

    ts: float
    symbol: str
    direction: str  # the vote's: LONG / SHORT / NEUTRAL
    conviction: str
    outcome: str  # TRADE, BLOCKED, or NEUTRAL (no direction, nothing to block)
    blocker: str | None  # the first blocker of a BLOCKED decision
    version: str
    price: float  # the symbol's price the signal was made on
    components: tuple[ComponentCall, ...] = ()

    def resolved(self, horizon_s: float, price_after: float) -> SignalOutcome:
        return SignalOutcome(
            ts=self.ts,
            symbol=self.symbol,
            horizon_s=horizon_s,
            direction=self.direction,
            conviction=self.conviction,
            outcome=self.outcome,
            blocker=self.blocker,
            version=self.version,
            price=self.price,
            price_after=price_after,
            components=self.components,
        )


@dataclass(frozen=True, slots=True)
class Resolution:
    """A signal at one horizon: the price found (and when it was seen), or None: unresolvable."""

    signal: Signal
    horizon_s: float
    price_after: float | None
    price_ts: float | None

    @property
    def outcome(self) -> SignalOutcome | None:
        """The learners' record; None when unresolvable."""
        if self.price_after is None:
            return None
        return self.signal.resolved(self.horizon_s, self.price_after)

    def as_dict(self) -> dict[str, Any]:
        """This horizon in a line of logs/signal_outcomes.jsonl: the price after and when it
        was seen, the move, whether the vote was right (None: NEUTRAL or a flat price) and
        which of the signal's directional components were; or ``unresolvable``."""
        outcome = self.outcome
        if outcome is None:
            return {"horizon_s": self.horizon_s, "unresolvable": True}
        return {
            "horizon_s": self.horizon_s,
            "price_after": self.price_after,
            "price_ts": self.price_ts,
            "move_pct": outcome.move_pct,
            "right": outcome.right(),
            "components_right": [
                c.component for c in self.signal.components if c.direction != NEUTRAL and outcome.right(c.direction)
            ],
        }


def outcome_line(signal: Signal, resolutions: Sequence[Resolution]) -> dict[str, Any]:
    """The line of logs/signal_outcomes.jsonl for one signal, written once its last horizon is
    resolved: the signal, its directional components (id → direction) and each horizon."""
    return {
        "ts": signal.ts,
        "symbol": signal.symbol,
        "version": signal.version,
        "direction": signal.direction,
        "conviction": signal.conviction,
        "outcome": signal.outcome,
        "blocker": signal.blocker,
        "price": signal.price,
        "components": {c.component: c.direction for c in signal.components if c.direction != NEUTRAL},
        "horizons": [r.as_dict() for r in resolutions],
    }


def price_of(symbol_snapshot: Any) -> float | None:
    """A symbol's price in one snapshot (its ``price``, else the close of its last 1-minute
    candle, as the signal features read it); None when it has neither or it is not usable."""
    if symbol_snapshot is None:
        return None
    price = symbol_snapshot.values.get("price")
    if price is None and symbol_snapshot.candles:
        price = symbol_snapshot.candles[-1].close
    return price if _usable(price) else None


def prices_of(snapshot: Any) -> dict[str, float]:
    """Every symbol's price in one snapshot (those that have one)."""
    out = {}
    for symbol, data in snapshot.symbols.items():
        price = price_of(data)
        if price is not None:
            out[symbol] = price
    return out


def _usable(price: Any) -> bool:
    return isinstance(price, (int, float)) and not isinstance(price, bool) and math.isfinite(price) and price > 0


def signal_of(decision: Any, price: float | None) -> Signal | None:
    """The signal of one entry decision (engine/trading/entry.py ``EntryDecision``, whose
    ``signal`` is the SignalRecord), made on ``price``; None without a usable price (no move
    can be measured from it)."""
    if not _usable(price):
        return None
    record = decision.signal
    direction = record.direction
    if decision.outcome == TRADE:
        outcome, blocker = TRADE, None
    elif direction == NEUTRAL:
        outcome, blocker = NEUTRAL, None
    else:
        outcome, blocker = BLOCKED, decision.first_blocker
    components = tuple(
        ComponentCall(c.id, c.direction, float(c.confidence), float(c.weight)) for c in record.components
    )
    return Signal(
        ts=decision.ts,
        symbol=decision.symbol,
        direction=direction,
        conviction=record.conviction,
        outcome=outcome,
        blocker=blocker,
        version=decision.version,
        price=float(price),  # type: ignore[arg-type]  # _usable: a finite number
        components=components,
    )


class Resolver:
    """The signals waiting for their horizons, resolved as later prices come.

    One queue per horizon, in signal-time order: ``observe(now, …)`` looks only at the heads
    whose ts + h has come, so a step costs what it resolves, not what is pending."""

    def __init__(self, horizons: Sequence[float], pending: Iterable[tuple[Signal, Iterable[Resolution]]] = ()) -> None:
        """``pending``: signals made before, each with its resolutions so far (unresolvable
        ones included) — a resumed run's (``StateStore.pending_signals``)."""
        self.horizons = tuple(sorted({float(h) for h in horizons}))
        if not self.horizons or any(not math.isfinite(h) or h <= 0 for h in self.horizons):
            raise ValueError(f"signal resolution horizons must be positive seconds, got {tuple(horizons)!r}")
        self._queues: dict[float, deque[Signal]] = {h: deque() for h in self.horizons}
        # each signal's resolutions until its last horizon's: (ts, symbol) → {horizon: resolution}
        self._done: dict[tuple[float, str], dict[float, Resolution]] = {}
        self.finished: list[tuple[Signal, tuple[Resolution, ...]]] = []  # by the last observe
        self.resolved = 0
        self.unresolvable = 0
        for signal, done in sorted(pending, key=lambda item: (item[0].ts, item[0].symbol)):
            known = {r.horizon_s: r for r in done if r.horizon_s in self._queues}
            if len(known) == len(self.horizons):
                continue
            self._done[(signal.ts, signal.symbol)] = known
            for horizon in self.horizons:
                if horizon not in known:
                    self._queues[horizon].append(signal)

    def __len__(self) -> int:
        """Signals × horizons still waiting."""
        return sum(len(q) for q in self._queues.values())

    def add(self, signal: Signal) -> None:
        """A new signal; signals come in time order (a step's, after the steps before)."""
        self._done[(signal.ts, signal.symbol)] = {}
        for queue in self._queues.values():
            queue.append(signal)

    def observe(self, now: float, prices: Mapping[str, float]) -> list[Resolution]:
        """The cycle at ``now`` saw ``prices`` (symbol → price): every waiting (signal, horizon)
        whose ts + h has come is resolved at its symbol's price here, or unresolvable when its
        grace has passed without one; a symbol without a price here keeps waiting within the
        grace. Signals of ``now`` itself are not resolved by it (h > 0)."""
        out: list[Resolution] = []
        for horizon, queue in self._queues.items():
            if not queue or queue[0].ts + horizon > now:
                continue
            deadline = now - grace(horizon)
            waiting: list[Signal] = []
            while queue and queue[0].ts + horizon <= now:
                signal = queue.popleft()
                price = prices.get(signal.symbol)
                if signal.ts + horizon < deadline:  # the grace passed with no price of its symbol
                    out.append(Resolution(signal, horizon, None, None))
                elif price is not None:
                    out.append(Resolution(signal, horizon, float(price), now))
                else:
                    waiting.append(signal)
            queue.extendleft(reversed(waiting))  # still within the grace: first in line again
        self.resolved += sum(1 for r in out if r.price_after is not None)
        self.unresolvable += sum(1 for r in out if r.price_after is None)
        out.sort(key=lambda r: (r.signal.ts, r.signal.symbol, r.horizon_s))
        self.finished = []
        for resolution in out:
            key = (resolution.signal.ts, resolution.signal.symbol)
            done = self._done[key]
            done[resolution.horizon_s] = resolution
            if len(done) == len(self.horizons):  # its last horizon: the signal is finished
                del self._done[key]
                self.finished.append((resolution.signal, tuple(done[h] for h in self.horizons)))
        return out


def resolve_series(
    signals: Iterable[Signal],
    prices: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    horizons: Sequence[float],
    *,
    until: float | None = None,
) -> list[Resolution]:
    """The resolutions of ``signals`` from prices given as columns: symbol → (times ascending,
    prices; only the cycles that had a usable price), e.g. a dry-run's recorded decisions and
    its snapshots' price column; ``until`` is the last cycle's time (default: the last price's).
    Gives what a :class:`Resolver` fed the same cycles in order up to ``until`` gives (those
    not due by then are left out: not resolvable yet)."""
    out: list[Resolution] = []
    wanted = tuple(sorted({float(h) for h in horizons}))
    if until is None:
        until = max((float(times[-1]) for times, _ in prices.values() if len(times)), default=-math.inf)
    for signal in signals:
        times, values = prices.get(signal.symbol, ((), ()))
        for horizon in wanted:
            due = signal.ts + horizon
            at = bisect.bisect_left(times, due)
            if at < len(times) and times[at] <= min(due + grace(horizon), until):
                out.append(Resolution(signal, horizon, float(values[at]), float(times[at])))
            elif until > due + grace(horizon):
                out.append(Resolution(signal, horizon, None, None))
    out.sort(key=lambda r: (r.signal.ts, r.signal.symbol, r.horizon_s))
    return out


def direction_sign(direction: str) -> int:
    """+1 LONG, −1 SHORT, 0 NEUTRAL (the stored form of a component's direction)."""
    return _SIGN[direction]


def direction_named(sign: int) -> str:
    return _DIRECTION[sign]
