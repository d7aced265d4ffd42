"""Column form of the ``expression`` signal component: its vote at every cycle of a dense
recording, from the symbol's market columns (engine/replay/columns/signals.py).

The scalar component observes the market vocabulary after each update and keeps the values
its expressions read, now and one update earlier; in a dense recording the symbol is updated
every cycle, so ``prev(name)`` is the column shifted by one cycle (absent at the first). The
conditions are evaluated as vectors where every input they read is known and nothing faults
(engine.replay.columns.gates.evaluate_rows); every other row — an input still absent, a
fault, a condition that short-circuits past an absent input — is answered by the scalar
``expression.answer`` itself, on that row's values. ``answer_at`` always is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from engine.language.expr import previous_name
from engine.replay.columns.candles import DIRECTION_CODE, CandleColumns
from engine.replay.columns.gates import ColumnEnv, evaluate_rows
from engine.replay.recording import NotReplayable
from engine.trading.signals.answer import Answer
from engine.trading.signals.components import expression

KIND = expression.KIND


def columns(component: Any, market: Mapping[str, np.ndarray], n: int) -> CandleColumns:
    """The component over ``n`` cycles; ``market``: the market vocabulary per cycle (NaN absent)."""
    names = expression.read_names(component)
    unknown = sorted(names - set(market))
    if unknown:
        raise NotReplayable(
            f"{component.id}: reads {', '.join(unknown)}, which has no column (a component's export); "
            "replayed the scalar way"
        )
    values = {name: np.asarray(market[name], dtype=np.float64) for name in names}
    values.update({previous_name(name): np.concatenate(([np.nan], column[:-1])) for name, column in values.items()})
    kinds = {name: _type_of(component, name) for name in values}

    def answer_at(i: int) -> Answer:
        row = {
            name: (bool(v) if kinds[name] == "bool" else v)
            for name, column in values.items()
            if (v := float(column[i])) == v
        }
        return expression.answer(component.expressions, row)

    direction, confidence = _votes(component.expressions, values, n)
    for i in np.flatnonzero(direction == _UNKNOWN).tolist():
        found = answer_at(i)
        direction[i], confidence[i] = DIRECTION_CODE[found.direction], found.confidence
    return CandleColumns(direction.astype(np.int8), confidence, answer_at, lambda i: {})


_UNKNOWN = 2  # a direction code no answer has: rows the vectors could not settle


def _votes(compiled: Mapping[str, Any], values: Mapping[str, np.ndarray], n: int) -> tuple[np.ndarray, np.ndarray]:
    """(direction, confidence) per row where the vectors settle it; direction _UNKNOWN elsewhere."""
    env = ColumnEnv({name: _constant(column) for name, column in values.items()})
    every = np.ones(n, dtype=bool)
    long, long_unknown = evaluate_rows(compiled["long_when"], env, every)
    short, short_unknown = evaluate_rows(compiled["short_when"], env, every)
    settled = ~(long_unknown | short_unknown)
    one_side = settled & (long != short)
    confidence, confidence_unknown = evaluate_rows(compiled["confidence"], env, one_side)
    direction = np.where(one_side, np.where(long, 1, -1), 0).astype(np.int64)
    direction[~settled | confidence_unknown] = _UNKNOWN
    clamped = np.minimum(1.0, np.maximum(0.0, confidence))  # as answer.directed
    return direction, np.where(one_side, clamped, 0.0)


def _constant(column: np.ndarray) -> Callable[[], np.ndarray]:
    return lambda: column


def _type_of(component: Any, key: str) -> str:
    """``bool`` or ``float``: the type the expressions give the input behind ``key``."""
    name = key[len("prev(") : -1] if key.startswith("prev(") else key
    from engine.language.vocabulary import CONTEXTS

    spec = CONTEXTS["component"].names.get(name)
    return spec.type if spec is not None else "float"  # a declared indicator: always a float
