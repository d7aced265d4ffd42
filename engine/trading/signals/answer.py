"""What a signal component answers, and the helpers every component uses to say it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

LONG, SHORT, NEUTRAL = "LONG", "SHORT", "NEUTRAL"
SIGN = {LONG: 1, SHORT: -1, NEUTRAL: 0}


@dataclass(frozen=True, slots=True)
class Answer:
    """direction LONG/SHORT/NEUTRAL, confidence 0-1, why, and the values it looked at."""

    direction: str
    confidence: float
    reasons: tuple[str, ...]
    inputs: Mapping[str, float | str | None] = field(default_factory=lambda: MappingProxyType({}))


def neutral(reason: str, **inputs) -> Answer:
    return Answer(NEUTRAL, 0.0, (reason,), MappingProxyType(inputs))


def directed(direction: str, confidence: float, reason: str, **inputs) -> Answer:
    return Answer(direction, min(1.0, max(0.0, confidence)), (reason,), MappingProxyType(inputs))


def scaled(magnitude: float, threshold: float, multiple: float) -> float:
    """Confidence of a reading past its threshold: threshold/multiple at the threshold,
    1 at ``multiple`` × threshold (linear in the magnitude, capped at 1)."""
    if threshold <= 0:
        return 1.0
    return min(1.0, magnitude / (threshold * multiple))


def side(value: float, positive: str, negative: str) -> str:
    return positive if value > 0 else negative if value < 0 else NEUTRAL
