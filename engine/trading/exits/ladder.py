"""Ladder exits (seed "Ladder Exits"): partial closes, each rung once, when its P&L is
exceeded after its age. Timing actions in ``suppress_on`` hold the ladder back; those in
``accelerate_on`` waive the rungs' time constraints."""

from __future__ import annotations

from types import MappingProxyType

from engine.trading.exits.base import ExitSignal

KIND = "ladder"
REASONS = ("LADDER_RUNG",)


def evaluate(tier, ctx):
    p = tier.params
    if ctx.timing_action in p["suppress_on"]:
        return None
    accelerated = ctx.timing_action in p["accelerate_on"]
    taken = [
        i
        for i, rung in enumerate(p["rungs"])
        if i not in ctx.position.ladder_done
        and ctx.pnl_pct > rung["pnl_pct"]
        and (accelerated or ctx.hold_s >= rung["after"])
    ]
    if not taken:
        return None
    fraction = sum(p["rungs"][i]["fraction"] for i in taken)
    return ExitSignal(
        tier.id,
        tier.kind,
        "LADDER_RUNG",
        min(1.0, fraction),
        tuple(taken),
        MappingProxyType({"pnl_pct": ctx.pnl_pct, "accelerated": accelerated}),
    )
