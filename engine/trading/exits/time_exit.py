"""Time exits (seed "Time-Based Exits"): after each rule's age, P&L below its floor closes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.language.durations import format_duration
from engine.language.schemagen.dsl import Schema, arr, duration, element, obj
from engine.trading.exits.base import ExitContext, ExitSignal, Tier, Trigger, check_shadowed, fire, pnl_schema

if TYPE_CHECKING:
    from engine.language.kinds.base import BuildContext, Doc

KIND = "time_exit"
SUMMARY = "Closes positions that stay weak for too long."
REASONS = ("TIME_LIMIT",)


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    after: float  # seconds: age after which the rule applies
    below_pnl_pct: float  # close when P&L is below this


@dataclass(frozen=True, slots=True, kw_only=True)
class Params:
    rules: tuple[Rule, ...]  # any that holds fires


def schema() -> Schema:
    return element(
        KIND,
        SUMMARY,
        {
            "rules": arr(
                "Rules; any that holds fires.",
                obj(
                    "A rule.",
                    {
                        "after": duration("Age after which the rule applies."),
                        "below_pnl_pct": pnl_schema("Close when P&L is below this."),
                    },
                ),
                min_items=1,
            ),
        },
    )


def compile_params(raw: Mapping[str, Any]) -> Params:
    return Params(rules=tuple(Rule(after=r["after"], below_pnl_pct=r["below_pnl_pct"]) for r in raw["rules"]))


def triggers(params: Params) -> tuple[Trigger, ...]:
    """Every rule closes the whole position when P&L falls below its floor."""
    return tuple(
        Trigger(
            list_field="rules",
            index=j,
            noun="rule",
            field="below_pnl_pct",
            after_s=r.after,
            pnl_pct=r.below_pnl_pct,
            above=False,
            full=True,
        )
        for j, r in enumerate(params.rules)
    )


def check(params: Params, doc: Doc, path: tuple[Any, ...], ctx: BuildContext) -> None:
    """RB342: a rule another rule always pre-empts."""
    check_shadowed(triggers(params), doc, path, ctx)


def expressions(params: Params) -> dict[str, tuple[Any, ...]]:
    return {}


def evaluate(tier: Tier[Params], ctx: ExitContext) -> ExitSignal | None:
    for rule in tier.params.rules:
        if ctx.hold_s >= rule.after and ctx.pnl_pct < rule.below_pnl_pct:
            return fire(tier, "TIME_LIMIT", pnl_pct=ctx.pnl_pct, below_pnl_pct=rule.below_pnl_pct, after_s=rule.after)
    return None


def explain(signal: ExitSignal) -> str:
    detail = signal.detail
    return (
        f"{signal.tier}: after {format_duration(detail['after_s'])} P&L {detail['pnl_pct']:+.4g} % "
        f"is still below {detail['below_pnl_pct']:+g} %"
    )
