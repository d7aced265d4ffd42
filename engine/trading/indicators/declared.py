"""The declared indicators of one symbol, fed the snapshots' candles (the live and scalar form).

Each timeframe has one :class:`~engine.trading.indicators.base.BarBuilder`; every completed bar
goes to the indicators of that timeframe, in declaration order. :meth:`DeclaredIndicators.env`
is what they add to the market vocabulary now: a value still warming up (or undefined, as an
RSI over a flat market) is absent, like every other unknown market name. The dry-run fast
path computes the same from engine/replay/columns/declared.py.
"""

from __future__ import annotations

from typing import Any

from engine.trading import indicators
from engine.trading.indicators.base import BarBuilder


class DeclaredIndicators:
    __slots__ = ("_groups", "_values")

    def __init__(self, spec: Any):
        by_timeframe: dict[str, list] = {}
        for indicator in spec.indicators:
            state = indicators.kind_module(indicator.kind).new_state(indicator.params, indicator.source)
            by_timeframe.setdefault(indicator.timeframe, []).append((indicator.names, state))
        self._groups = [(BarBuilder(timeframe), members) for timeframe, members in by_timeframe.items()]
        self._values: dict[str, float] = {}

    def __bool__(self) -> bool:
        return bool(self._groups)

    def update(self, candle: Any) -> None:
        """One one-minute candle (engine.market.snapshot.Candle)."""
        for builder, members in self._groups:
            bars = builder.update(candle.ts, candle.open, candle.high, candle.low, candle.close, candle.volume)
            if not bars:
                continue
            for names, state in members:
                for bar in bars:
                    state.update(bar)
                for name, value in zip(names, state.values()):
                    if value is None:
                        self._values.pop(name, None)
                    else:
                        self._values[name] = value

    def env(self) -> dict[str, float]:
        return dict(self._values)
