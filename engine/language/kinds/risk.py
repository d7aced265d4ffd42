"""Rule kind ``risk``: sizing, leverage, order placement, grace windows, liquidation model."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from engine.language.diagnostics import Severity
from engine.language.kinds.base import BuildContext, Doc
from engine.language.schemagen.dsl import (
    CONVICTIONS,
    arr,
    boolean,
    document,
    duration,
    identifier,
    learnable,
    mapping,
    num,
    obj,
    text,
)

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


def schema() -> dict:
    """The JSON Schema of a `risk` rule file (written to schemas/risk.schema.json)."""
    return document(
        "risk",
        "risk",
        "Sizing, leverage, grace windows and liquidation safety.",
        {
            "sizing": obj(
                "How big an entry is.",
                {
                    "base_allocation_pct": learnable(
                        num("Margin per trade as a share of equity.", "%", exclusive_minimum=0, maximum=100)
                    ),
                    "signal_conviction_multiplier": boolean(
                        "Also multiply by the signal's conviction-level size "
                        "multiplier (signals.yaml HIGH 1.5x …); the gate chain's "
                        "multipliers always apply."
                    ),
                    "min_total_multiplier": num("Lower clamp of the multiplier product.", "x", minimum=0),
                    "max_total_multiplier": num("Upper clamp of the multiplier product.", "x", minimum=0),
                    "max_notional_usd": num("Largest notional of one order.", "USD", exclusive_minimum=0),
                },
            ),
            "leverage": obj(
                "Leverage per position.",
                {
                    "default": num("Leverage when no rule below applies.", "x", minimum=1, maximum=125),
                    "min": num("Lowest leverage.", "x", minimum=1, maximum=125),
                    "max": num("Highest leverage.", "x", minimum=1, maximum=125),
                    "by_conviction": mapping(
                        "Leverage per signal conviction level.",
                        num("Leverage.", "x", minimum=1, maximum=125),
                        keys=CONVICTIONS[:-1],
                    )
                    | {"default": {}},
                },
            ),
            "orders": obj(
                "Order placement.",
                {
                    "entry_type": text("Entry order type.", enum=["market", "limit"]),
                    "limit_offset_bps": num("Limit price offset from the touch.", "bps", minimum=0, maximum=1000),
                    "client_order_id_prefix": text("Prefix of client order ids.", pattern=r"^[a-z0-9]{1,8}$"),
                },
            ),
            "grace_windows": obj(
                "Protection of new positions from early exits (seed: Grace Window Protection).",
                {
                    "standard": duration("Grace window for standard trades."),
                    "high_conviction": duration("Grace window for high-conviction trades."),
                    "high_conviction_levels": arr(
                        "Signal conviction levels that count as high.",
                        text("Level.", enum=CONVICTIONS[:-1]),
                        unique=True,
                    ),
                    "exempt_tiers": arr(
                        "Exit tiers that ignore the grace window.", identifier("Exit tier id."), unique=True
                    ),
                },
            ),
            "liquidation": obj(
                "Liquidation model and safety buffer.",
                {
                    "maintenance_margin_pct": num("Maintenance margin rate.", "%", minimum=0, maximum=50),
                    "buffer_fraction": num(
                        "The stop must stay this fraction of |entry − liquidation| away from liquidation.",
                        "fraction",
                        minimum=0,
                        maximum=1,
                    ),
                },
            ),
        },
    )
