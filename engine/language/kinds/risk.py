"""Rule kind ``risk``: sizing, leverage, order placement, grace windows, liquidation model."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from engine.language.diagnostics import Severity
from engine.language.kinds.base import BuildContext, Doc

KIND = "risk"
CODES = {
    "RB320": "leverage values are not within min ≤ default ≤ max",
    "RB321": "sizing clamp has min above max",
    "RB322": "high-conviction grace window is shorter than the standard one",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Sizing:
    base_allocation_pct: float
    signal_conviction_multiplier: bool
    min_total_multiplier: float
    max_total_multiplier: float
    max_notional_usd: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Leverage:
    default: float
    min: float
    max: float
    by_conviction: Mapping[str, float]


@dataclass(frozen=True, slots=True, kw_only=True)
class Orders:
    entry_type: str
    limit_offset_bps: float
    client_order_id_prefix: str


@dataclass(frozen=True, slots=True, kw_only=True)
class GraceWindows:
    standard: float
    high_conviction: float
    high_conviction_levels: tuple[str, ...]
    exempt_tiers: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Liquidation:
    maintenance_margin_pct: float
    buffer_fraction: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Spec:
    sizing: Sizing
    leverage: Leverage
    orders: Orders
    grace_windows: GraceWindows
    liquidation: Liquidation


def build(doc: Doc, ctx: BuildContext) -> Spec:
    f = doc.frozen
    return Spec(
        sizing=Sizing(**f["sizing"]),
        leverage=Leverage(**f["leverage"]),
        orders=Orders(**f["orders"]),
        grace_windows=GraceWindows(**f["grace_windows"]),
        liquidation=Liquidation(**f["liquidation"]),
    )


def check(spec: Spec, doc: Doc, ctx: BuildContext) -> None:
    lev = spec.leverage
    if not lev.min <= lev.default <= lev.max:
        ctx.report(
            doc,
            ("leverage",),
            "RB320",
            f"leverage must satisfy min ≤ default ≤ max; found {lev.min:g} / {lev.default:g} / {lev.max:g}",
        )
    for level, value in lev.by_conviction.items():
        if not lev.min <= value <= lev.max:
            ctx.report(
                doc,
                ("leverage", "by_conviction", level),
                "RB320",
                f"leverage {value:g} for {level} is outside min {lev.min:g} … max {lev.max:g}",
            )
    if spec.sizing.min_total_multiplier > spec.sizing.max_total_multiplier:
        ctx.report(
            doc, ("sizing", "min_total_multiplier"), "RB321", "min_total_multiplier is above max_total_multiplier"
        )
    if spec.grace_windows.high_conviction < spec.grace_windows.standard:
        ctx.report(
            doc,
            ("grace_windows", "high_conviction"),
            "RB322",
            "the high-conviction grace window is shorter than the standard one",
            severity=Severity.WARNING,
        )
