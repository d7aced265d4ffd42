"""Fear & Greed contrarian (seed #7, 6 %): buy extreme fear, sell extreme greed.

Strict comparisons, as the seed writes them: index < fear_below → LONG, index >
greed_above → SHORT (paper <15 / >85, live <20 / >80); at the threshold itself NEUTRAL
``no_extreme``. Confidence = how far past the threshold as a share of the room left:
fear (fear_below − v) ÷ fear_below, greed (v − greed_above) ÷ (100 − greed_above).
"""

from __future__ import annotations

import pytest

from engine.trading.signals.answer import LONG, NEUTRAL, SHORT
from tests.signals.helpers import FOLLOWER, T0, run, snap

CID = "fear_greed"


def answer(profile, index, published=T0, now=T0):
    s = snap(now, {FOLLOWER: {"price": 100.0}}, fear_greed=index, fear_greed_ts=published)
    return run(profile, CID, [s], now)


CASES = [
    # profile, index, direction, reason, confidence
    ("paper", 14, LONG, "extreme_fear", 1 / 15),  # (15 − 14)/15
    ("paper", 14.9, LONG, "extreme_fear", 0.1 / 15),  # just below: (15 − 14.9)/15
    ("paper", 15, NEUTRAL, "no_extreme", 0.0),  # at the threshold: strict < → not fear
    ("paper", 16, NEUTRAL, "no_extreme", 0.0),
    ("paper", 50, NEUTRAL, "no_extreme", 0.0),
    ("paper", 84, NEUTRAL, "no_extreme", 0.0),
    ("paper", 85, NEUTRAL, "no_extreme", 0.0),  # at the threshold: strict > → not greed
    ("paper", 85.1, SHORT, "extreme_greed", 0.1 / 15),  # (85.1 − 85)/(100 − 85)
    ("paper", 86, SHORT, "extreme_greed", 1 / 15),  # (86 − 85)/15
    ("paper", 0, LONG, "extreme_fear", 1.0),  # (15 − 0)/15
    ("paper", 100, SHORT, "extreme_greed", 1.0),  # (100 − 85)/15
    ("live", 19, LONG, "extreme_fear", 0.05),  # (20 − 19)/20
    ("live", 20, NEUTRAL, "no_extreme", 0.0),  # strict <
    ("live", 21, NEUTRAL, "no_extreme", 0.0),
    ("live", 79, NEUTRAL, "no_extreme", 0.0),
    ("live", 80, NEUTRAL, "no_extreme", 0.0),  # strict >
    ("live", 81, SHORT, "extreme_greed", 0.05),  # (81 − 80)/(100 − 80)
    ("live", 17, LONG, "extreme_fear", 0.15),  # (20 − 17)/20 — paper (15) would be NEUTRAL
    ("paper", 17, NEUTRAL, "no_extreme", 0.0),
]


@pytest.mark.parametrize("profile, index, direction, reason, confidence", CASES)
def test_extremes_are_faded_with_strict_thresholds(profile, index, direction, reason, confidence):
    got = answer(profile, index)
    assert (got.direction, got.reasons) == (direction, (reason,))
    assert got.confidence == pytest.approx(confidence)


@pytest.mark.parametrize(
    "profile, fear, greed", [("paper", 10, 90), ("paper", 14, 86), ("live", 10, 90), ("live", 19, 81), ("live", 5, 95)]
)
def test_fear_and_greed_mirror_around_50(profile, fear, greed):
    # symmetric thresholds (15/85, 20/80): index v and 100 − v give opposite sides, equal confidence
    # e.g. paper 10 ↔ 90: (15 − 10)/15 = (90 − 85)/15 = 1/3
    low, high = answer(profile, fear), answer(profile, greed)
    assert (low.direction, high.direction) == (LONG, SHORT)
    assert low.confidence == pytest.approx(high.confidence)


def test_a_republished_reading_keeps_its_own_age():
    # the daily index republished each cycle with fear_greed_ts = its publication time:
    # 36 h after publication it is still usable, 36 h + 1 s after it is stale
    at_limit = answer("paper", 10, published=T0, now=T0 + 36 * 3600)
    past = answer("paper", 10, published=T0, now=T0 + 36 * 3600 + 1)
    assert at_limit.direction == LONG and past.reasons == ("stale:fear_greed",)


def test_a_global_reading_reaches_a_symbol_absent_from_that_snapshot():
    snaps = [snap(T0, {FOLLOWER: {"price": 100.0}}), snap(T0 + 60, {"BTCUSDT": {"price": 40_000.0}}, fear_greed=10)]
    got = run("paper", CID, snaps, T0 + 60)
    assert (got.direction, got.confidence) == (LONG, pytest.approx(1 / 3))  # (15 − 10)/15
