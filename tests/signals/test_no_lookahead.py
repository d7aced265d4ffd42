"""No lookahead, and evaluate is pure.

On a synthetic week of hourly history plus 600 one-minute snapshots of BTCUSDT and
ETHUSDT (tests/signals/synthetic.py, built whole up front — the later data exists before
any engine is fed), the record evaluated at t_k depends only on snapshots up to t_k.
"""

from __future__ import annotations

import functools

import pytest

from engine.trading.signals.answer import LONG, NEUTRAL, SHORT
from engine.trading.signals.engine import SignalEngine
from tests.signals.helpers import DAY, FOLLOWER, LEADER, plan, snap
from tests.signals.synthetic import HISTORY_HOURS, market

CHECKPOINTS = (150, 330, 599)  # minutes into the one-minute part: early, mid-cascade, last
SYMBOLS = (LEADER, FOLLOWER)


@functools.cache
def snapshots():
    out = []
    for obj in market():
        top = {k: v for k, v in obj.items() if k not in ("ts", "symbols")}
        out.append(snap(obj["ts"], obj["symbols"], **top))
    return tuple(out)


def fed(profile, upto):
    """A fresh engine fed snapshots[0..upto] (inclusive)."""
    engine = SignalEngine(plan(profile))
    for s in snapshots()[: upto + 1]:
        engine.update(s)
    return engine


@pytest.mark.parametrize("profile", ["paper", "live"])
def test_a_record_at_t_depends_only_on_snapshots_up_to_t(profile):
    snaps = snapshots()
    a, b = SignalEngine(plan(profile)), SignalEngine(plan(profile))
    records = {}
    fed_upto = -1
    for minute in CHECKPOINTS:
        k = HISTORY_HOURS + minute
        for s in snaps[fed_upto + 1 : k + 1]:
            a.update(s)
            b.update(s)
        fed_upto = k
        t = snaps[k].ts
        for symbol in SYMBOLS:
            records[k, symbol] = a.evaluate(symbol, t)
            assert b.evaluate(symbol, t) == records[k, symbol]  # A and B, same data: same record
    for s in snaps[fed_upto + 1 :]:  # B sees the rest of the series
        b.update(s)
    for (k, symbol), record in records.items():
        c = fed(profile, k)  # fresh engine, data ≤ t_k only
        assert c.evaluate(symbol, snaps[k].ts) == record
        assert c.evaluate(symbol, snaps[k].ts).as_dict() == record.as_dict()


def test_the_series_exercises_every_component():
    # guard against a vacuous lookahead test: by the last minute every component has
    # answered LONG or SHORT at some checkpoint of the run
    engine, seen = SignalEngine(plan("paper")), set()
    for k, s in enumerate(snapshots()):
        engine.update(s)
        if k >= HISTORY_HOURS and (k - HISTORY_HOURS) % 5 == 0:
            for symbol in SYMBOLS:
                seen |= {c.id for c in engine.evaluate(symbol, s.ts).components if c.direction != NEUTRAL}
    assert seen == {c.id for c in plan("paper").signals.components}


@pytest.mark.parametrize("symbol", SYMBOLS)
def test_evaluate_is_pure(symbol):
    k = HISTORY_HOURS + 330
    engine = fed("paper", k)
    t = snapshots()[k].ts
    first = engine.evaluate(symbol, t)
    assert engine.evaluate(symbol, t) == first  # twice in a row: identical
    later = engine.evaluate(symbol, t + DAY)  # a far later clock: inputs go stale …
    assert later != first
    assert engine.evaluate(symbol, t) == first  # … without touching the state


def test_the_record_vote_matches_its_components_throughout():
    """At every 10th minute: direction by majority of votes (ties NEUTRAL), ≥ 2 aligned,
    confidence Σ w·c ÷ Σ w over the aligned components, the first level that holds."""
    spec = plan("paper").signals
    engine = SignalEngine(plan("paper"))
    checked = 0
    for k, s in enumerate(snapshots()):
        engine.update(s)
        if k < HISTORY_HOURS or (k - HISTORY_HOURS) % 10:
            continue
        for symbol in SYMBOLS:
            r = engine.evaluate(symbol, s.ts)
            longs = [c for c in r.components if c.direction == LONG]
            shorts = [c for c in r.components if c.direction == SHORT]
            side = longs if len(longs) > len(shorts) else shorts if len(shorts) > len(longs) else []
            if len(side) < spec.min_aligned:
                assert (r.direction, r.conviction, r.confidence) == (NEUTRAL, "NONE", 0.0)
                continue
            confidence = sum(c.weight * c.confidence for c in side) / sum(c.weight for c in side)
            level = next(
                (lv for lv in spec.levels if len(side) >= lv.min_aligned and confidence >= lv.min_confidence), None
            )
            assert r.direction == side[0].direction and r.aligned_count == len(side)
            assert r.confidence == pytest.approx(confidence)
            assert r.conviction == (level.name if level else "NONE")
            checked += 1
    assert checked > 50
