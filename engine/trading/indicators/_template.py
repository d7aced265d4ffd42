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
4. Write its incremental form (``new_state(params, source)`` → an object with
   ``update(bar)`` and ``values()``; no I/O, no clock). Sum with ``base.sequential_sum`` and
   square as ``d * d``: the column form must reproduce every operation in the same order.
5. Register the module in ``engine/trading/indicators/__init__.py`` (one line), add its column
   form to ``FORMS`` in engine/replay/columns/indicator_forms.py (optional: without one a
   dry-run replays the scalar way), list its parameters in tests/indicators/test_forms.py,
   regenerate the schemas (``python -m engine.language.schemagen``) and the reference
   (``python -m engine.docgen``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.language.schemagen.dsl import num
from engine.trading.indicators.base import Bar, Window, indicator_schema, source_value

KIND = "roc"
SUMMARY = "Rate of change: the source's change in percent over `period` bars."
OUTPUTS = {"": ("%", "Change of the source over the period, in percent.")}
READS_SOURCE = True


@dataclass(frozen=True, slots=True, kw_only=True)
class Params:
    period: int


def schema() -> dict[str, Any]:
    return indicator_schema(
        KIND,
        SUMMARY,
        params={"period": num("Bars back.", "bars", minimum=1, maximum=10_000, integer=True)},
        reads_source=READS_SOURCE,
    )


def compile_params(raw: Mapping[str, Any]) -> Params:
    return Params(period=raw["period"])


def check(params: Params, doc: Any, path: tuple[Any, ...], ctx: Any) -> None:
    """Nothing beyond the schema's ranges."""


def warmup(params: Params) -> int:
    return params.period + 1


def describe(params: Params) -> str:
    return f"change over {params.period} bars, in percent"


class State:
    __slots__ = ("source", "window")

    def __init__(self, params: Params, source: str):
        self.source = source
        self.window = Window(params.period + 1)

    def update(self, bar: Bar) -> None:
        self.window.push(source_value(bar, self.source))

    def values(self) -> tuple[float | None]:
        if not self.window.full or self.window.items[0] == 0:
            return (None,)
        return ((self.window.items[-1] / self.window.items[0] - 1) * 100,)


def new_state(params: Params, source: str) -> State:
    return State(params, source)
