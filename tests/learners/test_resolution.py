"""Signal resolution (engine/learners/resolution.py) on cases whose answer is known."""

from __future__ import annotations

import math
import random

import pytest

from engine.learners.base import ComponentCall
from engine.learners.resolution import (
    BLOCKED,
    NEUTRAL,
    TRADE,
    Resolution,
    Resolver,
    Signal,
    grace,
    outcome_line,
    resolve_series,
)

H = (60.0, 300.0, 900.0, 1800.0, 3600.0)  # rules/learning.yaml: 1m, 5m, 15m, 30m, 1h


def signal(ts=0.0, symbol="BTCUSDT", direction="LONG", price=100.0, components=(), outcome=TRADE, blocker=None):
    return Signal(ts, symbol, direction, "HIGH", outcome, blocker, "rs-1", price, tuple(components))


def feed(resolver, cycles):
    """cycles: (now, {symbol: price}) in order → every resolution, in order."""
    out = []
    for now, prices in cycles:
        out += resolver.observe(now, prices)
    return out


def test_grace_is_a_minute_or_a_tenth_of_the_horizon():
    assert grace(60) == 60 and grace(300) == 60 and grace(900) == 90 and grace(3600) == 360


def test_right_wrong_and_move_at_every_horizon():
    calls = (
        ComponentCall("up", "LONG", 0.8, 0.5),
        ComponentCall("down", "SHORT", 0.4, 0.3),
        ComponentCall("quiet", "NEUTRAL", 0.0, 0.2),
    )
    resolver = Resolver(H)
    resolver.add(signal(components=calls))
    # the price rises 1 % a minute for an hour
    got = feed(resolver, [(60.0 * m, {"BTCUSDT": 100.0 + m}) for m in range(1, 61)])
    assert [r.horizon_s for r in got] == list(H)
    by = {r.horizon_s: r for r in got}
    assert by[300.0].price_after == 105.0 and by[300.0].price_ts == 300.0
    outcome = by[3600.0].outcome
    assert outcome.move_pct == pytest.approx(60.0)
    assert outcome.right() is True
    assert outcome.right("SHORT") is False
    at = by[60.0].as_dict()
    assert at["right"] is True and at["move_pct"] == pytest.approx(1.0)
    assert at["components_right"] == ["up"]  # "down" was wrong, a NEUTRAL component is neither
    assert outcome.components == calls
    assert resolver.resolved == 5 and resolver.unresolvable == 0 and len(resolver) == 0
    # finished at its last horizon: one log line with every horizon
    ((done, resolutions),) = resolver.finished
    line = outcome_line(done, resolutions)
    assert line["components"] == {"up": "LONG", "down": "SHORT"}
    assert [h["horizon_s"] for h in line["horizons"]] == list(H) and line["outcome"] == TRADE


def test_short_signal_right_when_the_price_falls_and_flat_is_neither():
    resolver = Resolver((60.0,))
    resolver.add(signal(direction="SHORT", outcome=BLOCKED, blocker="MIN_CONFIDENCE"))
    resolver.add(signal(symbol="ETHUSDT", direction="LONG", price=10.0))
    got = feed(resolver, [(60.0, {"BTCUSDT": 98.0, "ETHUSDT": 10.0})])
    btc, eth = got
    assert btc.outcome.right() is True and btc.outcome.move_pct == pytest.approx(-2.0)
    assert btc.outcome.outcome == BLOCKED and btc.outcome.blocker == "MIN_CONFIDENCE"
    assert eth.outcome.right() is None and eth.as_dict()["right"] is None
    assert [s.symbol for s, _ in resolver.finished] == ["BTCUSDT", "ETHUSDT"]


def test_neutral_vote_is_resolved_per_component():
    resolver = Resolver((300.0,))
    resolver.add(signal(direction="NEUTRAL", outcome=NEUTRAL, components=(ComponentCall("c", "SHORT", 0.6, 1.0),)))
    (r,) = feed(resolver, [(300.0, {"BTCUSDT": 90.0})])
    assert r.outcome.right() is None
    assert r.outcome.right("SHORT") is True
    assert r.as_dict()["components_right"] == ["c"]


def test_first_price_at_or_after_the_horizon_within_the_grace():
    resolver = Resolver((300.0,))
    resolver.add(signal(ts=0.0))
    # nothing before 300 counts; 300 has no BTC price; 330 is within the 60 s grace
    got = feed(resolver, [(240.0, {"BTCUSDT": 1.0}), (300.0, {"ETHUSDT": 5.0}), (330.0, {"BTCUSDT": 103.0})])
    assert [(r.price_after, r.price_ts) for r in got] == [(103.0, 330.0)]


def test_unresolvable_past_the_grace_never_invented():
    resolver = Resolver((300.0, 3600.0))
    resolver.add(signal(ts=0.0))
    # no BTC price from 300 s to 361 s (grace 60 s): the 5-minute horizon is unresolvable even
    # though a price comes at 400; 1 h: grace 360 s, the price at 3900 is in it
    got = feed(resolver, [(300.0, {}), (361.0, {}), (400.0, {"BTCUSDT": 101.0}), (3900.0, {"BTCUSDT": 99.0})])
    assert [(r.horizon_s, r.price_after) for r in got] == [(300.0, None), (3600.0, 99.0)]
    assert got[0].outcome is None and got[0].as_dict() == {"horizon_s": 300.0, "unresolvable": True}
    assert resolver.unresolvable == 1 and resolver.resolved == 1


def test_a_gap_in_the_cycles_makes_it_unresolvable_not_late():
    resolver = Resolver((60.0,))
    resolver.add(signal(ts=0.0))
    (r,) = feed(resolver, [(500.0, {"BTCUSDT": 120.0})])  # the bot was down: the first price is 440 s late
    assert r.price_after is None


def test_horizons_come_from_the_plan():
    from engine.language.compiler import compile_ruleset

    result = compile_ruleset("rules")
    plan = next(iter(result.plans.values()))
    assert Resolver(plan.learning.signal_resolution_horizons).horizons == H


def test_bad_horizons_refused():
    with pytest.raises(ValueError, match="positive seconds"):
        Resolver(())
    with pytest.raises(ValueError, match="positive seconds"):
        Resolver((0.0,))


def test_a_resumed_resolver_gives_what_an_uninterrupted_one_does():
    rng = random.Random(7)
    cycles = []
    for m in range(1, 200):
        prices = {s: 100 + rng.random() for s in ("A", "B") if rng.random() > 0.1}
        cycles.append((60.0 * m, prices))
    signals = {
        now: [signal(now, s, rng.choice(["LONG", "SHORT", "NEUTRAL"]), p) for s, p in prices.items()]
        for now, prices in cycles
    }

    def run(resolver, part):
        out = []
        for now, prices in part:
            out += resolver.observe(now, prices)
            for s in signals[now]:
                resolver.add(s)
        return out

    whole = run(Resolver(H), cycles)
    first = run(Resolver(H), cycles[:120])
    # what the store keeps: every signal and its resolutions so far
    done: dict = {}
    for r in first:
        done.setdefault((r.signal.ts, r.signal.symbol), []).append(r)
    made = [s for now, _ in cycles[:120] for s in signals[now]]
    pending = [(s, tuple(done.get((s.ts, s.symbol), ()))) for s in made]
    resumed = Resolver(H, pending)
    rest = run(resumed, cycles[120:])
    key = lambda r: (r.signal.ts, r.signal.symbol, r.horizon_s, r.price_after)  # noqa: E731
    assert sorted(map(key, first + rest)) == sorted(map(key, whole))
    # and it finishes the same signals, with every horizon
    again = Resolver(H)
    finished_whole, finished_resumed = [], []
    for now, prices in cycles:
        again.observe(now, prices)
        finished_whole += again.finished
        for s in signals[now]:
            again.add(s)
    resumed = Resolver(H, pending)
    for now, prices in cycles[120:]:
        resumed.observe(now, prices)
        finished_resumed += resumed.finished
        for s in signals[now]:
            resumed.add(s)
    late = [item for item in finished_whole if item[0].ts + H[-1] > cycles[119][0]]
    assert finished_resumed == late


def test_series_gives_what_the_resolver_gives():
    rng = random.Random(3)
    times = [60.0 * m for m in range(1, 300)]
    present = [t for t in times if rng.random() > 0.2]
    price = {t: 100 * math.exp(rng.gauss(0, 0.01)) for t in present}
    made = [signal(t, "A", "LONG", price[t]) for t in present[:150]]
    resolver = Resolver(H)
    stream: list[Resolution] = []
    for t in times:
        stream += resolver.observe(t, {"A": price[t]} if t in price else {})
        for s in made:
            if s.ts == t:
                resolver.add(s)
    series = resolve_series(made, {"A": (present, [price[t] for t in present])}, H, until=times[-1])
    key = lambda r: (r.signal.ts, r.horizon_s, r.price_after, r.price_ts)  # noqa: E731
    assert [key(r) for r in series] == sorted(key(r) for r in stream)
    assert any(r.price_after is None for r in series)
