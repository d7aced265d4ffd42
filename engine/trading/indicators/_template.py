"""Rate of change (a template, not registered): the source's change in percent over ``period`` bars.

HOW TO ADD AN INDICATOR KIND (copy this file; every name below is required):

1. Copy this file to ``engine/trading/indicators/<your_kind>.py`` and replace ``roc`` by your
   kind's name (the YAML ``kind:``).
2. Say what it offers (``OUTPUTS``: suffix → (unit, description); ``""`` is the declared
   ``id`` itself, ``"upper"`` becomes ``<id>_upper``) and whether it reads one series
   (``READS_SOURCE = True``: the declaration's ``source:``) or whole bars (``False``: ATR,
   VWAP read high, low, close, volume).
3. Write its frozen ``Params``, its ``schema()`` (``base.indicator_schema`` around its own
   params), ``compile_params``, ``check`` (what the schema cannot say, reported with
   ``ctx.report(doc, (*path, "params", name), "RB3xx", message)``), ``warmup`` and ``describe``.
   A kind whose one parameter is a window length uses ``base.PeriodParams``,
   ``base.period_schema`` and ``base.compile_period_params`` (as here); ``base.no_checks`` and
   ``base.full_window`` are the ``check`` and ``warmup`` most kinds need.
4. Write its incremental form (``new_state(params, source)`` → an object with
   ``update(bar)`` and ``values()``; no I/O, no clock; a value of the last N source values:
   subclass ``base.SourceWindow``, as here). Sum with ``base.sequential_sum`` and square as
   ``d * d``: the column form must reproduce every operation in the same order.
5. Register the module in ``engine/trading/indicators/__init__.py`` (one line), add its column
   form to ``FORMS`` in engine/replay/columns/indicator_forms.py (optional: without one a
   dry-run replays the scalar way), list its parameters in tests/indicators/test_forms.py,
   regenerate the schemas (``python -m engine.language.schemagen``) and the reference
   (``python -m engine.docgen``).
"""

from __future__ import annotations

from collections import deque
from typing import Any

from engine.trading.indicators import base
from engine.trading.indicators.base import indicator_schema

KIND = "roc"
SUMMARY = "Rate of change: the source's change in percent over `period` bars."
OUTPUTS = {"": ("%", "Change of the source over the period, in percent.")}
READS_SOURCE = True


Params = base.PeriodParams


def schema() -> dict[str, Any]:
    return indicator_schema(
        KIND,
        SUMMARY,
        params={"period": base.period_schema("Bars back.", 1)},
        reads_source=READS_SOURCE,
    )


compile_params = base.compile_period_params
check = base.no_checks  # nothing beyond the schema's ranges


def warmup(params: Params) -> int:
    return params.period + 1


def describe(params: Params) -> str:
    return f"change over {params.period} bars, in percent"


class State(base.SourceWindow):
    """The last ``period + 1`` values: the newest against the oldest."""

    __slots__ = ()

    def value(self, items: deque[float]) -> float | None:
        return None if items[0] == 0 else (items[-1] / items[0] - 1) * 100


def new_state(params: Params, source: str) -> State:
    return State(params.period + 1, source)
