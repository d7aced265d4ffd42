"""Pre-entry gate (seed "Pre-Entry Gate (Unified Stack)"): the execution venue must be of
an allowed type (futures only), and no profit gate may hold. A profit gate whose
expression cannot be evaluated blocks (fail closed)."""

from __future__ import annotations

import numpy as np

from engine.language.diagnostics import RuleRuntimeError
from engine.replay.columns.gates import blocks, evaluate_rows
from engine.trading.gates.base import blocked, passed

KIND = "pre_entry_gate"
REASONS = ("VENUE_TYPE_NOT_ALLOWED", "PROFIT_GATE_UNEVALUABLE", "<profit gate reason>")


def evaluate(gate, ctx):
    allowed = gate.params["allowed_venue_types"]
    if ctx.venue.venue_type not in allowed:
        return blocked(gate, "VENUE_TYPE_NOT_ALLOWED", venue=ctx.venue.id, venue_type=ctx.venue.venue_type)
    for profit_gate in gate.params["profit_gates"]:
        expression = gate.expressions[f"profit_gates.{profit_gate['id']}"]
        try:
            holds = expression(ctx.env)
        except RuleRuntimeError as error:
            return blocked(gate, "PROFIT_GATE_UNEVALUABLE", profit_gate=profit_gate["id"], error=str(error)[:120])
        if holds:
            return blocked(gate, profit_gate["reason"], profit_gate=profit_gate["id"])
    return passed(gate, venue=ctx.venue.id)


def columns(gate, cols, live):
    """``evaluate`` for many rows (engine.replay.columns.decisions): the venue is constant; a profit
    gate that cannot be evaluated on a row leaves it unknown."""
    n = len(cols)
    if cols.venue.venue_type not in gate.params["allowed_venue_types"]:
        return blocks(np.ones(n, dtype=bool), "VENUE_TYPE_NOT_ALLOWED")
    blocked, unknown = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    reason = np.full(n, None, dtype=object)
    for profit_gate in gate.params["profit_gates"]:
        open_ = live & ~blocked & ~unknown
        holds, unsure = evaluate_rows(gate.expressions[f"profit_gates.{profit_gate['id']}"], cols.env, open_)
        hit = open_ & ~unsure & holds
        reason[hit] = profit_gate["reason"]
        blocked |= hit
        unknown |= unsure
    return blocks(blocked, reason, unknown)
