"""Trading state (anchors A.6): ACTIVE passes; HALTED and REDUCING refuse new entries
(an entry always adds exposure). The state itself comes from engine.trading.entry.trading_state."""

from __future__ import annotations

import numpy as np

from engine.replay.columns.gates import blocks
from engine.trading.gates.base import blocked, passed

KIND = "trading_state"
REASONS = ("TRADING_HALTED", "TRADING_REDUCING")


def evaluate(gate, ctx):
    if ctx.trading_state == "ACTIVE":
        return passed(gate, state="ACTIVE")
    return blocked(gate, f"TRADING_{ctx.trading_state}", state=ctx.trading_state, why=ctx.trading_state_reason)


def columns(gate, cols, live):
    """``evaluate`` for many rows (engine.replay.columns.decisions): the state is the portfolio's."""
    return blocks(np.full(len(cols), cols.state != "ACTIVE"), f"TRADING_{cols.state}")
