"""Voting and conviction (seed "Signal Alignment & Voting", "Conviction Level Assignment")."""

from __future__ import annotations

from dataclasses import dataclass

from engine.trading.signals.answer import LONG, NEUTRAL, SHORT

CONVICTION_RANK = {"NONE": 0, "LOW": 1, "MEDIUM": 2, "HIGH": 3}


@dataclass(frozen=True, slots=True)
class Vote:
    direction: str
    long_votes: int
    short_votes: int
    aligned_count: int
    confidence: float
    conviction: str
    size_multiplier: float


def _tally(answers):
    """One pass: per side, the (component, answer) pairs and their weight."""
    longs, shorts, long_weight, short_weight = [], [], 0.0, 0.0
    for pair in answers:
        direction = pair[1].direction
        if direction == LONG:
            longs.append(pair)
            long_weight += pair[0].weight
        elif direction == SHORT:
            shorts.append(pair)
            short_weight += pair[0].weight
    return longs, shorts, long_weight, short_weight


def _confidence(spec, aligned, weight: float) -> float:
    total = 0.0
    for component, answer in aligned:
        total += component.weight * answer.confidence
    if spec.confidence_basis == "total_weight":
        return total
    return total / weight if weight > 0 else 0.0


def vote(spec, answers) -> Vote:
    """``answers``: (Component, Answer) pairs. Needs ``spec.min_aligned`` on the winning side;
    a tie (in votes, or in weight when ``direction_by: weight``) is NEUTRAL."""
    longs, shorts, long_weight, short_weight = _tally(answers)
    long_score, short_score = (
        (long_weight, short_weight) if spec.direction_by == "weight" else (len(longs), len(shorts))
    )
    if long_score > short_score:
        direction, aligned, weight = LONG, longs, long_weight
    elif short_score > long_score:
        direction, aligned, weight = SHORT, shorts, short_weight
    else:
        direction, aligned, weight = NEUTRAL, [], 0.0
    counts = (len(longs), len(shorts), len(aligned))
    if len(aligned) < spec.min_aligned:
        return Vote(NEUTRAL, *counts, 0.0, "NONE", spec.fallback_multiplier)
    confidence = _confidence(spec, aligned, weight)
    for level in spec.levels:
        if len(aligned) >= level.min_aligned and confidence >= level.min_confidence:
            return Vote(direction, *counts, confidence, level.name, level.size_multiplier)
    return Vote(direction, *counts, confidence, "NONE", spec.fallback_multiplier)
