"""What a signal component answers, and the helpers every component uses to say it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

LONG, SHORT, NEUTRAL = "LONG", "SHORT", "NEUTRAL"
SIGN = {LONG: 1, SHORT: -1, NEUTRAL: 0}


@dataclass(frozen=True, slots=True)
class Answer:
    """direction LONG/SHORT/NEUTRAL, confidence 0-1, why, and the values it looked at."""

    direction: str
    confidence: float
    reasons: tuple[str, ...]
    inputs: Mapping[str, float | str | None] = field(default_factory=lambda: MappingProxyType({}))


def neutral(reason: str, **inputs: Any) -> Answer:
    return Answer(NEUTRAL, 0.0, (reason,), MappingProxyType(inputs))


def directed(direction: str, confidence: float, reason: str, **inputs: Any) -> Answer:
    return Answer(direction, min(1.0, max(0.0, confidence)), (reason,), MappingProxyType(inputs))


def scaled(magnitude: float, threshold: float, multiple: float) -> float:
    """Confidence of a reading past its threshold: threshold/multiple at the threshold,
    1 at ``multiple`` × threshold (linear in the magnitude, capped at 1)."""
    if threshold <= 0:
        return 1.0
    return min(1.0, magnitude / (threshold * multiple))


def side(value: float, positive: str, negative: str) -> str:
    return positive if value > 0 else negative if value < 0 else NEUTRAL


def fmt(value: object) -> str:
    """A value as the explain lines show it: floats to 4 significant digits."""
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def common_explanation(answer: Answer) -> str | None:
    """The line for the answers every kind can give (warming up, a missing or stale input,
    an error, an override); None for a kind's own reasons, which its ``explain`` words."""
    reason = answer.reasons[0] if answer.reasons else ""
    name = reason.partition(":")[2]
    if reason == "warming_up":
        return "warming up: not enough data yet"
    if reason.startswith("missing:"):
        return f"no {name} input received yet"
    if reason.startswith("stale:"):
        return f"{name} is {fmt(answer.inputs.get('age_s'))} s old, older than its limit of {fmt(answer.inputs.get('max_age_s'))} s"
    if reason.startswith("error:"):
        return f"failed with {name}: NEUTRAL"
    if reason.startswith("override:"):
        return f"override {name} holds: {answer.direction}"
    return None
