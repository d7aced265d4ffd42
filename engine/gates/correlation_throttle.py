"""Correlation throttle (seed "Correlation Throttle"): at most ``max_correlated_positions``
open positions in symbols whose return correlation with this one exceeds
``correlated_above`` (on the same side when ``same_direction_only``). A position whose
correlation is not known yet counts as correlated: the gate fails closed."""

from __future__ import annotations

import math

from engine.gates.base import blocked, passed

KIND = "correlation_throttle"
REASONS = ("CORRELATION_LIMIT",)


def evaluate(gate, ctx):
    p = gate.params
    counted = []
    for position in ctx.portfolio.positions:
        if position.symbol == ctx.symbol:
            continue
        if p["same_direction_only"] and position.direction != ctx.direction:
            continue
        correlation = ctx.correlations.get(position.symbol)
        if correlation is None or not math.isfinite(correlation) or correlation > p["correlated_above"]:
            counted.append(position.symbol)
    seen = {"correlated_positions": len(counted), "max_correlated_positions": p["max_correlated_positions"],
            "symbols": ",".join(counted)}
    if len(counted) >= p["max_correlated_positions"]:
        return blocked(gate, "CORRELATION_LIMIT", **seen)
    return passed(gate, **seen)
