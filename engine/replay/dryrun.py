"""Dry-run: the compiled plan over recorded snapshots, with the paper broker and a simulated
clock that drives the declared schedules — the same Runner that trades paper and live.

``dry_run`` takes its broker and store from the caller (the CLI wires the paper broker and
an in-memory store), so this module stays free of adapters. It returns a JSON-ready result:
metrics, the equity curve, the trades, the compact decisions and a fingerprint (a hash of
the trade list) that is identical for identical inputs on any machine.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.bot.scheduler import Scheduler
from engine.bot.tasks.base import BOT_CYCLE
from engine.common import interrupts
from engine.market.sanity import MarketDataReport
from engine.replay.columns.candles import DIRECTION_NAME
from engine.replay.columns.correlation import correlation_cursor
from engine.replay.columns.decisions import DecisionColumns
from engine.replay.holding import HoldingWindow, portfolio_rows
from engine.report.metrics import run_metrics
from engine.trading.runner import Runner, Sinks
from engine.trading.signals.coverage import Counts, coverage_of, layout

MAX_CURVE_POINTS = 5000
PRICE_POINTS = 50_000  # per symbol: the report's price charts zoom to a day at one point per cycle

logger = logging.getLogger(__name__)


@dataclass
class DryRunState:
    """What the run collects as it goes (kept small: compact decisions, sampled curves)."""

    equity: list = field(default_factory=list)
    prices: dict = field(default_factory=dict)
    decisions: list = field(default_factory=list)
    jobs: dict = field(default_factory=dict)
    exposure_cycles: int = 0
    cycles: int = 0
    steps: int = 0  # runner steps taken (the fast path skips the cycles that cannot act)
    start: float | None = None
    end: float | None = None
    interrupted: bool = False
    market_data: MarketDataReport = field(default_factory=MarketDataReport)
    coverage: Counts | None = None  # the fast path's; the scalar path's SignalEngine counts its own


def compact_decision(decision) -> dict:
    """The few fields of an EntryDecision a dry-run keeps (and --vs compares)."""
    return _compact(
        decision.ts,
        decision.symbol,
        decision.outcome,
        decision.direction,
        decision.signal.conviction,
        decision.signal.confidence,
        decision.first_blocker,
    )


def _compact(ts, symbol, outcome, direction, conviction, confidence, first_blocker) -> dict:
    return {
        "ts": ts,
        "symbol": symbol,
        "outcome": outcome,
        "direction": direction,
        "conviction": conviction,
        "confidence": confidence,
        "first_blocker": first_blocker,
    }


def fingerprint(trades: list[dict]) -> str:
    """sha256 of the canonical trade list: floats written with repr, keys sorted."""
    text = json.dumps(trades, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def dry_run(
    plan,
    snapshots: Iterable,
    *,
    broker,
    store,
    start: float | None = None,
    end: float | None = None,
    symbols: set[str] | None = None,
    on_cycle: Callable[[Any], None] | None = None,
    state: DryRunState | None = None,
    runner: Runner | None = None,
) -> tuple[dict, Runner, DryRunState]:
    """Replay ``snapshots`` (already ordered) between ``start`` and ``end``; Ctrl-C stops it
    cleanly and the result covers what was done (``interrupted`` is set)."""
    logger.info("dry-run of %s (profile %s) starts, snapshot by snapshot", plan.version, plan.profile)
    state = state or DryRunState()
    runner = runner or Runner(
        plan,
        broker,
        store,
        full_trail=False,
        sinks=decision_sinks(state),
    )
    scheduler = None
    try:
        for snapshot, following in _with_next(snapshots):
            if start is not None and snapshot.ts < start:
                runner.warm(snapshot)
                continue
            if end is not None and snapshot.ts > end:
                break
            if following is None or (end is not None and following.ts > end):
                _final(runner)
            snapshot = only(snapshot, symbols)
            scheduler = scheduler or Scheduler(plan.schedules, snapshot.ts)
            cycle_of(runner, scheduler.due(snapshot.ts), snapshot, state)
            if on_cycle is not None:
                on_cycle(snapshot)
    except KeyboardInterrupt:
        state.interrupted = True
    finally:
        interrupts.defer()  # the result below is computed whole, whenever Ctrl-C comes now
    return finished(plan, runner, state)


def dry_run_recording(
    plan,
    recording,
    *,
    broker,
    store,
    start: float | None = None,
    end: float | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> tuple[dict, Runner, DryRunState]:
    """The fast path: the same run as :func:`dry_run` over a Recording, stepping the runner
    only where it can act — a trading cycle where some symbol's vote is not NEUTRAL or a
    position or order is open. Elsewhere nothing can happen: the features are columns
    already, equity is unchanged (flat, or the broker is not observed off the trading
    clock), and the broker is shown the last skipped trading snapshot before the next step,
    which leaves it as if it had seen them all (Recording.check_quiet_broker says when that
    holds). NotReplayable if the recording or the plan needs the scalar path.

    tests/dryrun/test_fast_path.py proves it yields exactly the scalar path's results."""
    logger.info("dry-run of %s (profile %s) starts on the fast path", plan.version, plan.profile)
    from engine.replay.columns.sanity import ProvenClean, check_sane
    from engine.replay.columns.signals import ColumnSignals

    state, runner = DryRunState(), None
    sinks = decision_sinks(state)
    try:
        recording.check_quiet_broker()
        check_sane(recording, plan.requirements.market_data)
        signals = ColumnSignals(plan, recording)
        cursor = correlation_cursor(plan, signals, recording)
        runner = Runner(
            plan,
            broker,
            store,
            full_trail=False,
            signals=signals,
            sinks=sinks,
            correlation=cursor,
            screen=ProvenClean(),
        )
        first = 0 if start is None else int(np.searchsorted(recording.ts, start, side="left"))
        last = len(recording) if end is None else int(np.searchsorted(recording.ts, end, side="right"))
        flat = _FlatDecisions(runner, DecisionColumns(plan, signals, cursor.at), last)
        _fast_cycles(runner, recording, signals.active, first, last, state, on_progress, flat)
    except KeyboardInterrupt:
        state.interrupted = True
        runner = runner or Runner(plan, broker, store, full_trail=False, sinks=sinks)  # stopped before cycle one
    finally:
        interrupts.defer()
    return finished(plan, runner, state)


def decision_sinks(state: DryRunState) -> Sinks:
    """A dry-run keeps every directional decision, compact, and writes no other log."""
    return Sinks(universe=lambda d: state.decisions.append(compact_decision(d)) if d.direction != "NEUTRAL" else None)


def _with_next(snapshots: Iterable) -> Iterator[tuple[Any, Any]]:
    """Each snapshot with the one after it (None after the last): a replay knows its last."""
    iterator = iter(snapshots)
    current = next(iterator, None)
    while current is not None:
        following = next(iterator, None)
        yield current, following
        current = following


def _final(runner: Runner) -> None:
    """Tell a broker that acts on the data's end (the freqtrade fill model) that the next
    snapshot it observes is the replay's last."""
    final = getattr(runner.broker, "final_snapshot", None)
    if final is not None:
        final()


def finished(plan, runner: Runner, state: DryRunState) -> tuple[dict, Runner, DryRunState]:
    if not state.interrupted and runner.close_at_end() and state.equity:  # freqtrade's force exits
        state.equity[-1] = [state.equity[-1][0], runner.broker.balance().equity]
    logger.info(
        "dry-run of %s ends: %d cycles, %d trades%s",
        plan.version,
        state.cycles,
        len(runner.post_trade.trades),
        " (interrupted)" if state.interrupted else "",
    )
    return result_of(plan, runner, state), runner, state


def _fast_cycles(
    runner: Runner,
    recording,
    active,
    first: int,
    last: int,
    state: DryRunState,
    on_progress: Callable[[int], None] | None,
    flat: _FlatDecisions,
) -> None:
    times, active = recording.ts.tolist(), np.asarray(active, dtype=bool)
    due = Scheduler(runner.plan.schedules, times[first]).due_rows(recording.ts[first:last]) if first < last else {}
    trading = _trading_rows(runner.plan.schedules, due, max(0, last - first))
    trading_mask = np.asarray(trading, dtype=bool)
    trading_rows = first + np.flatnonzero(trading_mask)  # rows where the bot cycle runs
    voting_rows = trading_rows[active[trading_rows]]  # … and some vote is directional
    equity = runner.broker.balance().equity
    unseen = None  # the last trading snapshot the broker was not shown
    holding = HoldingWindow(runner, flat.columns, trading, first, last, flat.decision)
    span = _Span(state, times, on_progress)
    try:
        i = first
        while i < last:
            if not (runner.positions or runner.pending):
                # flat: only a directional vote can act; the broker catches up at the next step
                j = _next_unsettled(flat, voting_rows, i, last, state)
                before = int(np.searchsorted(trading_rows, j)) - 1
                if before >= 0 and trading_rows[before] >= i:
                    unseen = int(trading_rows[before])
                span.record(i, j, equity, held=False)
                i = j
                if i == last:
                    break
            elif not trading[i - first]:
                span.record(i, i + 1, equity, held=bool(runner.positions))
                i += 1
                continue
            elif not runner.pending and holding.quiet(i):
                state.decisions += holding.decisions(i)  # nothing acts but the exit ladder's tracking
                holding.carry(i)
                equity = holding.equity(i)
                unseen = i
                span.record(i, i + 1, equity, held=True)
                i += 1
                continue
            if unseen is not None:
                _show_skipped(runner, recording.snapshot(unseen))
                unseen = None
            if i == last - 1:  # the replay's last cycle
                _final(runner)
            runner.step(recording.snapshot(i))
            state.steps += 1
            equity = runner.broker.balance().equity
            span.record(i, i + 1, equity, held=bool(runner.positions))
            i += 1
    finally:  # Ctrl-C: the result covers the cycles done
        if state.cycles:
            state.start, state.end = times[first], times[first + state.cycles - 1]
        _count_due(due, state)
        _record_prices(recording, first, first + state.cycles, state)
        state.coverage = flat.columns.signals.coverage(first + np.flatnonzero(trading_mask[: state.cycles]))
        if on_progress is not None:
            on_progress(state.cycles % 1000)


def _next_unsettled(flat: _FlatDecisions, voting_rows: np.ndarray, i: int, last: int, state: DryRunState) -> int:
    """The first row from ``i`` where a flat runner must step: a directional vote the decision
    columns do not settle (``last`` when none); the settled ones' decisions are recorded."""
    k = int(np.searchsorted(voting_rows, i))
    while k < len(voting_rows) and voting_rows[k] < last:
        row = int(voting_rows[k])
        if not flat.settled(row):
            return row
        state.decisions += flat.decisions(row)  # every vote blocked: the step would change nothing
        k += 1
    return last


class _Span:
    """Records cycles as the loop passes them: each one's equity and exposure, and progress in
    thousands of cycles."""

    def __init__(self, state: DryRunState, times: list[float], on_progress: Callable[[int], None] | None):
        self.state, self.times, self.on_progress = state, times, on_progress

    def record(self, i: int, j: int, equity: float, *, held: bool) -> None:
        """Cycles ``i``..``j``-1, at ``equity`` (held: a position is open through them)."""
        state = self.state
        before = state.cycles
        state.equity.extend([t, equity] for t in self.times[i:j])
        state.cycles += j - i
        state.exposure_cycles += (j - i) if held else 0
        if self.on_progress is not None:
            for _ in range(state.cycles // 1000 - before // 1000):
                self.on_progress(1000)


def _show_skipped(runner: Runner, snapshot) -> None:
    """Show the broker the last skipped cycle before the runner's next step: it ends as if it
    had seen every one (Recording.check_quiet_broker, PaperBroker.holding_columns), and a
    skipped cycle is one where it does nothing — which is checked, not assumed."""
    events = runner.broker.observe(snapshot)
    if events:
        raise RuntimeError(
            f"dry-run fast path: the broker acted at {snapshot.ts}, a cycle it skipped as quiet "
            f"({len(events)} event(s)); this is a rulebot bug — replay with --replay scalar and report it"
        )


def _trading_rows(schedules, due: dict, n: int) -> list[bool]:
    """Per row: is a job with the bot cycle among its tasks due (as ``_count_jobs`` says)."""
    trading = np.zeros(n, dtype=bool)
    for job in schedules.jobs:
        if BOT_CYCLE in job.tasks and job.id in due:
            trading[due[job.id]] = True
    return trading.tolist()


def _count_due(due: dict, state: DryRunState) -> None:
    """The jobs' run counts over the cycles done, as ``_count_jobs`` would have kept them."""
    for job_id, rows in due.items():
        count = int(np.searchsorted(rows, state.cycles, side="left"))
        if count:
            state.jobs[job_id] = state.jobs.get(job_id, 0) + count


def _count_jobs(due, state: DryRunState) -> bool:
    """Count the due jobs; True when the bot cycle is among them."""
    for job in due:
        state.jobs[job.job_id] = state.jobs.get(job.job_id, 0) + 1
    return any(BOT_CYCLE in d.tasks for d in due)


def _record_prices(recording, first: int, stop: int, state: DryRunState) -> None:
    """Each symbol's price per cycle (else its candle's close), as _cycle records it, at only
    the cycles the result keeps (``sampled``'s with PRICE_POINTS), as a (time, price) array:
    a [t, p] list per cycle cost ~100 bytes a point at the run's peak of memory."""
    if stop <= first:
        return  # no cycle ran: no symbol was seen
    n = stop - first
    step = math.ceil(n / PRICE_POINTS) if n > PRICE_POINTS else 1
    rows = np.arange(first, stop, step)
    if (n - 1) % step:  # sampled keeps the last point too
        rows = np.append(rows, stop - 1)
    ts = recording.ts[rows]
    for name, sym in recording.symbols.items():
        price = sym.values.get("price")
        close = sym.candles.close[rows]
        column = close if price is None else np.where(np.isnan(price[rows]), close, price[rows])
        state.prices[name] = np.column_stack((ts, column))


class _FlatDecisions:
    """The decisions of a flat runner (no position, no order) for the cycles ahead, as
    columns (engine.replay.columns.decisions) over a window, recomputed when its state (``_key``)
    changes or the window runs out. A cycle is *settled* when every directional vote there
    is known to be blocked: a runner step would then only record those decisions, and the
    flat broker catches up later (Recording.check_quiet_broker), so the step is skipped.
    Where a fresh window's first cycles are not settled, computing again at once would
    rarely pay: the next ``backoff`` cycles are stepped without asking (stepping is always
    exact, only slower), and the backoff doubles."""

    FIRST_WINDOW, MAX_WINDOW, MAX_BACKOFF, MIN_RUN = 64, 4096, 256, 8

    def __init__(self, runner: Runner, columns, last: int):
        self.runner, self.last, self.columns, self.ts = runner, last, columns, columns.signals.recording.ts
        self.votes = {name: v.direction for name, v in columns.signals.votes.items()}
        self.key: tuple[int, float] | None = None  # the _key the window was computed for
        self.start, self.stop, self.window = 0, 0, self.FIRST_WINDOW
        self.known: list[bool] = []
        self.by_cycle: dict[int, list[dict]] = {}
        self.retry_at, self.backoff = 0, 1

    def settled(self, i: int) -> bool:
        key = self._key()
        if key == self.key and self.start <= i < self.stop:
            return self.known[i - self.start]
        if i < self.retry_at:
            return False
        self.window = min(self.window * 2, self.MAX_WINDOW) if key == self.key else self.FIRST_WINDOW
        self._compute(i, min(self.last, i + self.window))
        self.key = key
        if all(self.known[: self.MIN_RUN]):
            self.backoff = 1
        else:
            self.retry_at, self.backoff = i + self.backoff, min(self.backoff * 2, self.MAX_BACKOFF)
        return self.known[0]

    def decisions(self, i: int) -> list[dict]:
        return self.by_cycle.get(i, [])

    def decision(self, symbol: str, i: int, blocker: str) -> dict:
        """A settled row as compact_decision records it (NO_TRADE at its first blocker)."""
        votes = self.columns.signals.votes[symbol]
        return _compact(
            float(self.ts[i]),
            symbol,
            "NO_TRADE",
            DIRECTION_NAME[int(votes.direction[i])],
            votes.conviction[i],
            float(votes.confidence[i]),
            blocker,
        )

    def _key(self) -> tuple[int, float]:
        return len(self.runner.post_trade.trades), self.runner.broker.balance().equity

    def _compute(self, i: int, stop: int) -> None:
        known = np.ones(stop - i, dtype=bool)
        by_cycle: dict[int, list[dict]] = {}
        directional = {symbol: i + np.flatnonzero(votes[i:stop]) for symbol, votes in self.votes.items()}
        portfolio = portfolio_rows(self.runner, self.ts, np.unique(np.concatenate(list(directional.values()))))
        for symbol, rows in directional.items():  # the runner's order of symbols
            reasons, settled = self.columns.first_blockers(symbol, rows, portfolio)
            known[rows[~settled] - i] = False
            for row, reason in zip(rows[settled].tolist(), reasons[settled].tolist()):
                by_cycle.setdefault(row, []).append(self.decision(symbol, row, reason))
        self.start, self.stop, self.known, self.by_cycle = i, stop, known.tolist(), by_cycle


def only(snapshot, symbols: set[str] | None):
    if not symbols:
        return snapshot
    from dataclasses import replace
    from types import MappingProxyType

    return replace(snapshot, symbols=MappingProxyType({k: v for k, v in snapshot.symbols.items() if k in symbols}))


def cycle_of(runner: Runner, due, snapshot, state: DryRunState) -> None:
    """One cycle of the scalar replay: the runner steps when a job with the bot cycle is among
    the ``due`` ones (else it only warms), and the state records what it sees."""
    trading = _count_jobs(due, state)
    if trading:
        screened = runner.step(snapshot).screened
        state.steps += 1
    else:
        screened = runner.warm(snapshot)
    state.market_data.add(screened)
    snapshot = screened.snapshot  # the prices charted are those the run accepted
    state.cycles += 1
    state.start = snapshot.ts if state.start is None else state.start
    state.end = snapshot.ts
    balance = runner.broker.balance()
    state.equity.append([snapshot.ts, balance.equity])
    state.exposure_cycles += bool(runner.positions)
    for name, symbol in snapshot.symbols.items():
        price = symbol.get("price") or (symbol.candles[-1].close if symbol.candles else None)
        if price is not None:
            state.prices.setdefault(name, []).append([snapshot.ts, price])


def sampled(points: list, limit: int = MAX_CURVE_POINTS) -> list:
    if len(points) <= limit:
        return points
    step = math.ceil(len(points) / limit)
    return points[::step] + ([points[-1]] if (len(points) - 1) % step else [])


def result_of(plan, runner: Runner, state: DryRunState) -> dict:
    trades = [t.as_dict() for t in runner.store.trades()]
    components = {
        key.split(":", 1)[1]: round(value["net_pnl"], 10)
        for key, value in runner.post_trade.attribution.items()
        if key.startswith("component:")
    }
    starting = plan.paper_broker.get("starting_balance_usd", 0.0)
    return {
        "version": plan.version,
        "profile": plan.profile,
        "start": state.start,
        "end": state.end,
        "cycles": state.cycles,
        "symbols": sorted(set(state.prices)),
        "interrupted": state.interrupted,
        "fingerprint": fingerprint(trades),
        "metrics": run_metrics(
            trades,
            state.equity,
            starting_equity=starting,
            cycles=state.cycles,
            exposure_cycles=state.exposure_cycles,
            attribution=components,
        ),
        "equity": sampled(state.equity),
        "prices": {  # the fast path's are sampled already (_record_prices)
            k: v.tolist() if isinstance(v, np.ndarray) else sampled(v, PRICE_POINTS) for k, v in state.prices.items()
        },
        "trades": trades,
        "decisions": state.decisions,
        "jobs": dict(sorted(state.jobs.items())),
        "open_positions": len(runner.positions),
        "market_data": state.market_data.as_dict(),
        "coverage": coverage_of(
            layout(plan.signals.components),
            runner.pipeline.signals.coverage.counts if state.coverage is None else state.coverage,
            sorted(set(state.prices)),
        ),
    }


def differing_decisions(a: list[dict], b: list[dict], limit: int = 5000) -> list[dict]:
    """Cycles and symbols where the two rule sets decided differently (NEUTRAL = no record)."""

    def label(d: dict | None) -> str:
        if d is None:
            return "NEUTRAL"
        return f"TRADE {d['direction']}" if d["outcome"] == "TRADE" else f"NO_TRADE {d['first_blocker']}"

    index_a = {(d["ts"], d["symbol"]): d for d in a}
    index_b = {(d["ts"], d["symbol"]): d for d in b}
    out = []
    for key in sorted(set(index_a) | set(index_b)):
        la, lb = label(index_a.get(key)), label(index_b.get(key))
        if la != lb:
            out.append({"ts": key[0], "symbol": key[1], "a": la, "b": lb})
            if len(out) >= limit:
                break
    return out
