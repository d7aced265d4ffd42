"""Order-flow momentum (seed #6, 6 %): the rate of change of book imbalance, not its level.

OFI = (Σ bid size − Σ ask size) ÷ (Σ both) over the top 10 levels of each snapshot's book;
momentum = least-squares slope of OFI per minute over the last 5 min (≥ 3 readings).
|momentum| ≥ min_momentum_per_min (paper 0.02, live 0.05): buyers gaining → LONG,
sellers gaining → SHORT. Confidence = |momentum| ÷ (threshold × 4).

Driver: books one minute apart; OFI 0.05 is bids 105 vs asks 95 ((105 − 95)/200).
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from engine.trading.features import OfiMomentumValue
from engine.trading.signals.answer import LONG, NEUTRAL, SHORT
from tests.signals.helpers import FOLLOWER, MIN, T0, book, direct, run, snap

CID = "order_flow_momentum"


def books(ofis, start=T0):
    """One single-level book per minute with the given OFI (bid 100(1 + x), ask 100(1 − x))."""
    return [
        snap(start + i * MIN, {FOLLOWER: {"book": book([100 * (1 + x)], [100 * (1 - x)])}}) for i, x in enumerate(ofis)
    ]


def answer(profile, ofis):
    snaps = books(ofis)
    return run(profile, CID, snaps, snaps[-1].ts)


CASES = [
    # profile, OFI per minute, direction, reason, confidence
    ("paper", (0.0, 0.01, 0.02), NEUTRAL, "below_threshold", 0.0),  # slope 0.01/min < 0.02
    ("paper", (0.0, 0.03, 0.06), LONG, "buyers_gaining", 0.375),  # 0.03/(0.02 × 4)
    ("paper", (0.0, -0.03, -0.06), SHORT, "sellers_gaining", 0.375),  # mirror: slope −0.03
    ("paper", (0.0, 0.05, 0.10), LONG, "buyers_gaining", 0.625),  # 0.05/0.08
    ("paper", (0.0, 0.10, 0.20), LONG, "buyers_gaining", 1.0),  # 0.10/0.08 = 1.25 → capped
    ("paper", (0.8, 0.8, 0.8), NEUTRAL, "below_threshold", 0.0),  # heavy bids but no change: slope 0
    # least squares, not last − first: x = 0..3 min, y = 0, .06, 0, .06 → Σ(x−1.5)(y−.03)/Σ(x−1.5)²
    # = 0.06/5 = 0.012/min < 0.02 (last − first would be 0.06/3 = 0.02)
    ("paper", (0.0, 0.06, 0.0, 0.06), NEUTRAL, "below_threshold", 0.0),
    ("paper", (0.1, 0.0, 0.05), SHORT, "sellers_gaining", 0.3125),  # LS slope −0.05/2 = −0.025 → 0.025/0.08
    ("live", (0.0, 0.03, 0.06), NEUTRAL, "below_threshold", 0.0),  # 0.03 < live 0.05
    ("live", (0.0, 0.06, 0.12), LONG, "buyers_gaining", 0.3),  # 0.06/(0.05 × 4)
    ("live", (0.0, -0.06, -0.12), SHORT, "sellers_gaining", 0.3),  # mirror
    ("live", (0.0, 0.10, 0.20), LONG, "buyers_gaining", 0.5),  # 0.10/0.2
    ("live", (0.2, 0.1, 0.0), SHORT, "sellers_gaining", 0.5),  # −0.10/min → 0.10/0.2
]


@pytest.mark.parametrize("profile, ofis, direction, reason, confidence", CASES)
def test_ofi_slope_threshold_direction_and_confidence(profile, ofis, direction, reason, confidence):
    got = answer(profile, ofis)
    assert (got.direction, got.reasons) == (direction, (reason,))
    assert got.confidence == pytest.approx(confidence)


@pytest.mark.parametrize("profile, threshold", [("paper", 0.02), ("live", 0.05)])
def test_exactly_at_the_threshold_triggers_both_ways(profile, threshold):
    # |slope| = threshold → directed (≥); confidence threshold/(threshold × 4) = 0.25
    up, down, just_below = (
        direct(profile, CID, None, momentum=SimpleNamespace(value=OfiMomentumValue(0.1, slope, 3)))
        for slope in (threshold, -threshold, threshold * 0.999)
    )
    assert (up.direction, up.confidence) == (LONG, pytest.approx(0.25))
    assert (down.direction, down.confidence) == (SHORT, pytest.approx(0.25))
    assert (just_below.direction, just_below.reasons) == (NEUTRAL, ("below_threshold",))


def test_only_the_top_ten_levels_count():
    # 10 equal levels a side (OFI 0) plus an 11th bid level growing 0 → 5,000 → 10,000:
    # ignored, so OFI stays 0 and the slope is 0
    snaps = [snap(T0 + i * MIN, {FOLLOWER: {"book": book([10.0] * 10 + [5000.0 * i], [10.0] * 10)}}) for i in range(3)]
    got = run("paper", CID, snaps, snaps[-1].ts)
    assert (got.direction, got.reasons) == (NEUTRAL, ("below_threshold",))
    assert got.inputs["ofi"] == 0.0


def test_readings_older_than_the_window_drop_out():
    # OFI −0.9 at T0 leaves the (now − 5 min, now] window at T0 + 5 min; the remaining
    # 0, 0.05, 0.10 one minute apart give 0.05/min → 0.05/0.08 = 0.625 (with −0.9 it would be more)
    snaps = books([-0.9]) + books([0.0, 0.05, 0.10], start=T0 + 5 * MIN)
    got = run("paper", CID, snaps, snaps[-1].ts)
    assert got.inputs["readings"] == 3
    assert (got.direction, got.confidence) == (LONG, pytest.approx(0.625))


def test_two_readings_are_still_warming_up():
    got = answer("paper", (0.0, 0.5))
    assert (got.direction, got.reasons) == (NEUTRAL, ("warming_up",))
