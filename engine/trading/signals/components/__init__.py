"""The explicit registry of signal component kinds: YAML ``kind:`` → module.

Every component module has the same shape:

* ``KIND`` — the YAML kind; ``INPUTS`` — snapshot inputs it needs (staleness is checked
  against the component's ``max_input_age`` before it is asked);
* ``new_state(component)`` — its incremental feature state, from the rule's params;
* ``update(state, snapshot, symbol, leader)`` — feed one snapshot (no I/O, no clock);
* ``EXPORTS`` / ``exports(state)`` — the vocabulary names it offers to expressions, and
  their values now (docs/reference/vocabulary.md);
* ``evaluate(component, state) -> Answer`` — pure: direction, confidence, reasons, inputs;
* candle-fed modules (``candles_1m`` in INPUTS) also have ``columns(component, candles,
  lead_close) -> CandleColumns``: the same answers after every candle of a recorded series
  at once, for the dry-run fast path (engine/replay/columns/candles.py). The others need none:
  the fast path feeds them at their input's publication events.
"""

from __future__ import annotations

from types import MappingProxyType, ModuleType

from engine.trading.signals.components import (
    fear_greed,
    funding_rate,
    hurst,
    lead_lag,
    liquidation_cascade,
    oi_divergence,
    oi_velocity,
    order_flow_momentum,
    volatility_skew,
    whale_flow,
)

_SHAPE = ("KIND", "INPUTS", "EXPORTS", "new_state", "update", "exports", "evaluate")


def _registry(*modules: ModuleType) -> MappingProxyType:
    registry: dict[str, ModuleType] = {}
    for module in modules:
        shape = _SHAPE + (("columns",) if "candles_1m" in getattr(module, "INPUTS", ()) else ())
        missing = [name for name in shape if not hasattr(module, name)]
        if missing or module.KIND in registry:
            raise TypeError(f"{module.__name__}: missing {missing} or duplicate kind {module.KIND!r}")
        registry[module.KIND] = module
    return MappingProxyType(registry)


COMPONENTS = _registry(
    liquidation_cascade,
    whale_flow,
    funding_rate,
    hurst,
    lead_lag,
    order_flow_momentum,
    fear_greed,
    volatility_skew,
    oi_velocity,
    oi_divergence,
)
