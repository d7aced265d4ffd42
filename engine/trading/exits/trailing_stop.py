"""Trailing stop (freqtrade's ``trailing_stop``): closes when P&L falls ``distance_pct`` below
the best P&L the position has had.

The peak is the exit vocabulary's ``peak_pnl_pct``: the best P&L since entry *including this
cycle's* (``max(position.peak_pnl_pct, pnl_pct)``, engine.trading.exits ``exit_env``), so a
cycle that sets a new peak never fires, and the stop trails from the peak as of this cycle.
A position's stored peak starts at 0, so the peak is never below 0 and an active stop fires at
the latest at ``−distance_pct``.

With ``activate_above_pct`` above 0 the stop is only active once the peak has exceeded it
(freqtrade's ``trailing_stop_positive_offset`` with ``trailing_only_offset_is_reached``); 0 (the
default) makes it active from entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.language.schemagen.dsl import Schema, element, learnable, num
from engine.trading.exits.base import ExitContext, ExitSignal, Tier, fire

if TYPE_CHECKING:
    from engine.language.kinds.base import BuildContext, Doc

KIND = "trailing_stop"
SUMMARY = "Closes when P&L falls a distance below its peak (optionally once the peak passed a level)."
REASONS = ("TRAILING_STOP",)


@dataclass(frozen=True, slots=True, kw_only=True)
class Params:
    distance_pct: float  # positive: closes at P&L ≤ peak − distance_pct
    activate_above_pct: float  # 0: active from entry; else once the peak exceeds it

    def active(self, peak_pnl_pct: Any) -> Any:
        """Whether the stop is active at that peak: a bool for a scalar peak; for a column of
        peaks (the column form) True, or one bool per row."""
        return self.activate_above_pct == 0 or peak_pnl_pct > self.activate_above_pct


def schema() -> Schema:
    return element(
        KIND,
        SUMMARY,
        {
            "distance_pct": learnable(
                num(
                    "How far below its peak P&L may fall before the position closes (positive number).",
                    "%",
                    exclusive_minimum=0,
                    maximum=100,
                )
            ),
            "activate_above_pct": num(
                "The stop is active only once the peak P&L has exceeded this; 0: from entry.",
                "%",
                minimum=0,
                maximum=1000,
                default=0,
            ),
        },
    )


def compile_params(raw: Mapping[str, Any]) -> Params:
    return Params(distance_pct=raw["distance_pct"], activate_above_pct=raw["activate_above_pct"])


def check(params: Params, doc: Doc, path: tuple[Any, ...], ctx: BuildContext) -> None:
    """Nothing beyond the schema."""


def expressions(params: Params) -> dict[str, tuple[Any, ...]]:
    return {}


def evaluate(tier: Tier[Params], ctx: ExitContext) -> ExitSignal | None:
    p = tier.params
    peak = ctx.env["peak_pnl_pct"]  # this cycle's P&L included (exit_env)
    if p.active(peak) and ctx.pnl_pct <= peak - p.distance_pct:
        return fire(
            tier,
            "TRAILING_STOP",
            pnl_pct=ctx.pnl_pct,
            peak_pnl_pct=peak,
            distance_pct=p.distance_pct,
            activate_above_pct=p.activate_above_pct,
        )
    return None


def explain(signal: ExitSignal) -> str:
    detail = signal.detail
    armed = (
        f", active since the peak passed +{detail['activate_above_pct']:g} %" if detail["activate_above_pct"] else ""
    )
    return (
        f"{signal.tier}: P&L {detail['pnl_pct']:+.4g} % is {detail['distance_pct']:g} % or more below "
        f"the peak {detail['peak_pnl_pct']:+.4g} %{armed}"
    )
