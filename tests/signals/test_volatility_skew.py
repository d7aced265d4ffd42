"""Volatility skew (seed #8, 5 %): fade loss aversion and complacency.

skew = implied put − call skew when a snapshot carries ``implied_skew`` (preferred while
under 1 h old), else the declared proxy over the last 240 one-minute log returns:
sqrt(mean(min(r, 0)²)) ÷ sqrt(mean(max(r, 0)²)) − 1. skew ≥ min_skew (paper 0.10,
live 0.20) = fear → LONG; skew ≤ −min_skew = complacency → SHORT. Confidence = |skew| ÷
(threshold × 3).

Proxy driver: 241 closes (240 returns) in one snapshot. With returns alternating +u and
−d (120 of each) the proxy is sqrt(120·d²/240) ÷ sqrt(120·u²/240) − 1 = d/u − 1.
"""

from __future__ import annotations

import pytest

from engine.trading.signals.answer import LONG, NEUTRAL, SHORT
from tests.signals.helpers import FOLLOWER, MIN, T0, candles, closes_from_returns, run, snap

CID = "volatility_skew"
U = 0.001  # the up-move size (log return)


def proxy_snaps(returns, start=T0, first=100.0):
    closes = closes_from_returns(first, returns)
    return [snap(start + len(closes) * MIN, {FOLLOWER: {"candles": candles(start, closes)}})]


def alternating(down_over_up, n=240):
    return [U if i % 2 == 0 else -U * down_over_up for i in range(n)]


def answer_proxy(profile, returns):
    snaps = proxy_snaps(returns)
    return run(profile, CID, snaps, snaps[-1].ts)


PROXY_CASES = [
    # profile, d/u, direction, reason, confidence
    ("paper", 1.05, NEUTRAL, "below_threshold", 0.0),  # skew 0.05 < 0.10
    ("paper", 1.15, LONG, "fear_faded", 0.5),  # skew 0.15 → 0.15/(0.10 × 3)
    ("paper", 0.85, SHORT, "complacency_faded", 0.5),  # mirror: skew −0.15
    ("paper", 1.30, LONG, "fear_faded", 1.0),  # 0.30/0.30 = 1
    ("paper", 0.70, SHORT, "complacency_faded", 1.0),  # mirror: −0.30
    ("live", 1.15, NEUTRAL, "below_threshold", 0.0),  # 0.15 < live 0.20
    ("live", 1.30, LONG, "fear_faded", 0.5),  # 0.30/(0.20 × 3)
    ("live", 0.70, SHORT, "complacency_faded", 0.5),  # mirror
    ("live", 1.24, LONG, "fear_faded", 0.4),  # 0.24/0.6
]


@pytest.mark.parametrize("profile, ratio, direction, reason, confidence", PROXY_CASES)
def test_proxy_skew_from_one_minute_returns(profile, ratio, direction, reason, confidence):
    got = answer_proxy(profile, alternating(ratio))
    assert (got.direction, got.reasons) == (direction, (reason,))
    assert got.confidence == pytest.approx(confidence, rel=1e-6)
    assert got.inputs["source"] == "proxy"


@pytest.mark.parametrize("profile, confidence", [("paper", 1.0), ("live", (2**0.5 - 1) / 0.6)])
def test_more_frequent_falls_of_the_same_size_read_as_fear(profile, confidence):
    # pattern −u, −u, +u: 160 falls, 80 rises → sqrt(160u²/240)/sqrt(80u²/240) − 1 = √2 − 1 = 0.4142
    # paper 0.4142/0.3 → capped at 1; live 0.4142/0.6 = 0.6904
    got = answer_proxy(profile, [U if i % 3 == 2 else -U for i in range(240)])
    assert got.inputs["skew"] == pytest.approx(2**0.5 - 1, rel=1e-6)
    assert (got.direction, got.confidence) == (LONG, pytest.approx(confidence, rel=1e-6))


def implied(profile, skew):
    """A short candle history (fresh candles_1m), then the implied skew one second later."""
    history = [snap(T0 + 3 * MIN, {FOLLOWER: {"candles": candles(T0, [100.0, 100.1, 100.0])}})]
    reading = snap(T0 + 3 * MIN + 1, {FOLLOWER: {"implied_skew": skew}})
    return run(profile, CID, history + [reading], T0 + 3 * MIN + 1)


IMPLIED_CASES = [
    # profile, implied skew, direction, reason, confidence
    ("paper", 0.0999, NEUTRAL, "below_threshold", 0.0),  # 0.0999 < 0.10
    ("paper", 0.10, LONG, "fear_faded", 1 / 3),  # at threshold (≥): 0.10/(0.10 × 3)
    ("paper", 0.1001, LONG, "fear_faded", 0.1001 / 0.3),
    ("paper", -0.10, SHORT, "complacency_faded", 1 / 3),  # mirror at threshold
    ("paper", -0.0999, NEUTRAL, "below_threshold", 0.0),
    ("live", 0.1999, NEUTRAL, "below_threshold", 0.0),  # 0.1999 < 0.20
    ("live", 0.20, LONG, "fear_faded", 1 / 3),  # 0.20/(0.20 × 3)
    ("live", 0.2001, LONG, "fear_faded", 0.2001 / 0.6),
    ("live", -0.20, SHORT, "complacency_faded", 1 / 3),  # mirror
    ("live", -0.45, SHORT, "complacency_faded", 0.75),  # 0.45/0.6
]


@pytest.mark.parametrize("profile, skew, direction, reason, confidence", IMPLIED_CASES)
def test_implied_skew_thresholds(profile, skew, direction, reason, confidence):
    got = implied(profile, skew)
    assert (got.direction, got.reasons) == (direction, (reason,))
    assert got.confidence == pytest.approx(confidence)
    assert got.inputs["source"] == "implied"


def test_implied_skew_is_preferred_to_the_proxy_until_an_hour_old():
    # proxy history says fear (d/u = 1.3 → +0.3); the implied reading says complacency (−0.15)
    snaps = proxy_snaps(alternating(1.30))
    end = snaps[-1].ts
    snaps.append(snap(end + 1, {FOLLOWER: {"implied_skew": -0.15}}))
    assert run("paper", CID, snaps, end + 1).direction == SHORT  # implied: −0.15/0.3 = 0.5
    # 61 more minutes of the same pattern: the implied reading is now > 1 h old → proxy again
    more = alternating(1.30, 61)
    closes = closes_from_returns(snaps[0].symbols[FOLLOWER].candles[-1].close, more)[1:]
    snaps.append(snap(end + 61 * MIN, {FOLLOWER: {"candles": candles(end, closes, first_open=None)}}))
    got = run("paper", CID, snaps, end + 61 * MIN)
    assert got.inputs["source"] == "proxy" and got.direction == LONG


def test_a_snapshot_with_implied_skew_keeps_its_candle_returns():
    closes = closes_from_returns(100.0, alternating(1.15, 300))
    snaps = []
    for i in range(300):  # candle i closes at T0 + (i+1) min; the snapshot is stamped 5 s later
        fields = {"candles": candles(T0 + i * MIN, closes[i + 1 : i + 2], first_open=closes[i])}
        if i < 239:
            fields["implied_skew"] = 0.05
        snaps.append(snap(T0 + (i + 1) * MIN + 5, {FOLLOWER: fields}))
    got = run("paper", CID, snaps, snaps[-1].ts)  # implied is 61 min old: the proxy answers
    # expected: the 240 returns give d/u − 1 = 0.15 → LONG 0.5
    assert (got.direction, got.inputs.get("source")) == (LONG, "proxy")
    assert got.confidence == pytest.approx(0.5, rel=1e-6)
