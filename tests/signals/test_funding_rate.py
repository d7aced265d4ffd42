"""Funding-rate extremes (seed #3, 16 %): crowded trades unwind, so they are faded.

deviation = latest rate − mean of the last 21 readings (the latest included). At
deviation ≥ min_deviation (paper 0.0001, live 0.0002) longs are crowded → SHORT; at
≤ −min_deviation shorts are crowded → LONG. Confidence = |deviation| ÷ (threshold × 5).

Driver: 20 readings of a base rate 8 h apart, then the latest rate r, so
mean = (20·base + r)/21 and deviation = r − mean = 20·(r − base)/21.
"""

from __future__ import annotations

import pytest

from engine.trading.features import FundingValue
from engine.trading.signals.answer import LONG, NEUTRAL, SHORT
from tests.signals.helpers import FOLLOWER, HOUR, T0, direct, run, snap

CID = "funding_rate"
EIGHT_H = 8 * HOUR
END = T0 + 20 * EIGHT_H


def series(rates):
    return [snap(T0 + i * EIGHT_H, {FOLLOWER: {"funding_rate": r}}) for i, r in enumerate(rates)]


def answer(profile, latest, base=0.0001):
    return run(profile, CID, series([base] * 20 + [latest]), END)


CASES = [
    # profile, base, latest, direction, reason, confidence
    ("paper", 0.0001, 0.000204, NEUTRAL, "below_threshold", 0.0),  # dev 20·0.000104/21 = 0.00009905 < 0.0001
    ("paper", 0.0, 0.000105, SHORT, "crowded_longs", 0.2),  # dev 20·0.000105/21 = 0.0001 exactly (≥) → 0.0001/0.0005
    ("paper", 0.0001, 0.000206, SHORT, "crowded_longs", 0.201905),  # dev 0.000100952 → /0.0005
    ("paper", 0.0001, 0.00031, SHORT, "crowded_longs", 0.4),  # dev 20·0.00021/21 = 0.0002 → /0.0005
    ("paper", 0.0001, -0.00011, LONG, "crowded_shorts", 0.4),  # mirror: dev −0.0002
    ("paper", 0.0, -0.000105, LONG, "crowded_shorts", 0.2),  # mirror of the exact threshold
    ("paper", 0.0001, 0.00073, SHORT, "crowded_longs", 1.0),  # dev 0.0006 → 1.2 → capped at 1
    ("live", 0.0001, 0.000309, NEUTRAL, "below_threshold", 0.0),  # dev 20·0.000209/21 = 0.000199048 < 0.0002
    ("live", 0.0, 0.00021, SHORT, "crowded_longs", 0.2),  # dev 20·0.00021/21 = 0.0002 exactly → /0.001
    ("live", 0.0001, 0.000311, SHORT, "crowded_longs", 0.200952),  # dev 0.000200952 → /0.001
    ("live", 0.0001, 0.000415, SHORT, "crowded_longs", 0.3),  # dev 20·0.000315/21 = 0.0003 → /0.001
    ("live", 0.0001, -0.000215, LONG, "crowded_shorts", 0.3),  # mirror: dev −0.0003
]
# Exact-threshold rows use base 0 so the float arithmetic is exact (20·0.000105/21 gives
# 0.0001 to the last bit). With base 0.0001 the decimal-exact input 0.000205 gives
# 9.999999999999998e-05 and reads below_threshold (reported: decimal-exact boundaries).


@pytest.mark.parametrize("profile, base, latest, direction, reason, confidence", CASES)
def test_deviation_threshold_direction_and_confidence(profile, base, latest, direction, reason, confidence):
    got = answer(profile, latest, base)
    assert (got.direction, got.reasons) == (direction, (reason,))
    assert got.confidence == pytest.approx(confidence, rel=1e-5)


@pytest.mark.parametrize("profile, threshold", [("paper", 0.0001), ("live", 0.0002)])
def test_exactly_at_the_threshold_triggers_on_both_sides(profile, threshold):
    # |deviation| = threshold → directed (≥); confidence threshold/(threshold × 5) = 0.2
    up = direct(profile, CID, FundingValue(rate=0.0, mean=-threshold, deviation=threshold, zscore=None))
    down = direct(profile, CID, FundingValue(rate=0.0, mean=threshold, deviation=-threshold, zscore=None))
    assert (up.direction, up.confidence) == (SHORT, pytest.approx(0.2))
    assert (down.direction, down.confidence) == (LONG, pytest.approx(0.2))


def test_twenty_readings_are_still_warming_up():
    got = run("paper", CID, series([0.0001] * 19 + [0.001]), T0 + 19 * EIGHT_H)
    assert (got.direction, got.reasons) == (NEUTRAL, ("warming_up",))


def test_a_funding_reading_republished_every_cycle_counts_once():
    # 20 base readings, then the same 0.00031 reading (same funding_rate_ts) in 5 snapshots:
    # the window holds it once → dev 0.0002 → 0.4, as in the table.
    snaps = series([0.0001] * 20)
    snaps += [snap(END + k * 60, {FOLLOWER: {"funding_rate": 0.00031, "funding_rate_ts": END}}) for k in range(5)]
    got = run("paper", CID, snaps, END + 240)
    assert got.inputs["mean"] == pytest.approx(0.000110)  # (20·0.0001 + 0.00031)/21
    assert got.confidence == pytest.approx(0.4)
