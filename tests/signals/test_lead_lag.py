"""Lead-lag (seed #5, 8 %): BTC's recent move predicts the altcoin's.

Pearson correlation of the leader's one-minute log returns, lagged 1..5 min, with the
follower's over 120 min; the best lag is the one with the highest r. When
|r| ≥ min_correlation (paper 0.30, live 0.50) and the leader moved at least
min_leader_move_pct (paper 0.10 %, live 0.20 %) over that lag, answer the leader's
direction (against it for a negative r). Confidence = |r|. The leader itself is NEUTRAL
through the ``is_leader`` override in rules/signals.yaml.

Real-path driver: ETH's return at minute t is exactly BTC's return at t − 1, so r = 1 at
lag 1 and the leader move is BTC's last one-minute return.
"""

from __future__ import annotations

import math
import random

import pytest

from engine.trading.features import LeadLagValue
from engine.trading.signals.answer import LONG, NEUTRAL, SHORT
from tests.signals.helpers import (
    FOLLOWER,
    LEADER,
    MIN,
    T0,
    candles,
    closes_from_returns,
    direct,
    feed,
    result,
    run,
    snap,
)

CID = "lead_lag"


def paired_snaps(last_leader_move_pct, follower="echo", n=125, seed=3):
    rnd = random.Random(seed)
    lead = [rnd.gauss(0.0, 0.001) for _ in range(n - 1)] + [math.log1p(last_leader_move_pct / 100)]
    if follower == "echo":
        follow = [rnd.gauss(0.0, 0.001)] + lead[:-1]  # follower(t) = leader(t − 1)
    else:
        follow = [rnd.gauss(0.0, 0.001) for _ in range(n)]  # unrelated
    btc, eth = closes_from_returns(40_000.0, lead), closes_from_returns(2_000.0, follow)
    end = T0 + len(btc) * MIN
    return [snap(end, {LEADER: {"candles": candles(T0, btc)}, FOLLOWER: {"candles": candles(T0, eth)}})], end


CASES = [
    # profile, BTC's last 1-min move %, direction, reason, confidence (= r = 1 at lag 1)
    ("paper", 0.30, LONG, "leader_moved", 1.0),  # 0.30 % ≥ 0.10 %, r = 1 ≥ 0.30
    ("paper", -0.30, SHORT, "leader_moved", 1.0),  # mirror
    ("paper", 0.15, LONG, "leader_moved", 1.0),  # 0.15 % ≥ 0.10 %
    ("paper", 0.05, NEUTRAL, "leader_quiet", 0.0),  # 0.05 % < 0.10 %
    ("live", 0.15, NEUTRAL, "leader_quiet", 0.0),  # 0.15 % < 0.20 %
    ("live", 0.30, LONG, "leader_moved", 1.0),
    ("live", -0.30, SHORT, "leader_moved", 1.0),
]


@pytest.mark.parametrize("profile, move, direction, reason, confidence", CASES)
def test_a_follower_echoing_btc_follows_its_last_move(profile, move, direction, reason, confidence):
    snaps, end = paired_snaps(move)
    got = run(profile, CID, snaps, end)
    assert got.inputs["best_lag"] == 1
    assert got.inputs["leader_move_pct"] == pytest.approx(move, rel=1e-9)
    assert (got.direction, got.reasons) == (direction, (reason,))
    assert got.confidence == pytest.approx(confidence, abs=1e-9)


@pytest.mark.parametrize("profile", ["paper", "live"])
def test_an_unrelated_follower_is_weakly_correlated(profile):
    snaps, end = paired_snaps(0.5, follower="unrelated")
    got = run(profile, CID, snaps, end)
    assert abs(got.inputs["correlation"]) < 0.3  # precondition: independent noise
    assert (got.direction, got.reasons) == (NEUTRAL, ("weak_correlation",))


BOUNDARY_CASES = [
    # profile, r, leader move % (as a log return), direction, reason, confidence (= |r|)
    ("paper", 0.2999, 0.5, NEUTRAL, "weak_correlation", 0.0),
    ("paper", 0.30, 0.5, LONG, "leader_moved", 0.30),  # at min_correlation (≥)
    ("paper", 0.3001, 0.5, LONG, "leader_moved", 0.3001),
    ("paper", 0.30, -0.5, SHORT, "leader_moved", 0.30),  # mirror: leader fell
    ("paper", -0.60, 0.5, SHORT, "leader_moved", 0.60),  # negative r: against the leader
    ("paper", -0.60, -0.5, LONG, "leader_moved", 0.60),
    ("paper", 0.8, 0.0999, NEUTRAL, "leader_quiet", 0.0),  # move just below 0.10 %
    ("paper", 0.8, 0.1001, LONG, "leader_moved", 0.8),  # just above
    ("live", 0.4999, 0.5, NEUTRAL, "weak_correlation", 0.0),
    ("live", 0.50, 0.5, LONG, "leader_moved", 0.50),  # at min_correlation (≥)
    ("live", 0.5001, 0.5, LONG, "leader_moved", 0.5001),
    ("live", -0.50, 0.5, SHORT, "leader_moved", 0.50),
    ("live", 0.8, 0.1999, NEUTRAL, "leader_quiet", 0.0),  # just below 0.20 %
    ("live", 0.8, 0.2001, LONG, "leader_moved", 0.8),
    ("live", 0.8, -0.2001, SHORT, "leader_moved", 0.8),
]


@pytest.mark.parametrize("profile, r, move, direction, reason, confidence", BOUNDARY_CASES)
def test_correlation_and_leader_move_boundaries(profile, r, move, direction, reason, confidence):
    value = LeadLagValue(best_lag=1, correlation=r, leader_move=math.log1p(move / 100))
    got = direct(profile, CID, value)
    assert (got.direction, got.reasons) == (direction, (reason,))
    assert got.confidence == pytest.approx(confidence)


@pytest.mark.parametrize("profile", ["paper", "live"])
def test_the_leader_symbol_is_overridden_to_neutral(profile):
    snaps, end = paired_snaps(0.3)
    got = run(profile, CID, snaps, end, symbol=LEADER)
    assert (got.direction, got.confidence, got.reasons) == (NEUTRAL, 0.0, ("override:leader_symbol",))


def test_a_stopped_leader_feed_makes_the_follower_neutral():
    snaps, end = paired_snaps(0.3)
    eth_last = snaps[0].symbols[FOLLOWER].candles[-1].close
    # 10 more minutes of ETH candles; BTC sends nothing (candles_1m max_input_age is 3 min)
    snaps.append(snap(end + 10 * MIN, {FOLLOWER: {"candles": candles(end, [eth_last] * 10)}}))
    engine = feed("paper", snaps)
    got = result(engine.evaluate(FOLLOWER, end + 10 * MIN), CID)
    assert got.direction == NEUTRAL and got.reasons[0].startswith("stale:")
