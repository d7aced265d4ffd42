"""Entry decisions as columns: the first blocker of many cycles at once, for the dry-run
fast path (engine/replay/dryrun.py ``dry_run_recording``).

While the runner's state does not change — no position, no order, no trade — every input
of an entry decision is either a column of the recording (the vote, the market values) or a
constant of that state (the portfolio, the trade stats until a trade ages out of their
lookback). The stages of :func:`engine.trading.entry.decide_entry` are then evaluated for every
directional cycle of a symbol at once, in the same order: the policy, the signal-category
requirement checks, the trading state, then each gate of the chain through its kind's column
form (engine/replay/columns/gate_forms.py). A gate kind without a column form settles nothing:
its rows, and so every later stage of them, are unknown.

A row is *known* when a stage blocks it after every earlier stage surely passed, and its
decision is ``NO_TRADE`` with that stage's reason, as the scalar path records it. Whatever
a column form cannot settle is *unknown*: an input it has no column for, a missing value, an
expression fault, and every row that passes the whole chain (sizing and the portfolio
checks follow, and it may trade). The caller steps the runner at an unknown row, which
decides it the scalar way: being conservative costs speed, never a decision.
tests/dryrun/test_fast_path.py proves the whole run identical to the scalar path.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from engine.common.errors import RuleRuntimeError
from engine.language.expr import MissingInputError
from engine.replay.columns import gate_forms
from engine.replay.columns.gates import ColumnEnv, GateColumns, Verdict, blocks, evaluate_rows
from engine.trading.entry import policy_checks, signal_checks, trading_state, unsized_checks
from engine.trading.signals.vote import CONVICTION_RANK

# ------------------------------------------------------------------ the decisions


@dataclass(frozen=True)
class PortfolioRows:
    """The portfolio each of ``rows`` (ascending) sees: the same positions and balance for all
    (the runner's state stands), the trade stats and the account's lookback stats those of
    ``portfolios[index[k]]`` — they change only where a trade ages out of a lookback
    (engine/replay/holding.py ``portfolio_rows``)."""

    rows: np.ndarray
    portfolios: Sequence
    index: np.ndarray

    @classmethod
    def constant(cls, rows: np.ndarray, portfolio) -> PortfolioRows:
        return cls(rows, (portfolio,), np.zeros(len(rows), dtype=np.intp))

    @property
    def held(self):
        """The portfolio's parts every row shares (positions, balance)."""
        return self.portfolios[0]

    def at(self, rows: np.ndarray) -> PortfolioRows:
        """The same for ``rows``, a subset of this one's."""
        return PortfolioRows(rows, self.portfolios, self.index[np.searchsorted(self.rows, rows)])

    def per_row(self, values: Sequence) -> np.ndarray:
        """One value per portfolio, spread over the rows."""
        return np.asarray(values)[self.index]


#: The decision vocabulary's names that read the portfolio (its positions, balance and track
#: records: ``_portfolio_columns`` and the ``recent_*`` stats); every other name is a column of
#: the recording.
PORTFOLIO_NAMES = frozenset(
    {
        "portfolio_value_usd",
        "available_margin_usd",
        "has_position_same_direction",
        "positions_in_symbol",
        "open_positions",
        "exposure_pct",
        "recent_trades",
        "recent_expectancy_pct",
        "recent_win_rate",
    }
)


class DecisionColumns:
    """First blockers over a recording for a frozen portfolio (see the module docstring).

    A stage that reads no portfolio name (PORTFOLIO_NAMES) nor the portfolio itself answers
    each row from that row's columns alone, the same under every portfolio: it is evaluated
    once over all of a symbol's directional cycles and then only looked up (``_by_row``).
    Where that whole-history verdict leaves a row unknown (a missing input, a fault somewhere
    in the history), the stage is evaluated over the rows asked, as before."""

    def __init__(self, plan, signals, correlation_at: Callable[[str, str, int], float | None]):
        self.plan, self.signals, self._correlation_at = plan, signals, correlation_at
        self._venue = plan.venues.exchange(plan.venues.execution_venue)
        self._cascades: dict[str, np.ndarray] = {}
        self._whole: dict[tuple[str, int], tuple[np.ndarray, Verdict | None]] = {}
        self._correlation_memo: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}
        self._pure_gates = {gate.id for gate in plan.gates.chain if self._row_pure(gate)}

    def first_blockers(
        self,
        symbol: str,
        rows: np.ndarray,
        portfolio: PortfolioRows,
        account: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """(reason per row, known per row) for the cycles ``rows`` (whose vote is directional),
        ``portfolio`` the portfolio of each (a superset of ``rows`` may be given). ``account``:
        (equity, available margin) per row where they move while the positions stand
        (engine/replay/holding.py); else the portfolio's."""
        portfolio = portfolio.at(rows)
        n = len(rows)
        reason = np.full(n, None, dtype=object)
        settled, unknown = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
        if n == 0:
            return reason, settled
        cols = self._gate_columns(symbol, rows, portfolio, account)
        for k, (pure, stage) in enumerate(self._stages(symbol, cols)):
            live = ~settled & ~unknown
            if not live.any():
                break
            verdict = (self._by_row(symbol, k, rows, portfolio) if pure else None) or stage(live)
            unknown |= live & verdict.unknown
            hit = live & ~verdict.unknown & verdict.blocked
            reason[hit] = verdict.reason if isinstance(verdict.reason, str) else verdict.reason[hit]
            settled |= hit
        return reason, settled

    def _stages(self, symbol: str, cols: GateColumns):
        """(row-pure, stage) for each stage of decide_entry up to the end of the gate chain, in
        its order, from the same sources: the policy results and the signal checks as entry.py
        lists them. Row-pure: it reads neither the portfolio nor a portfolio name."""
        n = len(cols)
        for result in policy_checks(self.plan, symbol):
            yield False, lambda live, result=result: blocks(np.full(n, not result.passed), result.reason)
        for check in signal_checks(self.plan) + unsized_checks(self.plan):
            yield not check.when.names & PORTFOLIO_NAMES, self._check_stage(check, cols)
        for gate in self.plan.gates.chain:
            if gate.enabled:
                yield gate.id in self._pure_gates, self._gate_stage(gate, cols)

    def _row_pure(self, gate) -> bool:
        names = set(self.plan.gates.expected_edge.names).union(*(e.names for e in gate.expressions.values()))
        return gate_forms.reads_rows_only(gate.kind) and not names & PORTFOLIO_NAMES

    def _by_row(self, symbol: str, k: int, rows: np.ndarray, portfolio: PortfolioRows) -> Verdict | None:
        """Stage ``k``'s verdict at ``rows`` looked up in its whole-history verdict (computed on
        first use); None where that one is not fully known."""
        whole = self._whole.get((symbol, k))
        if whole is None:
            every = np.flatnonzero(self.signals.votes[symbol].direction != 0)
            cols = self._gate_columns(symbol, every, PortfolioRows.constant(every, portfolio.held), None)
            _, stage = next(itertools.islice(self._stages(symbol, cols), k, None))
            verdict = stage(np.ones(len(every), dtype=bool))
            if verdict.unknown.any():
                whole = self._whole[(symbol, k)] = (every, None)
            else:
                reason = verdict.reason
                if isinstance(reason, str):
                    text, reason = reason, np.empty(len(every), dtype=object)
                    reason.fill(text)  # one shared string (np.full would store a copy per row)
                whole = self._whole[(symbol, k)] = (every, Verdict(verdict.blocked, verdict.unknown, reason))
        every, verdict = whole
        if verdict is None:
            return None
        at = np.searchsorted(every, rows)
        return Verdict(verdict.blocked[at], verdict.unknown[at], verdict.reason[at])

    @staticmethod
    def _gate_stage(gate, cols: GateColumns):
        """The gate's column form, or — for a kind without one — a stage that knows no row."""
        form = gate_forms.form_of(gate.kind)
        if form is None:
            return lambda live: Verdict(np.zeros(len(cols), dtype=bool), np.ones(len(cols), dtype=bool), "")
        return lambda live: form(gate, cols, live)

    @staticmethod
    def _check_stage(check, cols: GateColumns):
        def stage(live: np.ndarray) -> Verdict:
            holds, unknown = evaluate_rows(check.when, cols.env, live)
            if unknown.any():
                holds, unknown = _missing_input(check, cols.env, holds, unknown)
            return blocks(~holds, check.reason, unknown)

        return stage

    def _gate_columns(self, symbol: str, rows: np.ndarray, portfolio: PortfolioRows, account) -> GateColumns:
        votes = self.signals.votes[symbol]
        sign = votes.direction[rows]
        columns = self._env_columns(symbol, rows, sign, portfolio)
        columns.update(_portfolio_columns(symbol, sign, portfolio.held, account))
        env = ColumnEnv(columns)
        everywhere = np.ones(len(rows), dtype=bool)
        state = portfolio.per_row([trading_state(self.plan, p)[0] for p in portfolio.portfolios])
        return GateColumns(
            symbol,
            sign,
            env,
            portfolio.held,
            self._venue,
            state,
            functools.cache(lambda: evaluate_rows(self.plan.gates.expected_edge, env, everywhere)),
            lambda other: self._correlations(symbol, other, rows),
        )

    def _correlations(self, symbol: str, other: str, rows: np.ndarray) -> np.ndarray:
        """The correlation at each row (NaN: not known), each row's asked once per recording."""
        memo = self._correlation_memo.get((symbol, other))
        if memo is None:
            n = len(self.signals.recording.ts)
            memo = self._correlation_memo[(symbol, other)] = (np.full(n, np.nan), np.zeros(n, dtype=bool))
        values, asked = memo
        for i in rows[~asked[rows]].tolist():
            value = self._correlation_at(symbol, other, i)
            values[i] = np.nan if value is None else value
        asked[rows] = True
        return values[rows]

    def _env_columns(
        self, symbol: str, rows: np.ndarray, sign: np.ndarray, portfolio: PortfolioRows
    ) -> dict[str, Callable[[], np.ndarray]]:
        """name → a maker of its column over ``rows``: the vote, the track record, the market."""
        votes, market = self.signals.votes[symbol], self.signals.market_columns(symbol)

        def stat(field: str) -> Callable[[], np.ndarray]:
            def column() -> np.ndarray:
                long_, short = (
                    portfolio.per_row([float(getattr(p.trade_stats(symbol, d), field)) for p in portfolio.portfolios])
                    for d in ("LONG", "SHORT")
                )
                return np.where(sign == 1, long_, short)

            return column

        def at_rows(column: np.ndarray) -> Callable[[], np.ndarray]:
            return lambda: column[rows]

        columns = {name: at_rows(column) for name, column in market.items()}
        columns.update(
            direction=lambda: sign.astype(float),
            confidence=lambda: votes.confidence[rows],
            aligned_count=lambda: votes.aligned_count[rows].astype(float),
            conviction_rank=lambda: np.array([float(CONVICTION_RANK[c]) for c in votes.conviction[rows]]),
            cascade_active=lambda: self._cascade_active(symbol)[rows],
            recent_trades=stat("trades"),
            recent_expectancy_pct=stat("expectancy_pct"),
            recent_win_rate=stat("win_rate"),
        )
        return columns

    def _cascade_active(self, symbol: str) -> np.ndarray:
        if symbol not in self._cascades:
            self._cascades[symbol] = self.signals.cascade_active(symbol)
        return self._cascades[symbol]


def _portfolio_columns(
    symbol: str, sign: np.ndarray, portfolio, account: tuple[np.ndarray, np.ndarray] | None
) -> dict[str, Callable[[], np.ndarray]]:
    """The portfolio's names of the requirement vocabulary (entry.py ``_portfolio_env``
    without an order size) per row: the positions are the portfolio's; the equity and the
    available margin ``account``'s where given."""
    n = len(sign)
    if account is None:
        equity, available = np.full(n, portfolio.equity_usd), np.full(n, portfolio.available_margin_usd)
    else:
        equity, available = account
    in_symbol = portfolio.positions_in(symbol)
    long_held = any(p.direction == "LONG" for p in in_symbol)
    short_held = any(p.direction == "SHORT" for p in in_symbol)
    notional = sum(p.notional_usd for p in portfolio.positions)  # Portfolio.exposure_pct's sum

    def exposure() -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(equity <= 0, 0.0, notional / equity * 100)

    return {
        "portfolio_value_usd": lambda: equity,
        "available_margin_usd": lambda: available,
        "has_position_same_direction": lambda: np.where(sign == 1, long_held, short_held),
        "positions_in_symbol": lambda: np.full(n, float(len(in_symbol))),
        "open_positions": lambda: np.full(n, float(len(portfolio.positions))),
        "exposure_pct": exposure,
    }


def _missing_input(check, env: ColumnEnv, holds: np.ndarray, unknown: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows a check of one input left unknown because that input is missing there: the scalar
    check's answer without it is the same on every such row, so it is asked once (entry.py
    ``_check``: passed by rule with ``on_missing: pass``, else failed closed, or the value the
    expression gives without reading it)."""
    names = list(check.when.names)
    column = env.get(names[0]) if len(names) == 1 else None
    if column is None or column.dtype.kind != "f":
        return holds, unknown
    missing = unknown & np.isnan(column)
    try:
        answer = bool(check.when({}))
    except MissingInputError:
        answer = check.on_missing == "pass"
    except RuleRuntimeError:
        answer = False
    holds = holds.copy()
    holds[missing] = answer
    return holds, unknown & ~missing
