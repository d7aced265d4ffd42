"""The explicit registry of declared indicator kinds: YAML ``kind:`` → module.

A rule set declares indicators in ``indicators.yaml`` (engine/language/kinds/indicators.py);
each becomes names of the market vocabulary that every expression may read. Every kind
module has the same shape (``_template.py`` is a working one to copy; base.py has the
shared parts):

* ``KIND``, ``SUMMARY`` (the schema's description); ``OUTPUTS`` — output suffix → (unit,
  description): ``""`` is the indicator's own name, any other ``x`` is ``<name>_x``;
  ``READS_SOURCE`` — it reads one series (``source: close``, ...) rather than whole bars;
* ``Params`` (frozen), ``schema()`` (its element, built with ``base.indicator_schema``),
  ``compile_params(raw)``, ``check(params, doc, path, ctx)`` — the checks the schema cannot
  express; ``warmup(params)`` — bars before its first value; ``describe(params)`` — the
  phrase ``rulebot explain`` and the reference use;
* ``new_state(params, source)`` — its incremental form (base.State): fed completed bars,
  ``values()`` one value per output, None while warming up.

Its column form (the dry-run fast path) is optional and lives in
engine/replay/columns/indicator_forms.py; a kind without one makes a dry-run take the
scalar path. No folder scanning: a new kind is one line in the list below.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from engine.language.registry import registry
from engine.language.schemagen.dsl import kinds
from engine.trading.indicators import atr, bollinger, ema, highest, lowest, macd, rsi, sma, vwap, zscore

REQUIRED = (
    "SUMMARY",
    "OUTPUTS",
    "READS_SOURCE",
    "Params",
    "schema",
    "compile_params",
    "check",
    "warmup",
    "describe",
    "new_state",
)

INDICATORS = registry("indicators", (ema, sma, rsi, atr, bollinger, macd, zscore, vwap, highest, lowest), REQUIRED)


def kind_module(kind: str) -> ModuleType:
    """The module of indicator kind ``kind`` in the registry as it is now."""
    return INDICATORS[kind]


def schema() -> tuple[dict[str, Any], dict[str, Any]]:
    """The tagged union of every registered indicator kind and its ``$defs``."""
    return kinds("One declared indicator.", {kind: module.schema() for kind, module in INDICATORS.items()})
