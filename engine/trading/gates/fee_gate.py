"""Fee gate (seed "Fee Gate"): the expected edge after the venue's round-trip fees must be
at least ``min_edge_after_fees_pct`` (equality passes, within 1e-9 % of float noise), else
block. Fails closed when the edge is unknown."""

from __future__ import annotations

from engine.replay.columns.gates import blocks
from engine.trading.gates.base import blocked, passed

KIND = "fee_gate"
REASONS = ("FEE_EDGE_UNKNOWN", "FEE_EDGE_TOO_SMALL")
TOLERANCE_PCT = 1e-9


def evaluate(gate, ctx):
    p = gate.params
    fee = ctx.venue.taker_fee_pct if p["fee_type"] == "taker" else ctx.venue.maker_fee_pct
    round_trip = 2 * fee
    if ctx.expected_edge_pct is None:
        return blocked(gate, "FEE_EDGE_UNKNOWN", round_trip_fee_pct=round_trip)
    after = ctx.expected_edge_pct - round_trip
    seen = {
        "expected_edge_pct": ctx.expected_edge_pct,
        "round_trip_fee_pct": round_trip,
        "edge_after_fees_pct": after,
        "min_edge_after_fees_pct": p["min_edge_after_fees_pct"],
    }
    if after < p["min_edge_after_fees_pct"] - TOLERANCE_PCT:
        return blocked(gate, "FEE_EDGE_TOO_SMALL", **seen)
    return passed(gate, **seen)


def columns(gate, cols, live):
    """``evaluate`` for many rows (engine.replay.columns.decisions): an unknown edge stays unknown."""
    p = gate.params
    fee = cols.venue.taker_fee_pct if p["fee_type"] == "taker" else cols.venue.maker_fee_pct
    after = cols.expected_edge - 2 * fee
    return blocks(after < p["min_edge_after_fees_pct"] - TOLERANCE_PCT, "FEE_EDGE_TOO_SMALL", cols.edge_unknown)
