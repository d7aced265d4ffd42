"""Minimal ROI (freqtrade's ``minimal_roi``): a table of P&L targets by position age. Only the
target in force counts: the entry with the largest ``after`` the position's age has reached.
The position closes when its P&L is strictly above that target.

Unlike ``profit_target`` (where any target whose age has come counts), a later entry replaces
the earlier ones, so the table need not be monotonic: ``{0m: 2, 30m: 0.5, 60m: 1}`` asks for
more than 0.5 % again once the position is an hour old (at 45 min 0.5 % applies, at 70 min
1 %). The entries' ``after`` must be strictly ascending and the first must be ``0m`` (RB348,
RB349), so a target is in force at every age.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.language.durations import format_duration
from engine.language.schemagen.dsl import Schema, arr, duration, element, obj
from engine.trading.exits.base import ExitContext, ExitSignal, Tier, Trigger, fire, pnl_schema

if TYPE_CHECKING:
    from engine.language.kinds.base import BuildContext, Doc

KIND = "roi"
SUMMARY = "Closes when P&L beats the target in force at the position's age (freqtrade's minimal ROI)."
REASONS = ("ROI",)


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    """One entry of the table."""

    after: float  # seconds: the age from which this entry is in force (until the next one's)
    pnl_pct: float  # P&L that must be exceeded while it is in force


@dataclass(frozen=True, slots=True, kw_only=True)
class Params:
    tiers: tuple[Step, ...]  # ascending ``after``, the first at 0 (checked: RB348, RB349)

    def active_index(self, hold_s: Any) -> Any:
        """The index of the entry in force at ``hold_s`` (the last whose ``after`` ≤ hold_s),
        −1 before the first: a scalar for a scalar age, an array for an array of ages (the
        column form asks with the rows' ages)."""
        import numpy as np  # here, not at the top: `rulebot validate` imports this module, never numpy

        return np.searchsorted([t.after for t in self.tiers], hold_s, side="right") - 1

    def active(self, hold_s: float) -> Step | None:
        """The entry in force at ``hold_s``, or None before the first."""
        index = int(self.active_index(hold_s))
        return self.tiers[index] if index >= 0 else None


def schema() -> Schema:
    return element(
        KIND,
        SUMMARY,
        {
            "tiers": arr(
                "Targets by age, `after` ascending from `0m`; only the entry with the largest `after` "
                "the position's age has reached counts.",
                obj(
                    "A target and the age from which it is in force.",
                    {
                        "after": duration("Age from which this target is in force (until the next entry's)."),
                        "pnl_pct": pnl_schema("P&L that must be exceeded while this target is in force."),
                    },
                ),
                min_items=1,
            ),
        },
    )


def compile_params(raw: Mapping[str, Any]) -> Params:
    return Params(tiers=tuple(Step(after=t["after"], pnl_pct=t["pnl_pct"]) for t in raw["tiers"]))


def triggers(params: Params) -> tuple[Trigger, ...]:
    """From each entry's age on, the target in force is one of that entry's or a later one's:
    a P&L above the highest of them closes the position whatever the age. That (not the
    entry's own target, which a later entry replaces) is what each entry declares, so the
    whole-file checks (a rung behind a full exit, the age by which every position is closed)
    stay sound for a table that is not monotonic. Not used for RB342 inside the table: a
    later entry that asks for more than an earlier one is how a table raises its target."""
    found = []
    highest = -float("inf")
    for j in reversed(range(len(params.tiers))):
        entry = params.tiers[j]
        highest = max(highest, entry.pnl_pct)
        found.append(
            Trigger(
                list_field="tiers",
                index=j,
                noun="entry",
                field="pnl_pct",
                after_s=entry.after,
                pnl_pct=highest,
                above=True,
                full=True,
            )
        )
    return tuple(reversed(found))


def check(params: Params, doc: Doc, path: tuple[Any, ...], ctx: BuildContext) -> None:
    """RB348: the first entry must be in force from entry (``0m``); RB349: the ages ascend."""
    first = params.tiers[0]
    if first.after != 0:
        ctx.report(
            doc,
            path + ("tiers", 0, "after"),
            "RB348",
            f"the first ROI entry starts at {format_duration(first.after)}: no target is in force before it",
            suggestion="start the table with an entry `after: 0m`",
        )
    for j in range(1, len(params.tiers)):
        before, entry = params.tiers[j - 1], params.tiers[j]
        if entry.after <= before.after:
            ctx.report(
                doc,
                path + ("tiers", j, "after"),
                "RB349",
                f"ROI entry {j + 1} (after {format_duration(entry.after)}) does not come after entry {j} "
                f"(after {format_duration(before.after)}): the ages must be strictly ascending",
                suggestion="order the entries by `after`, each age once",
            )


def expressions(params: Params) -> dict[str, tuple[Any, ...]]:
    return {}


def evaluate(tier: Tier[Params], ctx: ExitContext) -> ExitSignal | None:
    index = int(tier.params.active_index(ctx.hold_s))
    if index < 0:
        return None
    entry = tier.params.tiers[index]
    if ctx.pnl_pct > entry.pnl_pct:
        return fire(tier, "ROI", pnl_pct=ctx.pnl_pct, roi_pct=entry.pnl_pct, after_s=entry.after, entry=index + 1)
    return None


def explain(signal: ExitSignal) -> str:
    detail = signal.detail
    since = "entry" if detail["after_s"] == 0 else format_duration(detail["after_s"])
    return (
        f"{signal.tier}: P&L {detail['pnl_pct']:+.4g} % beats {detail['roi_pct']:+g} %, "
        f"the ROI of entry {detail['entry']} (in force from {since})"
    )
