"""Ladder exits (seed "Ladder Exits"): partial closes, each rung once, when its P&L is
exceeded after its age. Timing actions in ``suppress_on`` hold the ladder back; those in
``accelerate_on`` waive the rungs' time constraints."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from engine.language.schemagen.dsl import TIMING_ACTIONS, Schema, arr, duration, element, num, obj, text
from engine.trading.exits.base import ExitContext, ExitSignal, Tier, Trigger, pnl_schema

if TYPE_CHECKING:
    from engine.language.kinds.base import BuildContext, Doc

KIND = "ladder"
SUMMARY = "Partial closes at successive targets."
REASONS = ("LADDER_RUNG",)


@dataclass(frozen=True, slots=True, kw_only=True)
class Rung:
    fraction: float  # share of the original size closed
    pnl_pct: float  # P&L that must be exceeded
    after: float  # seconds: minimum age of the position


@dataclass(frozen=True, slots=True, kw_only=True)
class Params:
    rungs: tuple[Rung, ...]
    suppress_on: tuple[str, ...]  # timing actions that hold the ladder back
    accelerate_on: tuple[str, ...]  # timing actions that waive the rungs' time constraints


def schema() -> Schema:
    return element(
        KIND,
        SUMMARY,
        {
            "rungs": arr(
                "Rungs in order.",
                obj(
                    "A rung.",
                    {
                        "fraction": num(
                            "Share of the original size closed.", "fraction", exclusive_minimum=0, maximum=1
                        ),
                        "pnl_pct": pnl_schema("P&L that must be exceeded."),
                        "after": duration("Minimum age of the position."),
                    },
                ),
                min_items=1,
            ),
            "suppress_on": arr(
                "Timing actions that hold the ladder back.", text("Action.", enum=TIMING_ACTIONS), unique=True
            ),
            "accelerate_on": arr(
                "Timing actions that waive the rungs' time constraints.",
                text("Action.", enum=TIMING_ACTIONS),
                unique=True,
            ),
        },
    )


def compile_params(raw: Mapping[str, Any]) -> Params:
    return Params(
        rungs=tuple(Rung(fraction=r["fraction"], pnl_pct=r["pnl_pct"], after=r["after"]) for r in raw["rungs"]),
        suppress_on=tuple(raw["suppress_on"]),
        accelerate_on=tuple(raw["accelerate_on"]),
    )


def triggers(params: Params) -> tuple[Trigger, ...]:
    """Every rung closes a part of the position when P&L exceeds it (at any age when the
    cycle's timing action is one of ``accelerate_on``)."""
    return tuple(
        Trigger(
            list_field="rungs",
            index=j,
            noun="rung",
            field="pnl_pct",
            after_s=r.after,
            pnl_pct=r.pnl_pct,
            above=True,
            full=False,
            waived_on=params.accelerate_on,
        )
        for j, r in enumerate(params.rungs)
    )


def check(params: Params, doc: Doc, path: tuple[Any, ...], ctx: BuildContext) -> None:
    """RB343: the rungs together close at most the whole position."""
    total = sum(r.fraction for r in params.rungs)
    if total > 1 + 1e-9:
        ctx.report(doc, path + ("rungs",), "RB343", f"rungs close {total:g} of the position; at most 1", key=True)


def expressions(params: Params) -> dict[str, tuple[Any, ...]]:
    return {}


def _closes_rest(params: Params, done: tuple[int, ...], taken: list[int]) -> bool:
    """The rungs taken so far and now are all of them, and they add up to the whole position."""
    rungs = params.rungs
    return len(set(done) | set(taken)) == len(rungs) and sum(r.fraction for r in rungs) >= 1 - 1e-9


def evaluate(tier: Tier[Params], ctx: ExitContext) -> ExitSignal | None:
    p = tier.params
    if ctx.timing_action in p.suppress_on:
        return None
    accelerated = ctx.timing_action in p.accelerate_on
    done = ctx.position.ladder_done
    taken = [
        i
        for i, rung in enumerate(p.rungs)
        if i not in done and ctx.pnl_pct > rung.pnl_pct and (accelerated or ctx.hold_s >= rung.after)
    ]
    if not taken:
        return None
    fraction = sum(p.rungs[i].fraction for i in taken)
    return ExitSignal(
        tier.id,
        tier.kind,
        "LADDER_RUNG",
        min(1.0, fraction),
        tuple(taken),
        MappingProxyType({"pnl_pct": ctx.pnl_pct, "accelerated": accelerated}),
        _closes_rest(p, done, taken),
    )


def explain(signal: ExitSignal) -> str:
    rungs = ", ".join(str(i + 1) for i in signal.rungs)
    how = " (time constraints waived)" if signal.detail.get("accelerated") else ""
    return (
        f"{signal.tier}: rung {rungs} taken at P&L {signal.detail['pnl_pct']:+.4g} %, "
        f"closing {signal.fraction:g} of the initial size{how}"
    )
