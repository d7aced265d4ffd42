"""Correlation throttle (seed "Correlation Throttle"): at most ``max_correlated_positions``
open positions in symbols whose return correlation with this one exceeds
``correlated_above`` (on the same side when ``same_direction_only``). A position whose
correlation is not known yet counts as correlated: the gate fails closed."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.language.schemagen.dsl import Schema, boolean, duration, num
from engine.trading.gates.base import Gate, GateContext, GateResult, blocked, gate_schema, passed

if TYPE_CHECKING:  # the rule language imports the gate kinds, not the other way round
    from engine.language.kinds.base import BuildContext, Doc

KIND = "correlation_throttle"
SUMMARY = "Limits open positions in correlated symbols."
REASONS = ("CORRELATION_LIMIT",)


@dataclass(frozen=True, slots=True, kw_only=True)
class Params:
    window: float  # seconds of returns the correlation is computed over
    return_interval: float  # seconds between two returns
    correlated_above: float
    max_correlated_positions: int
    same_direction_only: bool


def schema() -> Schema:
    return gate_schema(
        KIND,
        SUMMARY,
        {
            "window": duration("Window of returns for the correlation.", positive=True),
            "return_interval": duration(
                "Spacing of the returns: whole minutes (bars are built from 1-minute closes).",
                positive=True,
                whole_minutes=True,
            ),
            "correlated_above": num(
                "Correlation above which two symbols count as correlated.", "correlation", minimum=0, maximum=1
            ),
            "max_correlated_positions": num("Open correlated positions allowed.", "count", minimum=0, integer=True),
            "same_direction_only": boolean("Count only positions on the same side.", default=True),
        },
    )


def compile_params(raw: Mapping[str, Any]) -> Params:
    return Params(
        window=raw["window"],
        return_interval=raw["return_interval"],
        correlated_above=raw["correlated_above"],
        max_correlated_positions=raw["max_correlated_positions"],
        same_direction_only=raw["same_direction_only"],
    )


def check(params: Params, doc: Doc, path: tuple[Any, ...], ctx: BuildContext) -> None:
    """Nothing beyond the schema."""


def expressions(params: Params) -> dict[str, tuple[Any, ...]]:
    return {}


def correlation_window(params: Params) -> tuple[float, float]:
    """(window, return interval) in seconds of the return correlations this gate reads: the
    pipeline's correlation tracker is built with them (engine.trading.gates.correlation_window)."""
    return params.window, params.return_interval


def evaluate(gate: Gate[Params], ctx: GateContext) -> GateResult:
    p = gate.params
    counted = []
    for position in ctx.portfolio.positions:
        if position.symbol == ctx.symbol:
            continue
        if p.same_direction_only and position.direction != ctx.direction:
            continue
        correlation = ctx.correlations.get(position.symbol)
        if correlation is None or not math.isfinite(correlation) or correlation > p.correlated_above:
            counted.append(position.symbol)
    seen: dict[str, Any] = {
        "correlated_positions": len(counted),
        "max_correlated_positions": p.max_correlated_positions,
        "symbols": ",".join(counted),
    }
    if len(counted) >= p.max_correlated_positions:
        return blocked(gate, "CORRELATION_LIMIT", **seen)
    return passed(gate, **seen)


def explain(result: GateResult) -> str:
    i = result.inputs
    count, limit, symbols = i["correlated_positions"], i["max_correlated_positions"], i["symbols"]
    which = f" ({symbols})" if symbols else ""
    relation = "reach" if result.blocked else "stay below"
    return f"{count} correlated open position(s){which}, which {relation} the limit of {limit}"
