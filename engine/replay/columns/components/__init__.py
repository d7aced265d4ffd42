"""Column (fast-path) forms of the signal component kinds: ``KIND`` → module with
``columns(component, candles, lead_close) -> CandleColumns`` (engine/replay/columns/candles.py).

A form is optional per kind. Only candle-fed kinds (``candles_1m`` in their ``INPUTS``) need
one: every other kind is fed at its input's publication events by the scalar functions
themselves (engine/replay/columns/signals.py). A candle-fed kind without a form makes the
fast path refuse the plan (NotReplayable), so ``--replay auto`` steps the scalar path and
``--replay columns`` says which kind lacks one. Registered by hand, like the kinds.

Consumers look forms up at call time through this package (``components.COLUMN_FORMS``), so
a test can swap the registry.
"""

from __future__ import annotations

from types import ModuleType

from engine.language.registry import registry
from engine.replay.columns.components import expression, hurst, lead_lag, volatility_skew

COLUMN_FORMS = registry("signal component column forms", (hurst, lead_lag, volatility_skew), ("columns",))

#: The forms of the market-reading kinds (components.MARKET_READERS):
#: ``columns(component, market, n) -> CandleColumns`` from the symbol's market columns.
MARKET_FORMS = registry("market-reading component column forms", (expression,), ("columns",))


def column_form(kind: str) -> ModuleType | None:
    """The column form of component kind ``kind``, None when it has none."""
    return COLUMN_FORMS.get(kind)
