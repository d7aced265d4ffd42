"""The signal stage: feed snapshots in, get one SignalRecord per symbol out.

``SignalEngine.update(snapshot)`` advances every symbol's incremental features;
``SignalEngine.evaluate(symbol, now)`` is pure — it reads the state and the clock it is
given, and never mutates either, so evaluating twice gives the same record.

Failure policy (docs/signals.md): a missing or stale input, a component that raises, or a
numeric fault makes that component NEUTRAL with a reason; nothing here raises.
"""

from __future__ import annotations

from types import MappingProxyType

from engine.common.errors import RuleRuntimeError
from engine.trading.signals import components as component_kinds
from engine.trading.signals.answer import NEUTRAL, Answer, neutral
from engine.trading.signals.coverage import CoverageCounter
from engine.trading.signals.market import EXPORTS as MARKET_EXPORTS
from engine.trading.signals.market import MarketState
from engine.trading.signals.record import ComponentResult, SignalRecord
from engine.trading.signals.vote import vote

GLOBAL_INPUTS = {"fear_greed"}


class SymbolState:
    """Everything the signal stage remembers about one symbol."""

    __slots__ = ("broken", "components", "env_cache", "last_seen", "market")

    def __init__(self, plan, symbol: str):
        self.market = MarketState(plan, symbol)
        self.components = {c.id: component_kinds.kind_module(c.kind).new_state(c) for c in plan.signals.components}
        self.last_seen: dict[str, float] = {}
        self.env_cache: dict | None = None  # market env, valid until the next update
        self.broken: dict[str, str] = {}  # component id → error raised while feeding it

    def update(self, steps, snapshot, symbol, leader, *, market: bool = True, readers=()) -> None:
        """Feed one snapshot; then hand ``readers`` (the steps of the market-reading kinds)
        the market vocabulary it leaves (SignalEngine.market_env's)."""
        self.env_cache = None
        if market:
            self.market.update(symbol)
        states = self.components
        for component, module, _ in steps:
            try:
                module.update(states[component.id], snapshot, symbol, leader)
            except Exception as error:
                self.broken[component.id] = type(error).__name__
        if readers:
            env = self.market.env()
            for component, module, _ in steps:
                for name, value in module.exports(states[component.id]).items():
                    env.setdefault(name, value)
            for component, module, _ in readers:
                module.observe(states[component.id], env)
        last_seen = self.last_seen
        if leader is not None and "candles_1m" in leader.times:
            last_seen["leader_candles_1m"] = max(leader.times["candles_1m"], last_seen.get("leader_candles_1m", -1.0))
        for name, ts in symbol.times.items():
            if ts > last_seen.get(name, -1.0):
                last_seen[name] = ts
        if snapshot.fear_greed is not None:
            self.last_seen["fear_greed"] = max(snapshot.fear_greed_ts, self.last_seen.get("fear_greed", 0.0))

    def carry_over(self, old: SymbolState, component_ids: frozenset[str], market: bool) -> None:
        """Take the live state's listed components (and market features, when ``market``) and
        what it has seen: a hot reload keeps what the new rules compute alike."""
        for cid in component_ids:
            self.components[cid] = old.components[cid]
            if cid in old.broken:
                self.broken[cid] = old.broken[cid]
            else:
                self.broken.pop(cid, None)
        if market:
            self.market = old.market
        self.last_seen = dict(old.last_seen)
        self.env_cache = None


class SignalEngine:
    """Holds per-symbol state for one compiled plan.

    ``sink`` (optional) receives every record of :meth:`run_cycle` as a JSON-ready dict:
    the runner passes a JsonlLog for logs/predictive_signals.jsonl. ``coverage`` counts, per
    symbol and component, the evaluated cycles with usable inputs and with a vote.
    """

    def __init__(self, plan, sink=None):
        self.plan = plan
        self.sink = sink
        self.states = {s.symbol: SymbolState(plan, s.symbol) for s in plan.ruleset.symbols}
        self._override_names = frozenset().union(
            *(o.when.names for c in plan.signals.components for o in c.overrides if o.when is not None)
        )
        self._market_names = frozenset(MARKET_EXPORTS) | plan.indicators.names
        self._steps = tuple((c, component_kinds.kind_module(c.kind), freshness(c)) for c in plan.signals.components)
        self._global_steps = tuple(step for step in self._steps if set(step[1].INPUTS) & GLOBAL_INPUTS)
        self.coverage = CoverageCounter(plan.signals.components, self.states)
        self._fed = (self._steps, self._global_steps, True, _readers(self._steps))  # all, unless expect_carry

    def update(self, snapshot) -> None:
        steps, global_steps, market, readers = self._fed
        leader = snapshot.symbols.get(self.plan.ruleset.leader) if self.plan.ruleset.leader else None
        for name, state in self.states.items():
            symbol = snapshot.symbols.get(name)
            if symbol is not None:
                state.update(steps, snapshot, symbol, leader, market=market, readers=readers)
            elif snapshot.fear_greed is not None:  # global inputs reach every symbol
                state.update(global_steps, snapshot, _empty(name), leader, market=market)

    def expect_carry(self, component_ids: frozenset[str], market: bool) -> None:
        """Until ``carry_over``: feed only what will not be taken from the live engine (a hot
        reload warms just the parts the new rules compute differently)."""
        steps = tuple(step for step in self._steps if step[0].id not in component_ids)
        readers = _readers(steps)
        self._fed = (
            steps,
            tuple(step for step in self._global_steps if step[0].id not in component_ids),
            not market or bool(readers),  # a warming market reader needs the market it observes
            readers,
        )

    def carry_over(self, old: SignalEngine, component_ids: frozenset[str], market: bool) -> None:
        """Take the live engine's state of ``component_ids`` (and market features) for every
        symbol; from now on every part is fed again."""
        for name, state in self.states.items():
            state.carry_over(old.states[name], component_ids, market)
        self._fed = (self._steps, self._global_steps, True, _readers(self._steps))

    def run_cycle(self, snapshot) -> list[SignalRecord]:
        """One cycle: update with ``snapshot``, evaluate every symbol at its time, log the records."""
        self.update(snapshot)
        records = [self.evaluate(symbol, snapshot.ts) for symbol in self.states]
        if self.sink is not None:
            for record in records:
                self.sink(record.as_dict())
        return records

    def _override_env(self, state: SymbolState) -> dict:
        """Only the names the rules' overrides read, computed once per update (read-only)."""
        if state.env_cache is None:
            needed = self._override_names
            env = state.market.env() if needed & self._market_names else {}
            for component, module, _ in self._steps:
                if needed & set(module.EXPORTS):
                    for name, value in module.exports(state.components[component.id]).items():
                        env.setdefault(name, value)
            state.env_cache = env
        return state.env_cache

    def market_env(self, symbol: str) -> dict:
        """Every vocabulary value known for ``symbol`` now (for expressions and records)."""
        state = self.states[symbol]
        env = state.market.env()
        for component, module, _ in self._steps:
            for name, value in module.exports(state.components[component.id]).items():
                env.setdefault(name, value)
        return env

    def evaluate(self, symbol: str, now: float) -> SignalRecord:
        state = self.states[symbol]
        env = self._override_env(state) if self._override_names else {}
        results = [
            (
                component,
                answer_of(
                    component,
                    fresh,
                    state.last_seen,
                    env,
                    now,
                    state.broken.get(component.id),
                    module.evaluate,
                    state.components[component.id],
                ),
            )
            for component, module, fresh in self._steps
        ]
        self.coverage.count(symbol, now, self._steps, state.last_seen, [answer for _, answer in results])
        return record_of(self.plan, symbol, now, results)

    def known_neutral(self, symbol: str) -> bool:
        """Whether the vote is known to be NEUTRAL without evaluating: never, here (the
        column form knows it from its precomputed votes)."""
        return False

    def seen(self, symbol: str, name: str) -> float | None:
        """When ``symbol`` last received input ``name`` (None: never)."""
        return self.states[symbol].last_seen.get(name)

    @property
    def symbols(self) -> tuple[str, ...]:
        return tuple(self.states)


def record_of(plan, symbol: str, now: float, results: list) -> SignalRecord:
    """The SignalRecord of one evaluation: the components' answers and their vote."""
    return SignalRecord(
        version=plan.version,
        profile=plan.profile,
        ts=now,
        symbol=symbol,
        components=tuple(ComponentResult(c, a) for c, a in results),
        vote=vote(plan.signals, results),
    )


def answer_of(component, fresh, last_seen, env: dict, now: float, broken: str | None, evaluate, state) -> Answer:
    """The component's answer: an override if one holds, else NEUTRAL for missing/stale
    inputs (``last_seen``: input → last publication time), else ``evaluate(component, state)``
    (NEUTRAL if it fails or the component's feed ``broken``)."""
    if component.overrides:
        overridden = override_answer(component, env)
        if overridden is not None:
            return overridden
    for name, limit in fresh:
        seen = last_seen.get(name)
        if seen is None:
            return neutral(f"missing:{name}")
        if limit is not None and now - seen > limit:
            return neutral(f"stale:{name}", age_s=now - seen, max_age_s=limit)
    if broken is not None:
        return neutral(f"error:{broken}")
    try:
        return evaluate(component, state)
    except Exception as error:
        return neutral(f"error:{type(error).__name__}")


def _readers(steps) -> tuple:
    """The steps of the kinds that observe the market vocabulary (components.MARKET_READERS)."""
    return tuple(step for step in steps if step[0].kind in component_kinds.MARKET_READERS)


def _empty(name: str):
    from engine.market.snapshot import SymbolSnapshot

    return SymbolSnapshot(name, MappingProxyType({}), MappingProxyType({}))


def freshness(component) -> tuple[tuple[str, float | None], ...]:
    """(input, max age or None) for each input the component's kind needs."""
    return tuple(
        (name, component.max_input_age.get(name)) for name in component_kinds.kind_module(component.kind).INPUTS
    )


def override_answer(component, env: dict) -> Answer | None:
    for override in component.overrides:
        try:
            holds = override.when(env)
        except RuleRuntimeError:
            continue  # an override that cannot be evaluated does not apply
        if holds:
            confidence = 0.0 if override.direction == NEUTRAL else override.confidence
            return Answer(override.direction, confidence, (f"override:{override.reason}",), MappingProxyType({}))
    return None
