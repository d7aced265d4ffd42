"""One cycle of the entry side: snapshot → signal records → entry decisions.

The same object runs in paper mode and in dry-run (and will run live): it owns the incremental state
(signal features, return correlations) and hands each decision to a sink (the runner's
logs/signal_universe.jsonl). ``decide`` is pure given the state and its arguments.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from engine.trading import gates
from engine.trading.correlation import ReturnCorrelation
from engine.trading.entry import EntryDecision, decide_entry, neutral_decision
from engine.trading.signals import components as component_kinds
from engine.trading.signals.engine import SignalEngine
from engine.trading.signals.market import market_windows


class LazyCorrelations(Mapping):
    """Correlations of one symbol with the others, computed only when a gate asks (the
    throttle asks only about symbols with open positions)."""

    def __init__(self, tracker: ReturnCorrelation, symbol: str):
        self._tracker, self._symbol = tracker, symbol
        self._known: dict[str, float | None] = {}

    def __getitem__(self, other: str) -> float:
        if other not in self._known:
            self._known[other] = self._tracker.between(self._symbol, other)
        value = self._known[other]
        if value is None:
            raise KeyError(other)
        return value

    def __iter__(self):
        return (s for s in self._tracker.symbols() if s != self._symbol and s in self)

    def __len__(self) -> int:
        return sum(1 for _ in self)


def correlation_window(plan) -> dict:
    """The window and return interval of the gate that reads return correlations (the
    correlation throttle; defaults without one)."""
    window, interval = gates.correlation_window(plan.gates.chain) or (86400.0, 300.0)
    return {"window_s": window, "interval_s": interval}


@dataclass(frozen=True, slots=True)
class Carry:
    """What a hot reload takes from the live pipeline instead of warming it: the parts the new
    plan computes exactly as the old one (the same inputs, the same settings shaping their
    state). A gate, exit or weight edit carries everything; a component's params, that one
    component is warmed."""

    components: frozenset[str] = frozenset()  # signal component ids
    market: bool = False  # the per-symbol market features (EMA cross, alignment, price window)
    correlation: bool = False  # the return correlations
    screen: bool = False  # the market-data sanity layer

    def warms(self, plan) -> bool:
        """Whether anything is left to warm for ``plan``."""
        ids = {c.id for c in plan.signals.components}
        return not (self.market and self.correlation and self.screen and ids <= self.components)


def carry_from(old, new) -> Carry:
    """What of ``old``'s live state ``new`` can take as it is (nothing when the symbols differ)."""
    if old.ruleset.symbols != new.ruleset.symbols:
        return Carry()
    before = {c.id: c for c in old.signals.components}
    same = frozenset(c.id for c in new.signals.components if _same_state(before.get(c.id), c))
    return Carry(
        components=same,
        market=market_windows(old) == market_windows(new) and old.indicators == new.indicators,
        correlation=correlation_window(old) == correlation_window(new),
        screen=old.requirements.market_data == new.requirements.market_data,
    )


def _same_state(old, new) -> bool:
    if old is None or old.kind != new.kind:
        return False
    return all(getattr(old, name) == getattr(new, name) for name in component_kinds.kind_module(new.kind).STATE_READS)


class EntryPipeline:
    def __init__(
        self, plan, *, signal_sink=None, universe_sink=None, full_trail: bool = True, signals=None, correlation=None
    ):
        """``full_trail=False`` is for runs that keep only compact decisions (dry-run): the
        requirement checks of NEUTRAL signals are skipped (they never trade) and every
        decision stops at its first blocker (tests/dryrun/test_determinism.py proves neither
        changes a decision).
        ``signals``/``correlation`` replace the incremental trackers with their column forms
        (the dry-run fast path, engine/replay/recording.py): same interface, computed once per history."""
        self.plan = plan
        self.full_trail = full_trail
        self.signals = signals or SignalEngine(plan, sink=signal_sink)
        self.universe_sink = universe_sink
        self.correlation = correlation or ReturnCorrelation(plan.ruleset.names(), **correlation_window(plan))
        self._feed_correlation = True

    def update(self, snapshot) -> None:
        self.signals.update(snapshot)
        if self._feed_correlation:
            self.correlation.update(snapshot)

    def expect_carry(self, carry: Carry) -> None:
        """Until ``carry_over``, ``update`` feeds only what ``carry`` will not bring."""
        self.signals.expect_carry(carry.components, carry.market)
        self._feed_correlation = not carry.correlation

    def carry_over(self, live: EntryPipeline, carry: Carry) -> None:
        """Take ``carry``'s parts from the ``live`` pipeline (between cycles, on the loop:
        the live one is being replaced and feeds nothing any more)."""
        self.signals.carry_over(live.signals, carry.components, carry.market)
        if carry.correlation:
            self.correlation = live.correlation
        self._feed_correlation = True

    def market(self, symbol: str, now: float) -> dict:
        """Vocabulary values for ``symbol`` at ``now``, including the age of its price."""
        env = self.signals.market_env(symbol)
        seen = self.signals.seen(symbol, "price")
        if seen is not None:
            env["price_age_s"] = max(0.0, now - seen)
        return env

    def decide(self, symbol: str, portfolio, now: float, refused: tuple = ()) -> EntryDecision:
        """``refused``: what the sanity layer refused of this symbol's inputs this cycle
        (engine.market.sanity.Refusal), which the decision names."""
        record = self.signals.evaluate(symbol, now)
        if record.direction == "NEUTRAL" and not self.full_trail:
            decision = neutral_decision(self.plan, record, now)
        else:
            decision = decide_entry(
                self.plan,
                record,
                self.market(symbol, now),
                portfolio,
                LazyCorrelations(self.correlation, symbol),
                now,
                full_trail=self.full_trail,
                refused=refused,
            )
        if self.universe_sink is not None:
            self.universe_sink(decision)  # the sink serialises (as_dict) only what it keeps
        return decision

    def run_cycle(self, snapshot, portfolio) -> list[EntryDecision]:
        self.update(snapshot)
        decisions = [self.decide(symbol, portfolio, snapshot.ts) for symbol in self.signals.symbols]
        if self.signals.sink is not None:
            for decision in decisions:
                self.signals.sink(decision.signal.as_dict())
        return decisions
