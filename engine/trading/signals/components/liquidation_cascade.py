"""Liquidation cascade (seed #1, 22 %): follow forced selling or buying.

Long liquidations are forced sells, so a cascade dominated by longs pushes price down:
SHORT. Needs the window's volume at or above ``min_volume_usd`` and the dominant side's
share strictly above ``min_dominance`` (the seed's "> 0.60"). Confidence: volume ÷ (threshold × multiple), plus
``acceleration_boost`` while the newer half of the window outweighs the older half.
"""

from __future__ import annotations

from engine.trading.features import LiquidationCascade
from engine.trading.signals.answer import LONG, SHORT, Answer, directed, neutral, scaled

KIND = "liquidation_cascade"
INPUTS = ("liquidations",)
EXPORTS = ("liq_volume_usd", "liq_long_share", "liq_acceleration")  # vocabulary names exports() may give


def new_state(component):
    params = component.params
    return LiquidationCascade(window_seconds=params["window"])


def update(state, snapshot, symbol, leader) -> None:
    long_usd, short_usd = symbol.get("liq_long_usd"), symbol.get("liq_short_usd")
    if long_usd is not None or short_usd is not None:
        state.update(symbol.times["liquidations"], long_usd or 0.0, short_usd or 0.0)


def exports(state) -> dict:
    v = state.value
    if v is None:
        return {}
    out = {"liq_volume_usd": v.total_usd}
    if v.long_ratio is not None:
        out["liq_long_share"] = v.long_ratio
    if v.acceleration is not None:
        out["liq_acceleration"] = v.acceleration
    return out


def evaluate(component, state) -> Answer:
    v = state.value
    if v is None:
        return neutral("warming_up")
    threshold = component.thresholds["min_volume_usd"]
    seen = {"volume_usd": v.total_usd, "long_usd": v.long_usd, "short_usd": v.short_usd, "threshold_usd": threshold}
    if v.total_usd < threshold:
        return neutral("below_threshold", **seen)
    share = max(v.long_usd, v.short_usd) / v.total_usd
    if share <= component.params["min_dominance"] or v.long_usd == v.short_usd:  # seed: "> 0.60"
        return neutral("no_dominant_side", dominance=share, **seen)
    direction = SHORT if v.long_usd > v.short_usd else LONG
    confidence = scaled(v.total_usd, threshold, component.params["full_confidence_multiple"])
    accelerating = v.acceleration is not None and v.acceleration > 1.0
    if accelerating:
        confidence += component.params["acceleration_boost"]
    reason = "long_cascade" if direction == SHORT else "short_cascade"
    return directed(direction, confidence, reason, dominance=share, acceleration=v.acceleration, **seen)
