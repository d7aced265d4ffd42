"""Open-interest velocity (seed #9, 5 %): new money goes the way price moves.

OI % change over 1 h (as-of: against the last reading at or before now − 1 h). When OI
rose by ≥ min_change_pct (paper 0.5 %, live 2.0 %) new positions are opening and the
price change over the same hour says which side: price up → LONG, down → SHORT, flat →
NEUTRAL ``price_flat``. OI falling by ≥ the threshold → NEUTRAL ``oi_falling`` (positions
closing). Confidence = OI change ÷ (threshold × 4).

Driver: OI $1,000,000,000 at price 100 at T0, then the reading under test at T0 + 1 h.
"""

from __future__ import annotations

import pytest

from engine.trading.features import OiDivergenceValue
from engine.trading.signals.answer import LONG, NEUTRAL, SHORT
from tests.signals.helpers import FOLLOWER, HOUR, T0, direct, run, snap

CID = "oi_velocity"
END = T0 + HOUR
OI0, P0 = 1_000_000_000.0, 100.0


def answer(profile, oi, price, at=END):
    snaps = [
        snap(T0, {FOLLOWER: {"open_interest_usd": OI0, "price": P0}}),
        snap(at, {FOLLOWER: {"open_interest_usd": oi, "price": price}}),
    ]
    return run(profile, CID, snaps, at)


CASES = [
    # profile, OI at END, price at END, direction, reason, confidence
    ("paper", 1_004_900_000, 101, NEUTRAL, "below_threshold", 0.0),  # +0.49 % < 0.5 %
    ("paper", 1_005_100_000, 101, LONG, "new_longs", 0.255),  # +0.51 % → 0.51/(0.5 × 4)
    ("paper", 1_010_000_000, 101, LONG, "new_longs", 0.5),  # +1 % OI, price +1 % → 1/2
    ("paper", 1_010_000_000, 99, SHORT, "new_shorts", 0.5),  # mirror: price −1 %
    ("paper", 1_010_000_000, 100, NEUTRAL, "price_flat", 0.0),  # new money, no side
    ("paper", 1_050_000_000, 101, LONG, "new_longs", 1.0),  # +5 % → 5/2 = 2.5 → capped
    ("paper", 995_100_000, 101, NEUTRAL, "below_threshold", 0.0),  # −0.49 %: within ±threshold
    ("paper", 990_000_000, 101, NEUTRAL, "oi_falling", 0.0),  # −1 % ≤ −0.5 %: closing
    ("paper", 990_000_000, 99, NEUTRAL, "oi_falling", 0.0),  # … whichever way price went
    ("live", 1_010_000_000, 101, NEUTRAL, "below_threshold", 0.0),  # paper's +1 % < live's 2 %
    ("live", 1_019_900_000, 101, NEUTRAL, "below_threshold", 0.0),  # +1.99 % < 2 %
    ("live", 1_020_000_000, 101, LONG, "new_longs", 0.25),  # +2 % (float gives 2.0000000000000018) → 2/8
    ("live", 1_020_100_000, 101, LONG, "new_longs", 0.25125),  # +2.01 % → 2.01/(2 × 4)
    ("live", 1_025_000_000, 101, LONG, "new_longs", 0.3125),  # +2.5 % → 2.5/8
    ("live", 1_040_000_000, 95, SHORT, "new_shorts", 0.5),  # +4 %, price −5 % → 4/8
    ("live", 1_040_000_000, 105, LONG, "new_longs", 0.5),  # mirror
    ("live", 990_000_000, 99, NEUTRAL, "below_threshold", 0.0),  # −1 %: inside ±2 %
    ("live", 975_000_000, 99, NEUTRAL, "oi_falling", 0.0),  # −2.5 % ≤ −2 %
]


@pytest.mark.parametrize("profile, oi, price, direction, reason, confidence", CASES)
def test_rising_oi_follows_the_price(profile, oi, price, direction, reason, confidence):
    got = answer(profile, oi, price)
    assert (got.direction, got.reasons) == (direction, (reason,))
    assert got.confidence == pytest.approx(confidence)


@pytest.mark.parametrize("profile, threshold", [("paper", 0.5), ("live", 2.0)])
def test_exactly_at_the_threshold_triggers_and_its_negative_is_falling(profile, threshold):
    # oi_change ≥ threshold → directed, confidence threshold/(threshold × 4) = 0.25;
    # oi_change ≤ −threshold → oi_falling
    up = direct(profile, CID, OiDivergenceValue(1.0, threshold, "none", 0.0))
    down = direct(profile, CID, OiDivergenceValue(1.0, -threshold, "none", 0.0))
    assert (up.direction, up.reasons, up.confidence) == (LONG, ("new_longs",), pytest.approx(0.25))
    assert (down.direction, down.reasons) == (NEUTRAL, ("oi_falling",))


def test_an_oi_rise_of_exactly_the_paper_threshold_triggers():
    got = answer("paper", 1_005_000_000, 101)
    assert (got.direction, got.confidence) == (LONG, pytest.approx(0.25))  # 0.5/(0.5 × 4)


def test_an_anchor_older_than_two_windows_is_refused():
    # after a gap the as-of anchor is T0, 2 h + 1 s before the latest reading → no change → warming_up
    got = answer("paper", 1_100_000_000, 110, at=T0 + 2 * HOUR + 1)
    assert (got.direction, got.reasons) == (NEUTRAL, ("warming_up",))
