"""The explicit registry of signal component kinds: YAML ``kind:`` → module.

Every component module owns its kind whole and has the same shape (``_template.py`` is a
working minimal one to copy):

* ``KIND`` — the YAML kind; ``SUMMARY`` — one sentence, the schema element's description;
  ``REASONS`` — the reason codes it can answer with; ``INPUTS`` — snapshot inputs it needs
  (staleness is checked against the component's ``max_input_age`` before it is asked);
  ``EXPORTS`` — the vocabulary names it offers to expressions (docs/reference/vocabulary.md);
* ``SIGNALS_CASCADE`` — a non-NEUTRAL answer means "a liquidation cascade is active" (the
  gates' ``cascade_active`` and cascade boost); ``NEEDS_LEADER`` — it needs a symbol with
  ``role: leader`` (crosscheck RB388);
* ``Params`` / ``Thresholds`` — typed frozen dataclasses compiled once into the plan by
  ``compile_params(raw)`` / ``compile_thresholds(raw)`` (thresholds: the compiled profile's);
* ``schema()`` — its schema element; ``check(params, doc, path, ctx)`` — its semantic checks;
* ``new_state(component)`` — its incremental feature state, built from the component's fields
  named in ``STATE_READS`` only (a hot reload keeps the live state while those are unchanged); ``update(state, snapshot,
  symbol, leader)`` — feed one snapshot (no I/O, no clock); ``exports(state)`` — its
  vocabulary values now; ``evaluate(component, state) -> Answer`` — pure;
  ``explain(answer) -> str`` — the line ``rulebot explain`` prints for one of its answers.

A kind that reads the market vocabulary (declared indicators, prev(name)) instead of snapshot
fields is also listed in ``MARKET_READERS`` (``expression.py``).

Column (fast-path) forms are optional and live in engine/replay/columns/components/: a
candle-fed kind without one makes the dry-run take the scalar path.

Consumers look kinds up at call time through this package (``components.COMPONENTS[kind]``),
never through a copied reference, so a test can swap the registry.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from engine.language.registry import registry
from engine.language.schemagen.dsl import kinds
from engine.trading.signals.answer import Answer, common_explanation
from engine.trading.signals.components import (
    expression,
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

REQUIRED = (
    "SUMMARY",
    "REASONS",
    "INPUTS",
    "EXPORTS",
    "SIGNALS_CASCADE",
    "NEEDS_LEADER",
    "STATE_READS",
    "Params",
    "Thresholds",
    "schema",
    "compile_params",
    "compile_thresholds",
    "check",
    "new_state",
    "update",
    "exports",
    "evaluate",
    "explain",
)

COMPONENTS = registry(
    "signal components",
    (
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
        expression,
    ),
    REQUIRED,
)

#: The kinds that read the market vocabulary rather than snapshot fields: they also name
#: their expressions (``expressions(params)`` → name → (path in the component, result
#: type), compiled against the ``component`` vocabulary) and are handed the symbol's market
#: vocabulary after every update (``observe(state, market)``). A subset of COMPONENTS.
MARKET_READERS = registry("market-reading signal components", (expression,), ("expressions", "observe"))


def kind_module(kind: str) -> ModuleType:
    """The module of component kind ``kind`` in the registry as it is now."""
    return COMPONENTS[kind]


def schema() -> tuple[dict[str, Any], dict[str, Any]]:
    """The tagged union of every registered component kind and its ``$defs``."""
    return kinds("One signal component.", {kind: module.schema() for kind, module in COMPONENTS.items()})


def explain(kind: str, answer: Answer) -> str:
    """The line a person reads about one component's answer: the family's wording for the
    answers every kind can give, else the kind's own."""
    common = common_explanation(answer)
    return common if common is not None else str(kind_module(kind).explain(answer))
