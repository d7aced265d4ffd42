"""Profit targets (seed "Profit Targets"): any target whose age has come and whose P&L is
strictly exceeded closes the position (freqtrade ROI: strict ``>``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.language.durations import format_duration
from engine.language.schemagen.dsl import Schema, arr, duration, element, obj
from engine.trading.exits.base import ExitContext, ExitSignal, Tier, Trigger, check_shadowed, fire, pnl_schema

if TYPE_CHECKING:
    from engine.language.kinds.base import BuildContext, Doc

KIND = "profit_target"
SUMMARY = "Closes when P&L beats a target once the position is old enough."
REASONS = ("TAKE_PROFIT",)


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    after: float  # seconds: minimum age of the position
    pnl_pct: float  # P&L that must be exceeded


@dataclass(frozen=True, slots=True, kw_only=True)
class Params:
    targets: tuple[Target, ...]  # any that holds fires


def schema() -> Schema:
    return element(
        KIND,
        SUMMARY,
        {
            "targets": arr(
                "Targets; any that holds fires.",
                obj(
                    "A target.",
                    {
                        "after": duration("Minimum age of the position."),
                        "pnl_pct": pnl_schema("P&L that must be exceeded."),
                    },
                ),
                min_items=1,
            ),
        },
    )


def compile_params(raw: Mapping[str, Any]) -> Params:
    return Params(targets=tuple(Target(after=t["after"], pnl_pct=t["pnl_pct"]) for t in raw["targets"]))


def triggers(params: Params) -> tuple[Trigger, ...]:
    """Every target closes the whole position when P&L exceeds it."""
    return tuple(
        Trigger(
            list_field="targets",
            index=j,
            noun="target",
            field="pnl_pct",
            after_s=t.after,
            pnl_pct=t.pnl_pct,
            above=True,
            full=True,
        )
        for j, t in enumerate(params.targets)
    )


def check(params: Params, doc: Doc, path: tuple[Any, ...], ctx: BuildContext) -> None:
    """RB342: a target another target always pre-empts."""
    check_shadowed(triggers(params), doc, path, ctx)


def expressions(params: Params) -> dict[str, tuple[Any, ...]]:
    return {}


def evaluate(tier: Tier[Params], ctx: ExitContext) -> ExitSignal | None:
    for target in tier.params.targets:
        if ctx.hold_s >= target.after and ctx.pnl_pct > target.pnl_pct:
            return fire(tier, "TAKE_PROFIT", pnl_pct=ctx.pnl_pct, target_pct=target.pnl_pct, after_s=target.after)
    return None


def explain(signal: ExitSignal) -> str:
    detail = signal.detail
    age = f" set for positions {format_duration(detail['after_s'])} old" if detail["after_s"] > 0 else ""
    return f"{signal.tier}: P&L {detail['pnl_pct']:+.4g} % beats the target +{detail['target_pct']:g} %{age}"
