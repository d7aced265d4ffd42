from __future__ import annotations

import random
import statistics

import pytest
from features_testutil import closes_from_returns

from engine.trading.features import LeadLag


def _feed(ll, leader_rets, follower_rets):
    for t, (lc, fc) in enumerate(zip(closes_from_returns(leader_rets), closes_from_returns(follower_rets))):
        ll.update(t * 60.0, lc, fc)


def test_hand_computed_follower_echoes_leader_one_step_later():
    leader = [0.01, -0.02, 0.03, 0.01, -0.01]
    follower = [0.0, 0.01, -0.02, 0.03, 0.01]  # follower[t] = leader[t - 1]
    ll = LeadLag(window=3, max_lag=2)
    _feed(ll, leader[:4], follower[:4])
    assert ll.value is None  # needs window + max_lag = 5 returns
    ll = LeadLag(window=3, max_lag=2)
    _feed(ll, leader, follower)
    # lag 1 pairs: (0.01, 0.01), (0.03, 0.03), (-0.02, -0.02) -> r = 1
    # lag 2 pairs: (0.03, 0.01), (-0.02, 0.03), (0.01, -0.02) -> r = -0.5
    v = ll.value
    assert v.best_lag == 1
    assert v.correlation == pytest.approx(1.0)
    assert v.leader_move == pytest.approx(-0.01)  # the last leader return, not yet echoed


def _reference(lr, fr, window, max_lag):
    best = None
    for lag in range(1, max_lag + 1):
        xs = [lr[len(lr) - 1 - k - lag] for k in range(window)]
        ys = [fr[len(fr) - 1 - k] for k in range(window)]
        r = statistics.correlation(xs, ys)
        if best is None or r > best[1]:
            best = (lag, r)
    return best[0], best[1], sum(lr[-best[0] :])


def test_sliding_matches_brute_force():
    rng = random.Random(2)
    lr, fr = [], []
    for i in range(300):
        lr.append(rng.gauss(0, 0.002))
        fr.append(0.7 * (lr[-4] if i >= 3 else 0.0) + rng.gauss(0, 0.001))  # lag 3
    ll = LeadLag(window=40, max_lag=5)
    closes_l, closes_f = closes_from_returns(lr), closes_from_returns(fr)
    for t in range(len(closes_l)):
        ll.update(t, closes_l[t], closes_f[t])
        n = t  # returns seen
        if n < 45:
            assert ll.value is None
            continue
        lag, r, move = _reference(lr[:n], fr[:n], 40, 5)
        v = ll.value
        assert v.best_lag == lag
        assert v.correlation == pytest.approx(r, abs=1e-9)
        assert v.leader_move == pytest.approx(move, abs=1e-12)
    assert ll.value.best_lag == 3 and ll.value.correlation > 0.7


def test_flat_follower_has_no_correlation():
    ll = LeadLag(window=3, max_lag=1)
    leader = [0.01, -0.02, 0.03, 0.01, -0.01, 0.02, 0.01]
    follower = [0.01, 0.02, 0.0, 0.0, 0.0, 0.0, 0.0]
    _feed(ll, leader, follower)
    assert ll.value is None  # last 3 follower returns are all 0


def test_ignores_bad_closes():
    ll = LeadLag(window=3, max_lag=1)
    ll.update(0, 100, 10)
    ll.update(60, 0, 10)
    ll.update(60, 101, None)
    ll.update(60, float("nan"), 10)
    ll.update(0, 101, 11)
    assert ll.last_ts == 0.0 and ll.state()["returns_seen"] == 0


@pytest.mark.parametrize("kwargs", [{"window": 2, "max_lag": 1}, {"window": 10, "max_lag": 0}])
def test_validates(kwargs):
    with pytest.raises(ValueError):
        LeadLag(**kwargs)
