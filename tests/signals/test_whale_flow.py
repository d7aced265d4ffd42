"""Whale exchange flows (seed #2, 20 %): inflow to exchanges is bearish, outflow bullish.

The signed net flow (inflow +, outflow −) is summed over 24 h; at |flow| ≥ min_flow_usd
(paper $250,000, live $1,000,000) inflow → SHORT, outflow → LONG. Confidence = |flow| ÷
(threshold × 4), capped at 1.

Driver: a zero reading at T0 starts the history; at END = T0 + 24 h the window is
(T0, END], so only readings after T0 count.
"""

from __future__ import annotations

import pytest

from engine.trading.signals.answer import LONG, NEUTRAL, SHORT
from tests.signals.helpers import DAY, FOLLOWER, T0, run, snap

CID = "whale_flow"
END = T0 + DAY


def answer(profile, readings, start=0.0, now=END):
    snaps = [snap(T0, {FOLLOWER: {"exchange_netflow_usd": start}})]
    snaps += [snap(ts, {FOLLOWER: {"exchange_netflow_usd": flow}}) for ts, flow in readings]
    return run(profile, CID, snaps, now)


CASES = [
    # profile, net flow at END, direction, reason, confidence
    ("paper", 249_999, NEUTRAL, "below_threshold", 0.0),  # 249,999 < 250,000
    ("paper", 250_000, SHORT, "exchange_inflow", 0.25),  # at threshold (≥): 250,000 / (250,000 × 4)
    ("paper", 250_001, SHORT, "exchange_inflow", 0.250001),  # 250,001 / 1,000,000
    ("paper", -250_000, LONG, "exchange_outflow", 0.25),  # mirror: outflow = accumulation
    ("paper", -249_999, NEUTRAL, "below_threshold", 0.0),  # |−249,999| < 250,000
    ("paper", 600_000, SHORT, "exchange_inflow", 0.6),  # 600,000 / 1,000,000
    ("paper", -600_000, LONG, "exchange_outflow", 0.6),  # mirror
    ("paper", -2_000_000, LONG, "exchange_outflow", 1.0),  # 2,000,000 / 1,000,000 = 2 → capped
    ("live", 600_000, NEUTRAL, "below_threshold", 0.0),  # paper's 600,000 < live's 1,000,000
    ("live", 999_999, NEUTRAL, "below_threshold", 0.0),  # 999,999 < 1,000,000
    ("live", 1_000_000, SHORT, "exchange_inflow", 0.25),  # at threshold: 1,000,000 / (1,000,000 × 4)
    ("live", 1_000_001, SHORT, "exchange_inflow", 0.25000025),  # 1,000,001 / 4,000,000
    ("live", 3_000_000, SHORT, "exchange_inflow", 0.75),  # 3,000,000 / 4,000,000
    ("live", -3_000_000, LONG, "exchange_outflow", 0.75),  # mirror
]


@pytest.mark.parametrize("profile, flow, direction, reason, confidence", CASES)
def test_flow_threshold_direction_and_confidence(profile, flow, direction, reason, confidence):
    got = answer(profile, [(END, flow)])
    assert (got.direction, got.reasons) == (direction, (reason,))
    assert got.confidence == pytest.approx(confidence)


def test_inflow_and_outflow_net_out_over_the_window():
    # +300,000 (12 h ago) − 100,000 (now) = +200,000 < 250,000 → below the paper threshold
    got = answer("paper", [(END - 12 * 3600, 300_000), (END, -100_000)])
    assert got.inputs["net_flow_usd"] == 200_000
    assert (got.direction, got.reasons) == (NEUTRAL, ("below_threshold",))


def test_a_flow_one_window_old_no_longer_counts():
    # −5,000,000 at T0 left (END − 24 h, END]; only +300,000 at END counts → 300,000/1,000,000 = 0.3
    got = answer("paper", [(END, 300_000)], start=-5_000_000)
    assert (got.direction, got.confidence) == (SHORT, pytest.approx(0.3))


def test_less_than_a_day_of_history_is_warming_up():
    got = answer("paper", [(END - 60, 5_000_000)], now=END - 60)
    assert (got.direction, got.reasons) == (NEUTRAL, ("warming_up",))
