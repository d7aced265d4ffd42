"""Voting and conviction (seed "Signal Alignment & Voting", "Conviction Level Assignment")."""

from __future__ import annotations

from dataclasses import dataclass

from engine.signals.answer import LONG, NEUTRAL, SHORT

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


def _winner(spec, answers) -> str:
    long_side = [(c, a) for c, a in answers if a.direction == LONG]
    short_side = [(c, a) for c, a in answers if a.direction == SHORT]
    if spec.direction_by == "weight":
        long_score, short_score = (sum(c.weight for c, _ in side) for side in (long_side, short_side))
    else:
        long_score, short_score = len(long_side), len(short_side)
    return LONG if long_score > short_score else SHORT if short_score > long_score else NEUTRAL


def _confidence(spec, aligned) -> float:
    total = sum(c.weight * a.confidence for c, a in aligned)
    if spec.confidence_basis == "total_weight":
        return total
    weight = sum(c.weight for c, _ in aligned)
    return total / weight if weight > 0 else 0.0


def vote(spec, answers) -> Vote:
    """``answers``: (Component, Answer) pairs. Needs ``spec.min_aligned`` on the winning side."""
    long_votes = sum(a.direction == LONG for _, a in answers)
    short_votes = sum(a.direction == SHORT for _, a in answers)
    direction = _winner(spec, answers)
    aligned = [(c, a) for c, a in answers if a.direction == direction and direction != NEUTRAL]
    if len(aligned) < spec.min_aligned:
        return Vote(NEUTRAL, long_votes, short_votes, len(aligned), 0.0, "NONE", spec.fallback_multiplier)
    confidence = _confidence(spec, aligned)
    for level in spec.levels:
        if len(aligned) >= level.min_aligned and confidence >= level.min_confidence:
            return Vote(direction, long_votes, short_votes, len(aligned), confidence, level.name,
                        level.size_multiplier)
    return Vote(direction, long_votes, short_votes, len(aligned), confidence, "NONE", spec.fallback_multiplier)
