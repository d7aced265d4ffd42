"""Rule kind ``gates``: the ordered review chain that sizes or blocks an entry."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.language.kinds.base import BuildContext, Doc, check_unique_ids

KIND = "gates"
CODES = {
    "RB310": "score levels or bands are not ordered from highest to lowest",
    "RB311": "score levels or bands leave some scores without a level",
    "RB312": "`trading_state` must be the last gate of the chain",
    "RB313": "a bullish/bearish cut-off pair is inverted",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Gate:
    id: str
    kind: str
    enabled: bool
    params: Mapping[str, Any]  # every field but id/kind/enabled, frozen
    expressions: Mapping[str, Any]  # name → CompiledExpression


@dataclass(frozen=True, slots=True, kw_only=True)
class Spec:
    expected_edge: Any  # CompiledExpression (float, percent)
    chain: tuple[Gate, ...]


def build(doc: Doc, ctx: BuildContext) -> Spec:
    gates = []
    for index, raw in enumerate(doc.frozen["chain"]):
        params = {k: v for k, v in raw.items() if k not in ("id", "kind", "enabled")}
        gates.append(
            Gate(
                id=raw["id"],
                kind=raw["kind"],
                enabled=raw["enabled"],
                params=params,
                expressions=_expressions(doc, ctx, index, raw),
            )
        )
    return Spec(expected_edge=ctx.expression(doc, ("expected_edge",), "gate", "float"), chain=tuple(gates))


def _expressions(doc: Doc, ctx: BuildContext, index: int, raw: Mapping) -> dict[str, Any]:
    found = {}
    for j, gate in enumerate(raw.get("profit_gates", ())):
        found[f"profit_gates.{gate['id']}"] = ctx.expression(doc, ("chain", index, "profit_gates", j, "when"), "gate")
    return found


def check(spec: Spec, doc: Doc, ctx: BuildContext) -> None:
    check_unique_ids(doc, ("chain",), ctx, "gate")
    for index, gate in enumerate(spec.chain):
        path = ("chain", index)
        if gate.kind == "conviction_gate":
            _check_bands(gate.params["levels"], 0.0, doc, path + ("levels",), ctx)
        elif gate.kind == "intelligence_gate":
            _check_bands(gate.params["bands"], -1.0, doc, path + ("bands",), ctx)
            _check_sources(gate.params["sources"], doc, path + ("sources",), ctx)
        elif gate.kind == "trading_state" and index != len(spec.chain) - 1:
            ctx.report(
                doc,
                path,
                "RB312",
                "the trading_state gate must be the last gate of the chain",
                suggestion="move it to the end of `chain`",
            )


def _check_bands(bands, lowest: float, doc: Doc, path: tuple, ctx: BuildContext) -> None:
    scores = [band["min_score"] for band in bands]
    for j in range(1, len(scores)):
        if scores[j] >= scores[j - 1]:
            ctx.report(
                doc,
                path + (j, "min_score"),
                "RB310",
                f"min_score {scores[j]:g} is not below the previous {scores[j - 1]:g}; list from highest to lowest",
                suggestion="reorder the entries",
            )
    if scores and scores[-1] > lowest:
        ctx.report(
            doc,
            path + (len(scores) - 1, "min_score"),
            "RB311",
            f"scores below {scores[-1]:g} match no entry (scores go down to {lowest:g})",
            suggestion=f"set the last min_score to {lowest:g}",
        )


_CUTOFFS = {
    "taker_flow": ("bearish_below", "bullish_above"),
    "liquidations": ("bullish_below", "bearish_above"),
    "fear_greed": ("fear_below", "greed_above"),
    "ofi": ("bearish_below", "bullish_above"),
}


def _check_sources(sources: Mapping, doc: Doc, path: tuple, ctx: BuildContext) -> None:
    for name, (low, high) in _CUTOFFS.items():
        source = sources[name]
        if source[low] >= source[high]:
            ctx.report(
                doc,
                path + (name,),
                "RB313",
                f"{name}: {low} ({source[low]:g}) must be below {high} ({source[high]:g})",
                suggestion=f"swap {low} and {high}",
            )
