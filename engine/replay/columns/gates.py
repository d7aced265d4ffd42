"""The column twin of engine.trading.gates.base: what a gate kind's column form
(engine/replay/columns/gate_forms.py) reads (:class:`GateColumns`, one entry per row: a
directional cycle of one symbol) and answers (:class:`Verdict`), and expressions evaluated over
such rows. Used by engine.replay.columns.decisions; a row a column form cannot settle is
*unknown*, never guessed."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.common.errors import RuleRuntimeError


@dataclass(frozen=True)
class Verdict:
    """One stage over the rows: ``blocked`` rows fail it with ``reason`` (a string, or one
    string per row); ``unknown`` rows could not be settled (their ``blocked`` is meaningless)."""

    blocked: np.ndarray
    unknown: np.ndarray
    reason: Any


def passes(n: int) -> Verdict:
    return Verdict(np.zeros(n, dtype=bool), np.zeros(n, dtype=bool), "")


def blocks(mask: np.ndarray, reason: Any, unknown: np.ndarray | None = None) -> Verdict:
    return Verdict(
        np.asarray(mask, dtype=bool), np.zeros(len(mask), dtype=bool) if unknown is None else unknown, reason
    )


# ------------------------------------------------------------------ expressions over columns


class ColumnEnv:
    """The decision vocabulary (engine.trading.entry.decision_env) as one array per name over the
    rows; a name with no column is None (its checks are unknown), an absent value is NaN."""

    def __init__(self, columns: Mapping[str, Callable[[], np.ndarray]]):
        self._make = columns
        self._made: dict[str, np.ndarray | None] = {}

    def get(self, name: str) -> np.ndarray | None:
        if name not in self._made:
            make = self._make.get(name)
            self._made[name] = None if make is None else make()
        return self._made[name]


def evaluate_rows(expression, env: ColumnEnv, live: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(value, unknown) of ``expression`` on the ``live`` rows (other rows: value 0, known).
    A row is unknown where an input has no column or no value, or anywhere when the
    vector form faults (the scalar path would fail it closed, or pass it by rule)."""
    n = len(live)
    value = np.zeros(n, dtype=bool if expression.result_type == "bool" else float)
    unknown = np.zeros(n, dtype=bool)
    if not live.any():
        return value, unknown
    arrays = {}
    missing = np.zeros(n, dtype=bool)
    for name in expression.names:
        column = env.get(name)
        if column is None:
            return value, live.copy()
        arrays[name] = column
        if column.dtype.kind == "f":
            missing |= np.isnan(column)
    rows = live & ~missing
    unknown = live & missing
    if rows.any():
        try:
            value[rows] = expression.vector({k: v[rows] for k, v in arrays.items()})
        except RuleRuntimeError:
            return value, live.copy()
    return value, unknown


# ------------------------------------------------------------------ what a gate's column form reads


@dataclass(frozen=True)
class GateColumns:
    """The column twin of engine.trading.gates.GateContext: one entry per row (a directional cycle
    of one symbol), the portfolio frozen for all of them."""

    symbol: str
    sign: np.ndarray  # int8: +1 LONG, −1 SHORT
    env: ColumnEnv
    portfolio: Any
    venue: Any
    state: np.ndarray  # per row, the trading state (ACTIVE / HALTED / REDUCING) of its portfolio
    edge: Callable[[], tuple[np.ndarray, np.ndarray]]  # (expected edge, unknown) per row, computed when asked
    correlation: Callable[[str], np.ndarray]  # other symbol → correlation per row, NaN when not known

    def __len__(self) -> int:
        return len(self.sign)
