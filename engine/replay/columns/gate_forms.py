"""The column forms of the gate kinds: ``kind → form(gate, cols, live) -> Verdict``, each the
scalar ``evaluate`` of its kind (engine/trading/gates/<kind>.py) for many rows at once.

A column form is optional: engine.replay.columns.decisions treats the rows of a gate kind
without one as *unknown*, so the runner decides them the scalar way — slower, never different.
A form answers only what it is sure of (engine.replay.columns.gates.Verdict); a row it cannot
settle is unknown, never guessed. tests/dryrun/test_decision_columns.py proves each form
settles rows exactly as ``evaluate`` does."""

from __future__ import annotations

from collections.abc import Callable
from types import MappingProxyType
from typing import Any

import numpy as np

from engine.replay.columns.gates import GateColumns, Verdict, blocks, evaluate_rows, passes
from engine.trading.gates import (
    conviction_gate,
    correlation_throttle,
    fee_gate,
    intelligence_gate,
    pre_entry_gate,
    trading_state,
)
from engine.trading.gates.base import Gate

ColumnForm = Callable[[Gate[Any], GateColumns, np.ndarray], Verdict]


def never_blocks(gate: Gate[Any], cols: GateColumns, live: np.ndarray) -> Verdict:
    """A gate that only sizes (conviction, intelligence): every row passes."""
    return passes(len(cols))


def fee(gate: Gate[fee_gate.Params], cols: GateColumns, live: np.ndarray) -> Verdict:
    """An unknown edge stays unknown (the scalar gate blocks it with FEE_EDGE_UNKNOWN)."""
    p = gate.params
    expected, unknown = cols.edge()
    after = expected - 2 * fee_gate.fee_pct(p, cols.venue)
    blocked = after < p.min_edge_after_fees_pct - fee_gate.TOLERANCE_PCT
    return blocks(blocked, "FEE_EDGE_TOO_SMALL", unknown)


def correlation(gate: Gate[correlation_throttle.Params], cols: GateColumns, live: np.ndarray) -> Verdict:
    """The open positions are constant over the rows; a correlation not known counts as correlated."""
    p = gate.params
    counted = np.zeros(len(cols), dtype=int)
    for position in cols.portfolio.positions:
        if position.symbol == cols.symbol:
            continue
        side = 1 if position.direction == "LONG" else -1
        same = cols.sign == side if p.same_direction_only else np.ones(len(cols), dtype=bool)
        values = cols.correlation(position.symbol)
        with np.errstate(invalid="ignore"):
            correlated = ~np.isfinite(values) | (values > p.correlated_above)
        counted += same & correlated
    return blocks(counted >= p.max_correlated_positions, "CORRELATION_LIMIT")


def pre_entry(gate: Gate[pre_entry_gate.Params], cols: GateColumns, live: np.ndarray) -> Verdict:
    """The venue is constant; a profit gate that cannot be evaluated on a row leaves it unknown."""
    n = len(cols)
    if cols.venue.venue_type not in gate.params.allowed_venue_types:
        return blocks(np.ones(n, dtype=bool), "VENUE_TYPE_NOT_ALLOWED")
    blocked, unknown = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    reason = np.full(n, None, dtype=object)
    for profit_gate in gate.params.profit_gates:
        open_ = live & ~blocked & ~unknown
        condition = gate.expressions[pre_entry_gate.expression_name(profit_gate.id)]
        holds, unsure = evaluate_rows(condition, cols.env, open_)
        hit = open_ & ~unsure & holds
        reason[hit] = profit_gate.reason
        blocked |= hit
        unknown |= unsure
    return blocks(blocked, reason, unknown)


def state(gate: Gate[trading_state.Params], cols: GateColumns, live: np.ndarray) -> Verdict:
    """The state is each row's portfolio's (the kill switch's lookback may end between rows)."""
    return blocks(cols.state != "ACTIVE", np.array([f"TRADING_{s}" for s in cols.state.tolist()], dtype=object))


FORMS: MappingProxyType[str, ColumnForm] = MappingProxyType(
    {
        conviction_gate.KIND: never_blocks,
        fee_gate.KIND: fee,
        correlation_throttle.KIND: correlation,
        intelligence_gate.KIND: never_blocks,
        pre_entry_gate.KIND: pre_entry,
        trading_state.KIND: state,
    }
)


#: Forms that read the portfolio itself (its positions, its trading state), not only the rows'
#: columns: their verdicts change with the portfolio (DecisionColumns evaluates them per call).
READS_PORTFOLIO = frozenset({correlation_throttle.KIND, trading_state.KIND})


def reads_rows_only(kind: str) -> bool:
    """The kind has a column form that answers each row from the rows' columns (and the plan's
    constants) alone."""
    return kind in FORMS and kind not in READS_PORTFOLIO


def form_of(kind: str) -> ColumnForm | None:
    """The column form of gate ``kind`` in :data:`FORMS` as it is now; None when it has none."""
    return FORMS.get(kind)
