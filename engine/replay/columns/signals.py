"""The signal stage over a whole recording at once: the dry-run fast path's SignalEngine.

:class:`ColumnSignals` answers exactly what :class:`engine.trading.signals.engine.SignalEngine`
would, cycle by cycle, but computes every component for the whole history up front:

* candle-fed components are computed per candle by their kind's column form
  (engine/replay/columns/components/, shapes in engine/replay/columns/candles.py); a
  candle-fed kind without one makes the plan NotReplayable (:func:`check_column_forms`);
* every other component is fed only at its *events* — the cycles where its first input
  carries a newer publication time. At other cycles the scalar update is a no-op by the
  feature contract (a reading not later than the last accepted one is ignored whole), so
  the answer is held. At each event every input of the component must be present, else
  the history is NotReplayable (the scalar path would apply the reading later);
* staleness and overrides are applied per cycle exactly as ``answer_of`` does; overrides
  may read only per-symbol constants (``is_leader``).

``active`` marks the cycles where some symbol's vote is not NEUTRAL: only there (and
while a position or order is open) must the runner look at entries. ``evaluate`` gives a
:class:`ColumnRecord`: the vote read off the vote columns, the components' answers built
(by the same functions the scalar engine uses) only when read — most decisions a replay
makes stop at a check that reads the vote alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Any, cast

import numpy as np

from engine.market.snapshot import Snapshot, SymbolSnapshot
from engine.replay.columns import components as column_forms
from engine.replay.columns.candles import DIRECTION_CODE, DIRECTION_NAME
from engine.replay.columns.declared import check_forms, declared_columns
from engine.replay.columns.market import MarketColumns, market_columns
from engine.replay.recording import NotReplayable, Recording, SymbolRecording
from engine.trading.signals import components as component_kinds
from engine.trading.signals.answer import neutral
from engine.trading.signals.coverage import Counts
from engine.trading.signals.engine import answer_of, freshness, override_answer
from engine.trading.signals.market import market_env
from engine.trading.signals.record import ComponentResult, SignalRecord, VoteFields
from engine.trading.signals.vote import Vote, vote

CONSTANT_NAMES = frozenset({"is_leader"})
_NO_SYMBOLS: Mapping[str, Any] = MappingProxyType({})  # empty: no symbols, values or times


class _Held:
    """Answers of an event-fed component, held from one event to the next."""

    def __init__(self, events: np.ndarray, answers: list, exports: list, n: int):
        self.index = np.searchsorted(events, np.arange(n), side="right")  # 0 = before the first event
        self.answers, self.exports_list = answers, exports
        self.direction = np.array([DIRECTION_CODE[a.direction] for a in answers], dtype=np.int8)[self.index]
        self.confidence = np.array([a.confidence for a in answers], dtype=float)[self.index]

    def answer_at(self, i: int):
        return self.answers[self.index[i]]

    def exports_at(self, i: int) -> dict:
        return self.exports_list[self.index[i]]


class _Fresh:
    """A component that was never fed (its inputs never arrive): the fresh state's answer."""

    def __init__(self, component, module, n: int):
        state = module.new_state(component)
        self._answer, self._exports = _evaluate(component, module, state), module.exports(state)
        # one value seen n times (read-only views): a full column per never-fed component and
        # symbol held ~20 MB on a year of 5-minute cycles
        self.direction = np.broadcast_to(np.int8(DIRECTION_CODE[self._answer.direction]), (n,))
        self.confidence = np.broadcast_to(np.float64(self._answer.confidence), (n,))

    def answer_at(self, i: int):
        return self._answer

    def exports_at(self, i: int) -> dict:
        return self._exports


class _Candles:
    """A candle-fed component over a dense history: candle k arrives in cycle k."""

    def __init__(self, columns):
        self.columns = columns
        self.direction, self.confidence = columns.direction, columns.confidence

    def answer_at(self, i: int):
        return self.columns.answer_at(i)

    def exports_at(self, i: int) -> dict:
        return self.columns.exports_at(i)


def _evaluate(component, module, state):
    try:
        return module.evaluate(component, state)
    except Exception as error:
        return neutral(f"error:{type(error).__name__}")


def _running_max(times: np.ndarray) -> np.ndarray:
    """Last publication time seen by each cycle (NaN until the first)."""
    return np.fmax.accumulate(times)


class _SymbolColumns:
    """Every component of one symbol, its last-seen times and its market columns."""

    def __init__(self, plan, recording: Recording, name: str, steps):
        self.name = name
        self.is_leader = plan.ruleset.leader == name
        self.recorded = recording.symbols.get(name)
        leader = recording.symbols.get(plan.ruleset.leader) if plan.ruleset.leader else None
        n = len(recording)
        self.last_seen = self._last_seen(recording, leader, n)
        self.market = market_columns(plan, self.recorded.candles) if self.recorded is not None else None
        self.market_last = self._market_last(self.recorded) if self.recorded is not None else {}
        # the declared indicators (indicators.yaml) after each cycle's candle, NaN where absent
        self.declared = declared_columns(plan.indicators, self.recorded.candles) if self.recorded is not None else {}
        self._market_rows: np.ndarray | None = None
        self.parts = [self._component(plan, recording, leader, component, module, n) for component, module, _ in steps]
        self.direction = (
            np.stack(
                [
                    self._checked(component, fresh, part, recording.ts)
                    for (component, _, fresh), part in zip(steps, self.parts)
                ]
            )
            if steps
            else np.zeros((0, n), dtype=np.int8)
        )
        # one column per component, not stacked: vote_columns reads them one by one, and a stacked
        # copy (components × cycles floats) would double what the parts hold already
        self.confidence = [self._confidence(component, part, n) for (component, _, _), part in zip(steps, self.parts)]

    def _last_seen(self, recording: Recording, leader, n: int) -> dict[str, np.ndarray]:
        """As SymbolState.update: a symbol absent from the recording is updated only when
        the snapshot carries fear & greed (its global inputs)."""
        fed = np.ones(n, dtype=bool) if self.recorded is not None else ~np.isnan(recording.fear_greed)
        out: dict[str, np.ndarray] = {}
        if self.recorded is not None:
            out.update({k: _running_max(v) for k, v in self.recorded.times.items()})
        if leader is not None and "candles_1m" in leader.times:
            out["leader_candles_1m"] = _running_max(np.where(fed, leader.times["candles_1m"], np.nan))
        fear = np.where(np.isnan(recording.fear_greed), np.nan, np.maximum(recording.fear_greed_ts, 0.0))
        if not np.isnan(fear).all():
            out["fear_greed"] = _running_max(np.where(fed, fear, np.nan))
        return out

    @staticmethod
    def _market_last(recorded: SymbolRecording) -> dict[str, np.ndarray]:
        """MarketState.last: each key's last value, forward-filled; price falls back to the candle's close."""
        out = {}
        for key in ("price", "bid", "ask", "taker_buy_usd", "taker_sell_usd", "open_interest_usd"):
            column = recorded.values.get(key)
            if column is not None:
                out[key] = _ffill(column)
        price = recorded.values.get("price")
        out["price"] = (
            recorded.candles.close.copy()
            if price is None
            else _ffill(np.where(np.isnan(price), recorded.candles.close, price))
        )
        return out

    def _component(self, plan, recording: Recording, leader, component, module, n: int):
        if component.kind in component_kinds.MARKET_READERS:  # observes the market vocabulary each cycle
            form = column_forms.MARKET_FORMS.get(component.kind)
            if form is None:
                raise NotReplayable(f"{component.id}: kind {component.kind} has no column form")
            if self.recorded is None:
                return _Fresh(component, module, n)
            return _Candles(form.columns(component, self.market_columns(recording.ts), n))
        if _candle_fed(module):
            if self.recorded is None:
                return _Fresh(component, module, n)
            lead_close = None
            if leader is not None and leader is not self.recorded:
                same = leader.candles.ts == self.recorded.candles.ts
                lead_close = np.where(same, leader.candles.close, np.nan)
            form = column_forms.column_form(component.kind)
            if form is None:  # check_column_forms refused the plan already
                raise NotReplayable(_no_column_form(component))
            try:
                return _Candles(form.columns(component, self.recorded.candles, lead_close))
            except Exception as error:
                raise NotReplayable(f"{component.id}: {type(error).__name__}: {error}") from error
        return self._events(recording, component, module, n)

    def _events(self, recording: Recording, component, module, n: int):
        first, recorded = module.INPUTS[0], self.recorded
        if first == "fear_greed":
            times = np.where(np.isnan(recording.fear_greed), np.nan, recording.fear_greed_ts)
        elif recorded is None or first not in recorded.times:
            return _Fresh(component, module, n)
        else:
            times = recorded.times[first]
        before = np.concatenate(([-np.inf], np.fmax.accumulate(times)[:-1]))
        before = np.where(np.isnan(before), -np.inf, before)
        events = np.flatnonzero(times > before)
        if first != "fear_greed" and recorded is not None:  # not fear_greed: recorded, as checked above
            self._require_inputs(recorded, component, module, events)
        state = module.new_state(component)
        answers, exports = [_evaluate(component, module, state)], [module.exports(state)]
        for i in events.tolist():
            try:
                module.update(state, self._snapshot(recording, i), self._symbol(i), None)
            except Exception as error:
                raise NotReplayable(f"{component.id}: {type(error).__name__}: {error}") from error
            answers.append(_evaluate(component, module, state))
            exports.append(module.exports(state))
        return _Held(events, answers, exports, n)

    @staticmethod
    def _require_inputs(recorded: SymbolRecording, component, module, events: np.ndarray) -> None:
        for name in module.INPUTS[1:]:
            if not recorded.present(name)[events].all():
                raise NotReplayable(f"{component.id}: {name} missing when {module.INPUTS[0]} arrived")

    def _symbol(self, i: int) -> SymbolSnapshot:
        if self.recorded is None:
            return SymbolSnapshot(self.name, _NO_SYMBOLS, _NO_SYMBOLS)
        return self.recorded.snapshot_at(i)

    @staticmethod
    def _snapshot(recording: Recording, i: int) -> Snapshot:
        fg = float(recording.fear_greed[i])
        if fg != fg:
            return Snapshot(float(recording.ts[i]), _NO_SYMBOLS)
        return Snapshot(float(recording.ts[i]), _NO_SYMBOLS, fg, float(recording.fear_greed_ts[i]))

    def _checked(self, component, fresh, part, now: np.ndarray) -> np.ndarray:
        """The direction after overrides and staleness, as answer_of decides it."""
        if component.overrides:
            overridden = override_answer(component, {"is_leader": self.is_leader})  # constants only
            if overridden is not None:
                return np.full(len(now), DIRECTION_CODE[overridden.direction], dtype=np.int8)
        ok = np.ones(len(now), dtype=bool)
        for name, limit in fresh:
            seen = self.last_seen.get(name)
            if seen is None:
                return np.zeros(len(now), dtype=np.int8)
            ok &= ~np.isnan(seen)
            if limit is not None:
                with np.errstate(invalid="ignore"):
                    ok &= ~(now - seen > limit)
        return np.where(ok, part.direction, 0).astype(np.int8)

    def _confidence(self, component, part, n: int) -> np.ndarray:
        """Each cycle's answer confidence (read where the direction is not NEUTRAL, so a
        stale answer's 0 never matters): the constant override's, else the component's."""
        if component.overrides:
            overridden = override_answer(component, {"is_leader": self.is_leader})
            if overridden is not None:
                return np.broadcast_to(np.float64(overridden.confidence), (n,))
        return np.asarray(part.confidence, dtype=float)

    def market_columns(self, ts: np.ndarray) -> dict[str, np.ndarray]:
        """The market vocabulary (market_env plus the price's age, as EntryPipeline.market
        adds it) as one column per name, NaN where the scalar env has no such key."""
        n = len(ts)
        out = {"is_leader": np.full(n, self.is_leader)}
        m = self.market
        if m is None:  # a symbol absent from the recording (market is None exactly then)
            return out
        last, absent = self.market_last, np.full(n, np.nan)
        out["price"] = last["price"]
        out["spread_bps"] = _spread_bps(last["bid"], last["ask"]) if "bid" in last and "ask" in last else absent
        out.update(
            price_change_pct=m.price_change_pct,
            ema_spread_pct=m.ema_spread_pct,
            mtf_long=m.mtf_long,
            mtf_short=m.mtf_short,
            open_interest_usd=last.get("open_interest_usd", absent),
        )
        out["taker_buy_sell_ratio"] = (
            _taker_ratio(last.get("taker_buy_usd"), last["taker_sell_usd"]) if "taker_sell_usd" in last else absent
        )
        out.update(self.declared)
        seen = self.last_seen.get("price")
        if seen is not None:
            with np.errstate(invalid="ignore"):
                out["price_age_s"] = np.where(np.isnan(seen), np.nan, np.maximum(0.0, ts - seen))
        return out

    def seen_at(self, i: int) -> dict[str, float]:
        return {name: value for name, column in self.last_seen.items() if (value := float(column[i])) == value}

    def env_at(self, i: int) -> dict:
        """MarketState.env() then each component's exports (first wins), at cycle ``i``."""
        out = self._market_env(i) if self.recorded is not None else {"is_leader": self.is_leader}
        for part in self.parts:
            for key, value in part.exports_at(i).items():
                out.setdefault(key, value)
        return out

    def _market_env(self, i: int) -> dict:
        if self._market_rows is None:  # one row of plain floats per cycle, built on first use
            # env_at calls this only for a recorded symbol, whose market columns exist
            m = cast(MarketColumns, self.market)
            columns = list(self.market_last.values()) + [m.price_change_pct, m.ema_spread_pct, m.mtf_long, m.mtf_short]
            self._market_rows = np.column_stack(columns)
        *last_values, change, spread, mtf_long, mtf_short = self._market_rows[i].tolist()
        last = {k: v for k, v in zip(self.market_last, last_values) if v == v}
        env = market_env(
            self.is_leader,
            last,
            _value(change),
            _value(spread),
            (mtf_long, mtf_short) if mtf_long == mtf_long else None,
        )
        for name, column in self.declared.items():  # as MarketState.env: the declared indicators last
            value = float(column[i])
            if value == value:
                env[name] = value
        return env


def _spread_bps(bid: np.ndarray, ask: np.ndarray) -> np.ndarray:
    """market_env's spread where ask ≥ bid > 0, else NaN (absent)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where((ask >= bid) & (bid > 0), (ask - bid) / ((ask + bid) / 2) * 1e4, np.nan)


def _taker_ratio(buy: np.ndarray | None, sell: np.ndarray) -> np.ndarray:
    """market_env's taker buy/sell ratio where a non-zero sell volume is known, else NaN."""
    buy = np.zeros(len(sell)) if buy is None else np.where(np.isnan(buy), 0.0, buy)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(~np.isnan(sell) & (sell != 0), buy / sell, np.nan)


def _value(x: float) -> float | None:
    """A column cell, None for NaN (absent)."""
    return None if x != x else x


def _ffill(column: np.ndarray) -> np.ndarray:
    """Each cycle's last non-NaN value so far (NaN before the first)."""
    index = np.where(np.isnan(column), -1, np.arange(len(column)))
    np.maximum.accumulate(index, out=index)
    out = column[np.maximum(index, 0)]
    out[index < 0] = np.nan
    return out


def _candle_fed(module) -> bool:
    return "candles_1m" in module.INPUTS


def _no_column_form(component) -> str:
    return (
        f"{component.id}: signal component kind {component.kind} reads one-minute candles "
        "and has no column form (engine/replay/columns/components/)"
    )


def check_column_forms(plan) -> None:
    """NotReplayable when a candle-fed component's kind has no column form: the fast path
    cannot know its answers without stepping it, so the plan takes the scalar path."""
    for component in plan.signals.components:
        if _candle_fed(component_kinds.COMPONENTS[component.kind]) and column_forms.column_form(component.kind) is None:
            raise NotReplayable(_no_column_form(component))


def check_overrides(plan) -> None:
    """NotReplayable when an override reads a value that changes over time."""
    for component in plan.signals.components:
        for override in component.overrides:
            names = set(override.when.names) if override.when is not None else set()
            if names - CONSTANT_NAMES:
                raise NotReplayable(f"{component.id}: an override reads {', '.join(sorted(names - CONSTANT_NAMES))}")


class ColumnSignals:
    """SignalEngine's interface (``update``, ``evaluate``, ``market_env``, ``seen``,
    ``symbols``) over a whole recording; ``update(snapshot)`` only moves the cursor."""

    def __init__(self, plan, recording: Recording):
        check_overrides(plan)
        check_column_forms(plan)
        check_forms(plan.indicators)
        self.plan, self.recording, self.sink = plan, recording, None
        self._steps = tuple((c, component_kinds.COMPONENTS[c.kind], freshness(c)) for c in plan.signals.components)
        self._columns = {name: _SymbolColumns(plan, recording, name, self._steps) for name in plan.ruleset.names()}
        self.cursor = -1
        self.votes = {name: vote_columns(plan.signals, c.direction, c.confidence) for name, c in self._columns.items()}
        directional = {name: votes.direction != 0 for name, votes in self.votes.items()}
        self.active = np.logical_or.reduce(list(directional.values()))  # a rule set has at least one symbol
        self._votes = {name: votes.tolist() for name, votes in directional.items()}
        self._env: dict[str, dict] = {}
        self._market_columns: dict[str, dict] = {}
        self._cascades: dict[str, np.ndarray] = {}

    def market_columns(self, symbol: str) -> dict[str, np.ndarray]:
        """The market vocabulary of ``symbol`` per cycle (engine.replay.columns.decisions reads it)."""
        if symbol not in self._market_columns:
            self._market_columns[symbol] = self._columns[symbol].market_columns(self.recording.ts)
        return self._market_columns[symbol]

    def cascade_active(self, symbol: str) -> np.ndarray:
        """bool per cycle: some cascade-signalling component (its kind's SIGNALS_CASCADE) is not
        NEUTRAL (decision_env's flag)."""
        rows = [k for k, (c, _, _) in enumerate(self._steps) if c.signals_cascade]
        directions = self._columns[symbol].direction
        return (directions[rows] != 0).any(axis=0) if rows else np.zeros(len(self.recording), dtype=bool)

    def known_neutral(self, symbol: str) -> bool:
        """The vote is NEUTRAL now (known without building the record)."""
        return not self._votes[symbol][self.cursor]

    @property
    def symbols(self) -> tuple[str, ...]:
        return tuple(self._columns)

    def update(self, snapshot) -> None:
        """Move the cursor to the snapshot's cycle (KeyError for a time the recording does
        not hold); found by bisection in the strictly increasing ts, not a dict of every cycle."""
        ts = self.recording.ts
        i = int(np.searchsorted(ts, snapshot.ts))
        if i == len(ts) or ts[i] != snapshot.ts:
            raise KeyError(snapshot.ts)
        self.seek(i)

    def seek(self, i: int) -> None:
        """Put the cursor on cycle ``i`` (what ``update`` does with that cycle's snapshot)."""
        self.cursor = i
        self._env = {}

    def evaluate(self, symbol: str, now: float) -> ColumnRecord:
        """The record at the cursor's cycle, judged at ``now``: the vote columns judged the
        inputs' freshness at the cycle's own time, so at any other ``now`` (explain at an
        instant between cycles) the vote is counted from the answers, as the scalar engine does."""
        i = self.cursor
        if now != self.recording.ts[i]:
            components = self._answers(symbol, i, now)
            counted = SignalRecord(
                self.plan.version,
                self.plan.profile,
                now,
                symbol,
                components,
                vote(self.plan.signals, [(c.component, c.answer) for c in components]),
            )
            return ColumnRecord(
                counted.version, counted.profile, now, symbol, counted.vote, counted.cascade_active, lambda: components
            )
        return ColumnRecord(
            self.plan.version,
            self.plan.profile,
            now,
            symbol,
            self._vote_at(symbol, i),
            bool(self._cascade(symbol)[i]),
            lambda: self._answers(symbol, i, now),
        )

    def _answers(self, symbol: str, i: int, now: float) -> tuple[ComponentResult, ...]:
        """Every component's answer at cycle ``i``, as SignalEngine.evaluate gives them."""
        columns = self._columns[symbol]
        last_seen = columns.seen_at(i)
        env = {"is_leader": columns.is_leader}
        return tuple(
            ComponentResult(component, answer_of(component, fresh, last_seen, env, now, None, _answer_at, (part, i)))
            for (component, _, fresh), part in zip(self._steps, columns.parts)
        )

    def _vote_at(self, symbol: str, i: int) -> Vote:
        """vote() at cycle ``i`` from the vote columns (bit-identical: vote_columns), the
        per-side counts from the component directions."""
        votes, spec = self.votes[symbol], self.plan.signals
        directions = self._columns[symbol].direction[:, i].tolist()
        conviction = votes.conviction[i]
        return Vote(
            DIRECTION_NAME[int(votes.direction[i])],
            directions.count(1),
            directions.count(-1),
            int(votes.aligned_count[i]),
            float(votes.confidence[i]),
            conviction,
            self._multipliers.get(conviction, spec.fallback_multiplier),
        )

    @cached_property
    def _multipliers(self) -> dict[str, float]:
        return {level.name: level.size_multiplier for level in self.plan.signals.levels}

    def _cascade(self, symbol: str) -> np.ndarray:
        found = self._cascades.get(symbol)
        if found is None:
            found = self._cascades[symbol] = self.cascade_active(symbol)
        return found

    def coverage(self, rows: np.ndarray) -> Counts:
        """The counts CoverageCounter would hold after evaluating every symbol at each of
        ``rows`` (engine.trading.signals.coverage), from the columns."""
        now = self.recording.ts[rows]
        counts: Counts = {}
        for name, columns in self._columns.items():
            row = [len(rows)]
            for k, (_, _, fresh) in enumerate(self._steps):
                usable = [_usable(columns.last_seen.get(input_name), limit, rows, now) for input_name, limit in fresh]
                direction = columns.direction[k][rows]
                row += [
                    int(np.logical_and.reduce(usable).sum()) if usable else len(rows),
                    int((direction == 1).sum()),
                    int((direction == -1).sum()),
                    *(int(u.sum()) for u in usable),
                ]
            counts[name] = row
        return counts

    def market_env(self, symbol: str) -> dict:
        """A fresh dict each call (callers add to it); computed once per cycle."""
        env = self._env.get(symbol)
        if env is None:
            env = self._env[symbol] = self._columns[symbol].env_at(self.cursor)
        return dict(env)

    def seen(self, symbol: str, name: str) -> float | None:
        column = self._columns[symbol].last_seen.get(name)
        value = None if column is None else float(column[self.cursor])
        return None if value is None or value != value else value


@dataclass(frozen=True)
class ColumnRecord(VoteFields):
    """SignalRecord's interface at one cycle of the columns: the vote read off them, the
    components' answers built on first read (``components``), and ``cascade_active`` from
    the cascade column rather than from the answers."""

    version: str
    profile: str
    ts: float
    symbol: str
    vote: Vote
    cascade_active: bool
    answers: Any = field(repr=False, compare=False)  # () -> tuple[ComponentResult, ...]

    @cached_property
    def components(self) -> tuple[ComponentResult, ...]:
        return cast(tuple[ComponentResult, ...], self.answers())

    def record(self) -> SignalRecord:
        """The SignalRecord the scalar engine builds at this cycle."""
        return SignalRecord(self.version, self.profile, self.ts, self.symbol, self.components, self.vote)

    def as_dict(self) -> dict:
        return self.record().as_dict()


def _usable(seen: np.ndarray | None, limit: float | None, rows: np.ndarray, now: np.ndarray) -> np.ndarray:
    """Per row: the input was seen and, with a ``limit``, is not older than it (answer_of's test)."""
    if seen is None:
        return np.zeros(len(rows), dtype=bool)
    at = seen[rows]
    ok = ~np.isnan(at)
    if limit is not None:
        with np.errstate(invalid="ignore"):
            ok &= ~(now - at > limit)
    return ok


def _answer_at(component, where):
    part, i = where
    return part.answer_at(i)


@dataclass(frozen=True)
class VoteColumns:
    """The vote's fields per cycle, as engine.trading.signals.vote.vote gives them."""

    direction: np.ndarray  # int8: +1 LONG, −1 SHORT, 0 NEUTRAL
    aligned_count: np.ndarray  # int
    confidence: np.ndarray  # float64 (0 where NEUTRAL)
    conviction: np.ndarray  # object: the level's name, NONE below every level


def vote_columns(spec, directions: np.ndarray, confidences: Sequence[np.ndarray]) -> VoteColumns:
    """:func:`engine.trading.signals.vote.vote` for every cycle at once: the same sums in the same
    component order, so every confidence is bit-identical (tests/signals/test_vote_columns.py)."""
    longs, shorts = (directions == 1), (directions == -1)
    n_long, n_short = longs.sum(axis=0), shorts.sum(axis=0)
    weights = [c.weight for c in spec.components]
    long_weight, short_weight = _weights(weights, longs), _weights(weights, shorts)
    long_score, short_score = (long_weight, short_weight) if spec.direction_by == "weight" else (n_long, n_short)
    side = np.where(long_score > short_score, 1, np.where(short_score > long_score, -1, 0))
    aligned = np.where(side == 1, n_long, np.where(side == -1, n_short, 0))
    voted = aligned >= spec.min_aligned
    total = np.zeros(directions.shape[1])
    for weight, row, confidence in zip(weights, directions, confidences):
        total = np.where((row == side) & (side != 0), total + weight * confidence, total)
    if spec.confidence_basis == "total_weight":
        confidence = total
    else:
        weight = np.where(side == 1, long_weight, np.where(side == -1, short_weight, 0.0))
        confidence = np.where(weight > 0, total / np.where(weight > 0, weight, 1.0), 0.0)
    confidence = np.where(voted, confidence, 0.0)
    conviction = np.empty(directions.shape[1], dtype=object)
    conviction.fill("NONE")  # one str shared by every cell; np.full would make a str per cycle
    open_ = voted.copy()
    for level in spec.levels:
        hit = open_ & (aligned >= level.min_aligned) & (confidence >= level.min_confidence)
        conviction[hit] = level.name
        open_ &= ~hit
    return VoteColumns(np.where(voted, side, 0).astype(np.int8), aligned, confidence, conviction)


def _weights(weights: list[float], mask: np.ndarray) -> np.ndarray:
    """Σ weight over the components on one side, summed in component order as _tally does."""
    total = np.zeros(mask.shape[1])
    for weight, row in zip(weights, mask):
        total = np.where(row, total + weight, total)
    return total
