"""Event-driven holding for the dry-run fast path: while positions are open and no order is
out, the runner is stepped only where something can happen, and the quiet cycles between
are settled as columns.

A trading cycle ``i`` is *quiet* when stepping there would change nothing but what the
fast path records itself (the equity curve and the decisions):

* the broker — its column form (``holding_columns``, PaperBroker) says no liquidation and no
  funding payment happens there, and gives the equity after it;
* the exit ladder — no tier of any open position fires at ``i``: the ladder's column forms
  (engine/replay/columns/exit_forms.py, ``Ladder.walk``; the scalar ``evaluate_exits`` row by
  row for a ladder with a kind that has none); where a position's peak P&L or hold multiplier
  moves, it is carried on moved through the window, and the runner puts it so when the cycle
  is skipped (``Runner.carry``: what its step there would have committed);
* the entries — every directional vote at ``i`` is settled NO_TRADE by the decision columns
  (engine/replay/columns/decisions.py) under the portfolio the runner would build at ``i``
  (``portfolio_rows``: its positions and balance, the trade stats at ``i``), whose only
  other cycle-dependent input to those stages, the drawdown behind the kill switch, is
  checked per cycle against the equity there.

The window of cycles ahead is computed once per runner state and ends at the first cycle
where the broker or the exit ladder would act: the runner is stepped there, exactly as the
scalar path steps every cycle. Nothing here changes state: the runner stays the only place
where it does (``Runner.carry`` included). tests/dryrun/test_fast_path.py and
tests/dryrun/test_variants.py prove the whole run equal to the scalar path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from engine.replay.columns.decisions import PortfolioRows
from engine.replay.columns.exit_forms import Ladder
from engine.trading.exits import evaluate_exits

#: Cycles looked ahead at most per window (a window also ends at the first event).
WINDOW = 1024
#: A window that starts with fewer quiet cycles than this did not pay for itself: the next
#: cycles are stepped without asking (stepping is always exact), for twice as many each time
#: up to MAX_BACKOFF, until a window pays again.
MIN_RUN, MAX_BACKOFF = 2, 64
#: Rows of a position's exit ladder evaluated as columns at first; each next chunk is 4x longer.
FIRST_CHUNK = 8


def portfolio_rows(runner: Any, ts: np.ndarray, rows: np.ndarray) -> PortfolioRows:
    """The portfolio the runner would build at each of ``rows`` (ascending) while its state
    stands: Runner.portfolio at the first row of each stretch over which the trade stats stay
    (PostTrade.stable_until: until a trade ages out of a lookback). Its balance is the
    runner's now; callers pass the per-row equity where it moves."""
    times, start = ts[rows], 0
    portfolios: list[Any] = []
    index = np.zeros(len(rows), dtype=np.intp)
    while start < len(rows):
        now = float(times[start])
        stop = max(start + 1, int(np.searchsorted(times, runner.post_trade.stable_until(now), side="right")))
        index[start:stop] = len(portfolios)
        portfolios.append(runner.portfolio(now))
        start = stop
    return PortfolioRows(rows, tuple(portfolios), index)


class HoldingWindow:
    """The quiet cycles ahead of a holding runner (see the module docstring)."""

    def __init__(
        self,
        runner: Any,
        columns: Any,
        trading: list[bool],
        first: int,
        last: int,
        decision: Callable[[str, int, str], dict],
    ):
        """``decision(symbol, row, reason)``: a settled row's compact decision, as the flat
        cycles record theirs; ``trading``: per row from ``first``, whether the bot cycle runs there."""
        recording = columns.signals.recording
        self.runner, self.recording, self.columns, self.last = runner, recording, columns, last
        self.decision = decision
        self.trading = np.zeros(len(recording.ts), dtype=bool)
        self.trading[first : first + len(trading)] = trading
        self.ts = recording.ts
        self.votes = {name: v.direction for name, v in columns.signals.votes.items()}
        self.key: tuple | None = None
        self.start = self.stop = 0
        self.quiet_rows: dict[int, tuple[float, list[dict]]] = {}  # row → (equity, decisions)
        self.retry_at, self.backoff = 0, 1
        self.carries: dict[int, list] = {}  # row → the positions a step there would update (peak, hold multiplier)
        market = [set(columns.signals.market_columns(name)) for name in recording.symbols]
        self.ladder = Ladder(runner.plan, set.intersection(*market) if market else set())

    def quiet(self, i: int) -> bool:
        """Whether cycle ``i`` (a trading cycle) can be skipped."""
        key = self._key()
        if key != self.key or not self.start <= i < self.stop:
            if i < self.retry_at:
                return False
            self._compute(i)
            self.key = key
            self._pace(i)
        return i in self.quiet_rows

    def _pace(self, i: int) -> None:
        """Back off after a window that did not pay (see MIN_RUN)."""
        run = 0
        while i + run in self.quiet_rows or (i + run < self.stop and not self.trading[i + run]):
            run += 1
        if sum(1 for row in range(i, i + run) if row in self.quiet_rows) >= MIN_RUN:
            self.backoff = 1
        else:
            self.retry_at, self.backoff = i + self.backoff, min(self.backoff * 2, MAX_BACKOFF)

    def equity(self, i: int) -> float:
        return self.quiet_rows[i][0]

    def decisions(self, i: int) -> list[dict]:
        return self.quiet_rows[i][1]

    def carry(self, i: int) -> None:
        """Skip quiet cycle ``i`` as the runner: the positions whose peak P&L or hold
        multiplier a step there would move are put as it would put them (Runner.carry); the
        window, computed with that move foreseen, stays valid."""
        moved = self.carries.get(i)
        if moved:
            self.runner.carry(moved, float(self.ts[i]))
            self.key = self._key()

    def _key(self) -> tuple:
        """What the window depends on: the positions held (frozen, compared by value: the
        key holds them, so a replaced one is never mistaken for its successor), the trades,
        and the broker's cash (funding and fees)."""
        runner = self.runner
        return (
            tuple(runner.positions.values()),
            len(runner.post_trade.trades),
            runner.broker.cash,
        )

    def _compute(self, i: int) -> None:
        """The window from ``i``: up to WINDOW cycles, ending just after the first cycle where
        the broker or the exit ladder acts (the runner steps there)."""
        self.quiet_rows, self.carries, self.start = {}, {}, i
        end = min(self.last, i + WINDOW)
        self.stop = end
        rows = i + np.flatnonzero(self.trading[i:end])
        if not len(rows):
            return
        form = getattr(self.runner.broker, "holding_columns", None)
        broker = None if form is None else form(self.ts[rows], self._broker_rows(rows))
        if broker is None:  # a broker without the column form, or one with an order out
            self.stop = i + 1
            return
        quiet = self._exits_quiet(rows, broker.event)
        if not quiet.all():
            self.stop = int(rows[int(np.argmin(quiet))]) + 1
        self._settle(rows[quiet], broker.equity[quiet], broker.available_margin[quiet])

    def _broker_rows(self, rows: np.ndarray) -> dict[str, dict[str, np.ndarray]]:
        out = {}
        nan = np.full(len(rows), np.nan)
        for name, sym in self.recording.symbols.items():
            c = sym.candles
            out[name] = {
                "price": sym.values["price"][rows] if "price" in sym.values else nan,
                "mark": sym.values["mark"][rows] if "mark" in sym.values else nan,
                "funding_rate": sym.values["funding_rate"][rows] if "funding_rate" in sym.values else nan,
                "candle_ts": c.ts[rows],
                "open": c.open[rows],
                "high": c.high[rows],
                "low": c.low[rows],
                "close": c.close[rows],
            }
        return out

    def _exits_quiet(self, rows: np.ndarray, event: np.ndarray) -> np.ndarray:
        """Per row, up to the first that is not: the broker does nothing and no position's
        exit ladder fires. A position whose peak P&L or hold multiplier moves is carried on
        moved, as the runner's step would put it (``carries``). Rows after the first event
        are left False."""
        quiet = np.zeros(len(rows), dtype=bool)
        signals = self.runner.pipeline.signals
        positions = self.runner.ordered_positions()
        cursor = signals.cursor
        limit = int(np.argmax(event)) if event.any() else len(rows)
        moves: dict[int, dict[str, Any]] = {}  # row index → position id → the position moved there
        try:
            for position in positions:  # each position's ladder is its own; the first to fire ends the window
                walk = self._walk if self.ladder.complete else self._walk_scalar
                limit = walk(position, rows[:limit], moves)
        finally:
            signals.seek(cursor)
        quiet[:limit] = True
        for k in sorted(moves):
            if k < limit:
                self.carries[int(rows[k])] = [moves[k][p.id] for p in positions if p.id in moves[k]]
        return quiet

    def _walk(self, position: Any, rows: np.ndarray, moves: dict[int, dict[str, Any]]) -> int:
        """The index of the first of ``rows`` where ``position``'s exit ladder fires (len(rows)
        when none does), its moves put in ``moves``: the ladder as columns (exit_forms.Ladder),
        over chunks that grow while nothing fires."""
        market = self.columns.signals.market_columns(position.symbol)
        priced = np.flatnonzero(~np.isnan(market["price"][rows]))  # the runner skips a position without a price
        current, start, size = position, 0, FIRST_CHUNK
        while start < len(priced):
            ks = priced[start : start + size]
            at = rows[ks]
            walk = self.ladder.walk(current, self.ts[at], {name: column[at] for name, column in market.items()})
            stop = int(np.argmax(walk.fires)) if walk.fires.any() else len(ks)
            for k, peak, multiplier in zip(ks[:stop].tolist(), walk.peak.tolist(), walk.multiplier.tolist()):
                if peak != current.peak_pnl_pct or multiplier != current.hold_multiplier:
                    current = replace(current, peak_pnl_pct=peak, hold_multiplier=multiplier)
                    moves.setdefault(k, {})[position.id] = current
            if stop < len(ks):
                return int(ks[stop])
            start, size = start + size, size * 4
        return len(rows)

    def _walk_scalar(self, position: Any, rows: np.ndarray, moves: dict[int, dict[str, Any]]) -> int:
        """:meth:`_walk` for a ladder with a kind that has no column form: every row the scalar way."""
        current = position
        for k, j in enumerate(rows.tolist()):
            moved = self._moved([current], j)
            if moved is None:
                return k
            if moved:
                moves.setdefault(k, {})[position.id] = current = moved[0]
        return len(rows)

    def _moved(self, positions: list, j: int) -> list | None:
        """The positions the runner's exit check at cycle ``j`` would update (Runner._check_exits:
        peak P&L, hold multiplier), or None when a tier fires there."""
        runner, now = self.runner, float(self.ts[j])
        runner.pipeline.signals.seek(j)
        moved = []
        for position in positions:
            market = runner.pipeline.market(position.symbol, now)
            price = market.get("price")
            if price is None:
                continue  # the runner skips it too
            evaluation = evaluate_exits(runner.plan, position, market, price, now)
            if evaluation.chosen is not None or evaluation.partial is not None:
                return None
            peak = max(position.peak_pnl_pct, evaluation.pnl_pct)
            if peak != position.peak_pnl_pct or evaluation.hold_multiplier != position.hold_multiplier:
                moved.append(replace(position, peak_pnl_pct=peak, hold_multiplier=evaluation.hold_multiplier))
        return moved

    def _settle(self, rows: np.ndarray, equity: np.ndarray, available: np.ndarray) -> None:
        """Keep the quiet rows whose directional votes are all settled, with their decisions."""
        if not len(rows):
            return
        portfolio = portfolio_rows(self.runner, self.ts, rows)
        keep = self._same_kill_switch(portfolio, equity)
        by_row: dict[int, list[dict]] = {}
        for symbol, votes in self.votes.items():  # the runner's order of symbols
            directional = keep & (votes[rows] != 0)
            if not directional.any():
                continue
            at = rows[directional]
            account = (equity[directional], available[directional])
            reasons, settled = self.columns.first_blockers(symbol, at, portfolio, account)
            unsettled = at[~settled]
            keep &= ~np.isin(rows, unsettled)
            for row, reason in zip(at[settled].tolist(), reasons[settled].tolist(), strict=True):
                by_row.setdefault(row, []).append(self.decision(symbol, row, reason))
        for row, value in zip(rows[keep].tolist(), equity[keep].tolist(), strict=True):
            self.quiet_rows[row] = (value, by_row.get(row, []))

    def _same_kill_switch(self, portfolio: PortfolioRows, equity: np.ndarray) -> np.ndarray:
        """Per row: the trading state the decisions see there is its portfolio's. Of the
        kill switch's claims (engine/bot/states.py ``conditions``) only the drawdown moves
        with the equity: AccountStats.drawdown_pct per row, its peak the realised one or
        the row's equity."""
        limit = self.runner.plan.requirements.kill_switch.max_drawdown_pct
        realized = self.runner.post_trade.account_stats(-np.inf)["peak_equity_usd"]
        peak = np.maximum(realized, equity)
        with np.errstate(invalid="ignore", divide="ignore"):
            drawdown = np.where(peak <= 0, 0.0, np.maximum(0.0, (peak - equity) / peak * 100))
        halted = portfolio.per_row([p.account.drawdown_pct(p.equity_usd) > limit for p in portfolio.portfolios])
        return (drawdown > limit) == halted
