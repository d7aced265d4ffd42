"""Rule kind ``gates``: the ordered review chain that sizes or blocks an entry.

Each chain element belongs to a gate kind module (engine/trading/gates/, looked up in its
registry at call time): the module compiles the element's ``Params``, names its expressions,
checks it and gives its schema variant. What needs the whole file — unique ids, the kind that
must run last, the document schema — is here, and names no gate kind."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.language.kinds.base import BuildContext, Doc, check_unique_ids
from engine.language.schemagen.dsl import Schema, arr, document, expression, kinds
from engine.trading import gates as gate_kinds
from engine.trading.gates.base import Gate

KIND = "gates"
CODES = {
    "RB310": "score levels or bands are not ordered from highest to lowest",
    "RB311": "score levels or bands leave some scores without a level",
    "RB312": "`trading_state` must be the last gate of the chain",
    "RB313": "a bullish/bearish cut-off pair is inverted",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Spec:
    expected_edge: Any  # CompiledExpression (float, percent)
    chain: tuple[Gate[Any], ...]


def build(doc: Doc, ctx: BuildContext) -> Spec:
    chain = tuple(_gate(doc, ctx, index, raw) for index, raw in enumerate(doc.frozen["chain"]))
    return Spec(expected_edge=ctx.expression(doc, ("expected_edge",), "gate", "float"), chain=chain)


def _gate(doc: Doc, ctx: BuildContext, index: int, raw: Any) -> Gate[Any]:
    """One chain element: its kind compiles the parameters and names the expressions it
    evaluates (paths inside the element; each a condition of the ``gate`` vocabulary)."""
    module = gate_kinds.kind_module(raw["kind"])
    params = module.compile_params(raw)
    expressions = {
        name: ctx.expression(doc, ("chain", index, *path), "gate") for name, path in module.expressions(params).items()
    }
    return Gate(id=raw["id"], kind=raw["kind"], enabled=raw["enabled"], params=params, expressions=expressions)


def check(spec: Spec, doc: Doc, ctx: BuildContext) -> None:
    check_unique_ids(doc, ("chain",), ctx, "gate")
    last = len(spec.chain) - 1
    for index, gate in enumerate(spec.chain):
        module = gate_kinds.kind_module(gate.kind)
        module.check(gate.params, doc, ("chain", index), ctx)
        if getattr(module, "MUST_BE_LAST", False) and index != last:
            ctx.report(
                doc,
                ("chain", index),
                "RB312",
                f"the {gate.kind} gate must be the last gate of the chain",
                suggestion="move it to the end of `chain`",
            )


def schema() -> Schema:
    """The whole gates document; each chain element variant is its kind module's ``schema()``."""
    gate, defs = kinds("One gate.", {kind: module.schema() for kind, module in gate_kinds.GATES.items()})
    return document(
        "gates",
        "gates",
        "The ordered review gate chain (seed: Signal Review Process).",
        {
            "expected_edge": expression(
                "Expected move of a trade in percent, before fees, over the gate vocabulary "
                "(used by the conviction gate's edge boost and the fee gate).",
                "float",
            ),
            "chain": arr("Gates in the order they run.", gate, min_items=1, max_items=32),
        },
        defs=defs,
    )
