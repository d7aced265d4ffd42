"""Column form of :class:`engine.trading.indicators.declared.DeclaredIndicators`: every declared
indicator's outputs after each candle of one symbol, NaN where the scalar env has no value.

The bars of each timeframe are built once (engine/replay/columns/indicator_forms.py) and
shared by the indicators that read them. A kind without a column form makes the recording
NotReplayable (RB720 says which), and the dry-run replays it the scalar way.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.replay.columns import indicator_forms
from engine.replay.columns.candles import CandleSeries
from engine.replay.recording import NotReplayable


def check_forms(spec: Any) -> None:
    """NotReplayable when a declared indicator's kind has no column form."""
    for indicator in spec.indicators:
        if indicator.kind not in indicator_forms.FORMS:
            raise NotReplayable(f"indicator {indicator.id}: kind {indicator.kind} has no column form")


def declared_columns(spec: Any, candles: CandleSeries) -> dict[str, np.ndarray]:
    """Vocabulary name → its value after each candle (float64, NaN where absent)."""
    check_forms(spec)
    bars: dict[str, indicator_forms.BarColumns] = {}
    out: dict[str, np.ndarray] = {}
    for indicator in spec.indicators:
        if indicator.timeframe not in bars:
            bars[indicator.timeframe] = indicator_forms.bar_columns(candles, indicator.timeframe)
        columns = indicator_forms.indicator_columns(
            indicator_forms.FORMS[indicator.kind],
            indicator.params,
            bars[indicator.timeframe],
            indicator.source,
            len(candles),
        )
        out.update(zip(indicator.names, columns))
    return out
