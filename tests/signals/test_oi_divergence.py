"""OI divergence (seed #10, 4 %): price and open interest moving apart is a trap.

Over 4 h (as-of anchored) both must move by MORE than min_move_pct (paper 0.3 %, live
0.5 %; strict >) in opposite directions. Price up while OI falls = a rally on closing
shorts → SHORT (``price_up_oi_down``); price down while OI rises = new shorts piling in
→ LONG (``price_down_oi_up``). Otherwise NEUTRAL ``no_divergence``. Confidence = the
smaller of the two moves ÷ (threshold × 4).

Driver: OI $1,000,000,000 at price 100 at T0, then the reading under test at T0 + 4 h.
"""

from __future__ import annotations

import pytest

from engine.trading.signals.answer import LONG, NEUTRAL, SHORT
from tests.signals.helpers import FOLLOWER, HOUR, T0, run, snap

CID = "oi_divergence"
END = T0 + 4 * HOUR
OI0, P0 = 1_000_000_000.0, 100.0


def answer(profile, price, oi):
    snaps = [
        snap(T0, {FOLLOWER: {"open_interest_usd": OI0, "price": P0}}),
        snap(END, {FOLLOWER: {"open_interest_usd": oi, "price": price}}),
    ]
    return run(profile, CID, snaps, END)


CASES = [
    # profile, price at END, OI at END, direction, reason, confidence
    ("paper", 101, 990_000_000, SHORT, "price_up_oi_down", 1 / 1.2),  # min(1 %, 1 %)/(0.3 × 4)
    ("paper", 99, 1_010_000_000, LONG, "price_down_oi_up", 1 / 1.2),  # mirror
    ("paper", 101, 1_010_000_000, NEUTRAL, "no_divergence", 0.0),  # same direction: no trap
    ("paper", 99, 990_000_000, NEUTRAL, "no_divergence", 0.0),
    ("paper", 101, 997_100_000, NEUTRAL, "no_divergence", 0.0),  # OI −0.29 %: not > 0.3 %
    ("paper", 101, 996_900_000, SHORT, "price_up_oi_down", 0.31 / 1.2),  # OI −0.31 % → min(1, 0.31)/1.2
    ("paper", 100.3, 990_000_000, NEUTRAL, "no_divergence", 0.0),  # price +0.3 % = threshold: strict >
    ("paper", 100.31, 990_000_000, SHORT, "price_up_oi_down", 0.31 / 1.2),  # price +0.31 % → 0.31/1.2
    ("paper", 99.69, 1_010_000_000, LONG, "price_down_oi_up", 0.31 / 1.2),  # mirror: price −0.31 %
    ("paper", 102, 970_000_000, SHORT, "price_up_oi_down", 1.0),  # min(2, 3)/1.2 = 1.67 → capped
    ("paper", 100.4, 990_000_000, SHORT, "price_up_oi_down", 0.4 / 1.2),  # price +0.4 % → 0.4/1.2
    ("live", 100.4, 990_000_000, NEUTRAL, "no_divergence", 0.0),  # … but 0.4 % is not > live 0.5 %
    ("live", 101, 990_000_000, SHORT, "price_up_oi_down", 0.5),  # min(1, 1)/(0.5 × 4)
    ("live", 99, 1_010_000_000, LONG, "price_down_oi_up", 0.5),  # mirror
    ("live", 101, 995_100_000, NEUTRAL, "no_divergence", 0.0),  # OI −0.49 % not > 0.5 %
    ("live", 101, 994_900_000, SHORT, "price_up_oi_down", 0.51 / 2),  # OI −0.51 % → 0.51/2
    ("live", 99.4, 1_008_000_000, LONG, "price_down_oi_up", 0.3),  # min(0.6, 0.8)/2
]


@pytest.mark.parametrize("profile, price, oi, direction, reason, confidence", CASES)
def test_price_and_oi_moving_apart_is_faded(profile, price, oi, direction, reason, confidence):
    got = answer(profile, price, oi)
    assert (got.direction, got.reasons) == (direction, (reason,))
    assert got.confidence == pytest.approx(confidence, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize(
    "profile, price, oi",
    [
        ("paper", 101, 997_000_000),  # OI exactly −0.3 %
        ("paper", 99.7, 1_010_000_000),  # price exactly −0.3 % (mirror of the +0.3 % row above)
        ("live", 101, 995_000_000),  # OI exactly −0.5 %
    ],
)
def test_a_move_of_exactly_the_threshold_is_not_a_divergence(profile, price, oi):
    got = answer(profile, price, oi)
    assert (got.direction, got.reasons) == (NEUTRAL, ("no_divergence",))
