"""Correlation throttle (seed "Correlation Throttle"): at most ``max_correlated_positions``
open positions in symbols whose return correlation with this one exceeds
``correlated_above`` (on the same side when ``same_direction_only``). A position whose
correlation is not known yet counts as correlated: the gate fails closed."""

from __future__ import annotations

import math

import numpy as np

from engine.replay.columns.gates import blocks
from engine.trading.gates.base import blocked, passed

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
    seen = {
        "correlated_positions": len(counted),
        "max_correlated_positions": p["max_correlated_positions"],
        "symbols": ",".join(counted),
    }
    if len(counted) >= p["max_correlated_positions"]:
        return blocked(gate, "CORRELATION_LIMIT", **seen)
    return passed(gate, **seen)


def columns(gate, cols, live):
    """``evaluate`` for many rows (engine.replay.columns.decisions); the open positions are constant."""
    p = gate.params
    counted = np.zeros(len(cols), dtype=int)
    for position in cols.portfolio.positions:
        if position.symbol == cols.symbol:
            continue
        side = 1 if position.direction == "LONG" else -1
        same = cols.sign == side if p["same_direction_only"] else np.ones(len(cols), dtype=bool)
        correlation = cols.correlation(position.symbol)
        with np.errstate(invalid="ignore"):
            correlated = ~np.isfinite(correlation) | (correlation > p["correlated_above"])
        counted += same & correlated
    return blocks(counted >= p["max_correlated_positions"], "CORRELATION_LIMIT")
