"""Template gate — copy this file to add a gate kind (it is not registered).

A working minimal gate: it blocks an entry whose signal confidence is below ``min_confidence``.
To make your own kind:

1. copy this file to ``engine/trading/gates/<your_kind>.py`` and replace ``template_gate``
   everywhere (KIND below, this docstring) by your kind's name;
2. change SUMMARY, REASONS, Params, schema(), compile_params(), check(), evaluate(), explain();
3. add the module to the list in ``engine/trading/gates/__init__.py`` (one line);
4. run ``python -m engine.language.schemagen`` (schemas/gates.schema.json gains your variant) and
   ``python -m engine.docgen``, add a section to docs/gates.md, and use the kind in rules/gates.yaml.

Optional: a column form for the dry-run fast path, one function plus one line in
engine/replay/columns/gate_forms.py. Without one the fast path leaves this gate's rows to the
runner: slower, never different. ``MUST_BE_LAST = True`` (see trading_state.py) keeps the kind
at the end of the chain; ``correlation_window(params)`` (correlation_throttle.py) asks for
return correlations.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.language.schemagen.dsl import Schema, num
from engine.trading.gates.base import Gate, GateContext, GateResult, blocked, gate_schema, passed

if TYPE_CHECKING:  # the rule language imports the gate kinds, not the other way round
    from engine.language.kinds.base import BuildContext, Doc

# CHANGE: the YAML `kind:` of the chain element (unique among the gate kinds).
KIND = "template_gate"
# CHANGE: one sentence, what the gate does; it is the schema element's description.
SUMMARY = "Blocks an entry whose signal confidence is below a minimum."
# CHANGE: every reason code evaluate() can give besides PASS (UPPER_SNAKE, stable: logs keep them).
REASONS = ("CONFIDENCE_BELOW_MIN",)


# CHANGE: the typed parameters, compiled once into the plan. Nested parts are their own frozen
# dataclasses, lists are tuples, durations are seconds (float).
@dataclass(frozen=True, slots=True, kw_only=True)
class Params:
    min_confidence: float


def schema() -> Schema:
    """CHANGE: one schema entry per Params field (``id``, ``kind`` and ``enabled`` are added)."""
    return gate_schema(
        KIND,
        SUMMARY,
        {"min_confidence": num("Lowest signal confidence an entry needs.", "fraction", minimum=0, maximum=1)},
    )


def compile_params(raw: Mapping[str, Any]) -> Params:
    """``raw`` is the schema-checked chain element: defaults filled, learnable values reduced."""
    return Params(min_confidence=raw["min_confidence"])


def check(params: Params, doc: Doc, path: tuple[Any, ...], ctx: BuildContext) -> None:
    """CHANGE: semantic checks the schema cannot express; report with ``ctx.report(doc, path +
    (field,), "RB3xx", message, suggestion=...)`` (add a new code to CODES in
    engine/language/kinds/gates.py). This kind has none."""


def expressions(params: Params) -> dict[str, tuple[Any, ...]]:
    """CHANGE: name → path inside the element of each condition the gate evaluates; the rule
    file compiles them into ``gate.expressions[name]`` (see pre_entry_gate.py). None here."""
    return {}


def evaluate(gate: Gate[Params], ctx: GateContext) -> GateResult:
    """CHANGE: pure — read ``gate.params`` and ``ctx``, never the clock or I/O. Return
    ``passed(gate, multiplier, reason, **inputs)`` or ``blocked(gate, reason, **inputs)``; an
    input you cannot read must block (fail closed) unless the gate only sizes."""
    confidence = ctx.record.confidence
    seen: dict[str, Any] = {"confidence": confidence, "min_confidence": gate.params.min_confidence}
    if confidence < gate.params.min_confidence:
        return blocked(gate, "CONFIDENCE_BELOW_MIN", **seen)
    return passed(gate, **seen)


def explain(result: GateResult) -> str:
    """CHANGE: in words, what the gate saw and decided (``rulebot explain`` prints it after the
    multiplier and reason, followed by the inputs; a disabled gate is worded for you)."""
    confidence, minimum = result.inputs["confidence"], result.inputs["min_confidence"]
    relation = "below" if result.blocked else "at or above"
    return f"signal confidence {confidence:.3f} is {relation} the minimum {minimum:g}"
