"""Liquidation cascade (seed #1, 22 %): follow forced selling or buying.

Long liquidations are forced sells, so a cascade dominated by longs pushes price down:
SHORT. Needs the window's volume at or above ``min_volume_usd`` and the dominant side's
share strictly above ``min_dominance`` (the seed's "> 0.60"). Confidence: volume ÷ (threshold × multiple), plus
``acceleration_boost`` while the newer half of the window outweighs the older half.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.language.schemagen.dsl import num
from engine.trading.features import LiquidationCascade
from engine.trading.signals.answer import LONG, SHORT, Answer, directed, fmt, neutral, scaled
from engine.trading.signals.components import base
from engine.trading.signals.components.base import component_schema, confidence_multiple, usd, window

if TYPE_CHECKING:
    from engine.language.kinds.signals import Component
    from engine.market.snapshot import Snapshot, SymbolSnapshot

KIND = "liquidation_cascade"
SUMMARY = "Forced selling or buying that creates momentum (follows the cascade)."
REASONS = ("warming_up", "below_threshold", "no_dominant_side", "long_cascade", "short_cascade")
INPUTS = ("liquidations",)
EXPORTS = ("liq_volume_usd", "liq_long_share", "liq_acceleration")  # vocabulary names exports() may give
SIGNALS_CASCADE = True  # a non-NEUTRAL answer is "a cascade is active" (gates' cascade_active, cascade_boost)
NEEDS_LEADER = False
STATE_READS = ("params",)  # new_state() reads these of the component (a reload keeps the state while they hold)


@dataclass(frozen=True, slots=True, kw_only=True)
class Params:
    window: float  # seconds
    min_dominance: float
    full_confidence_multiple: float
    acceleration_boost: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Thresholds:
    min_volume_usd: float


def schema() -> dict[str, Any]:
    return component_schema(
        KIND,
        SUMMARY,
        params={
            "window": window("liquidation volume"),
            "min_dominance": num(
                "Share of the dominant side needed for a direction.", "fraction", minimum=0.5, maximum=1
            ),
            "full_confidence_multiple": confidence_multiple(),
            "acceleration_boost": num(
                "Confidence added while the cascade accelerates.", "fraction", minimum=0, maximum=1, default=0.0
            ),
        },
        thresholds={"min_volume_usd": usd("Minimum liquidation volume in the window.")},
        inputs=INPUTS,
    )


def compile_params(raw: Mapping[str, Any]) -> Params:
    return Params(
        window=raw["window"],
        min_dominance=raw["min_dominance"],
        full_confidence_multiple=raw["full_confidence_multiple"],
        acceleration_boost=raw["acceleration_boost"],
    )


def compile_thresholds(raw: Mapping[str, Any]) -> Thresholds:
    return Thresholds(min_volume_usd=raw["min_volume_usd"])


check = base.no_checks  # nothing beyond the schema's ranges


def new_state(component: Component) -> LiquidationCascade:
    params: Params = component.params
    return LiquidationCascade(window_seconds=params.window)


def update(
    state: LiquidationCascade, snapshot: Snapshot, symbol: SymbolSnapshot, leader: SymbolSnapshot | None
) -> None:
    long_usd, short_usd = symbol.get("liq_long_usd"), symbol.get("liq_short_usd")
    if long_usd is not None or short_usd is not None:
        state.update(symbol.times["liquidations"], long_usd or 0.0, short_usd or 0.0)


def exports(state: LiquidationCascade) -> dict[str, float]:
    v = state.value
    if v is None:
        return {}
    out = {"liq_volume_usd": v.total_usd}
    if v.long_ratio is not None:
        out["liq_long_share"] = v.long_ratio
    if v.acceleration is not None:
        out["liq_acceleration"] = v.acceleration
    return out


def evaluate(component: Component, state: LiquidationCascade) -> Answer:
    params: Params = component.params
    v = state.value
    if v is None:
        return neutral("warming_up")
    threshold = component.thresholds.min_volume_usd
    seen = {"volume_usd": v.total_usd, "long_usd": v.long_usd, "short_usd": v.short_usd, "threshold_usd": threshold}
    if v.total_usd < threshold:
        return neutral("below_threshold", **seen)
    share = max(v.long_usd, v.short_usd) / v.total_usd
    if share <= params.min_dominance or v.long_usd == v.short_usd:  # seed: "> 0.60"
        return neutral("no_dominant_side", dominance=share, **seen)
    direction = SHORT if v.long_usd > v.short_usd else LONG
    confidence = scaled(v.total_usd, threshold, params.full_confidence_multiple)
    accelerating = v.acceleration is not None and v.acceleration > 1.0
    if accelerating:
        confidence += params.acceleration_boost
    reason = "long_cascade" if direction == SHORT else "short_cascade"
    return directed(direction, confidence, reason, dominance=share, acceleration=v.acceleration, **seen)


def explain(answer: Answer) -> str:
    i = answer.inputs
    volume = f"{fmt(i.get('volume_usd'))} USD liquidated in the window"
    reason = answer.reasons[0]
    if reason == "below_threshold":
        return f"{volume}, below the {fmt(i.get('threshold_usd'))} USD threshold"
    if reason == "no_dominant_side":
        return f"{volume} but no side dominates (largest share {fmt(i.get('dominance'))})"
    forced = "longs" if reason == "long_cascade" else "shorts"
    return f"{volume}, {fmt(i.get('dominance'))} of it {forced} forced out: follow the cascade, {answer.direction}"
