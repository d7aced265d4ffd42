"""The shared contract, checked on every calculator with long, messy random streams:
no lookahead, JSON state round trip with bit-identical later values, ignored readings
change nothing, None before any data, and a numpy-free import."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
from features_testutil import Walk, funding_rates, liquidations, random_book

from engine.trading.features import (
    Ema,
    EmaCross,
    ExchangeNetFlow,
    FearGreed,
    FundingDeviation,
    HurstExponent,
    LeadLag,
    LiquidationCascade,
    MultiTimeframeAlignment,
    OfiMomentum,
    OiPriceDivergence,
    OpenInterestVelocity,
    OrderFlowImbalance,
    VolatilitySkewProxy,
)

NAN = float("nan")


# name -> (factory, reading generator (rng -> callable returning (args, kwargs)), bad readings)
def _cases():
    def price(rng):
        w = Walk(rng, 50_000, 0.002)
        return lambda: ((w(),), {})

    def two_prices(rng):
        a, b = Walk(rng, 50_000, 0.002), Walk(rng, 3_000, 0.003)
        return lambda: ((a(), b()), {})

    def price_oi(rng):
        p, oi = Walk(rng, 100, 0.003), Walk(rng, 1e9, 0.002)
        return lambda: ((p(), oi() if rng.random() < 0.3 else oi.x), {})

    def gauss(scale):
        return lambda rng: lambda: ((rng.gauss(0, scale),), {})

    def skew(rng):
        def gen():
            kw = {"ret": rng.gauss(0, 0.002)}
            if rng.random() < 0.1:
                kw["implied_skew"] = rng.gauss(0.03, 0.02)
            return (), kw

        return gen

    return {
        "Ema": (lambda: Ema(period=5), price, [((NAN,), {}), ((None,), {})]),
        "EmaCross": (lambda: EmaCross(fast=3, slow=8), price, [((NAN,), {})]),
        "HurstExponent": (
            lambda: HurstExponent(window=64, recompute_every=3, min_window=32, max_lag=4),
            price,
            [((NAN,), {}), ((-1.0,), {})],
        ),
        "OrderFlowImbalance": (
            lambda: OrderFlowImbalance(levels=3),
            lambda rng: lambda: (random_book(rng), {}),
            [(([(1, NAN)], [(2, 1)]), {}), (([], []), {})],
        ),
        "OfiMomentum": (
            lambda: OfiMomentum(window_seconds=300, min_readings=3),
            lambda rng: lambda: ((rng.uniform(-1, 1),), {}),
            [((NAN,), {})],
        ),
        "ExchangeNetFlow": (lambda: ExchangeNetFlow(window_seconds=600), gauss(1e6), [((None,), {})]),
        "LeadLag": (lambda: LeadLag(window=20, max_lag=3), two_prices, [((NAN, 1.0), {}), ((1.0, 0.0), {})]),
        "OpenInterestVelocity": (
            lambda: OpenInterestVelocity(window_seconds=600),
            lambda rng: lambda g=Walk(rng, 1e9, 0.003): ((g(),), {}),  # noqa: B008 - one walk per run
            [((NAN,), {}), ((-5.0,), {})],
        ),
        "OiPriceDivergence": (
            lambda: OiPriceDivergence(window_seconds=600, min_move_pct=0.1),
            price_oi,
            [((NAN, 1.0), {}), ((1.0, None), {})],
        ),
        "FundingDeviation": (lambda: FundingDeviation(window=8), funding_rates, [((NAN,), {})]),
        "LiquidationCascade": (
            lambda: LiquidationCascade(window_seconds=900),
            liquidations,
            [((-1.0, 0.0), {}), ((0.0, NAN), {})],
        ),
        "FearGreed": (
            lambda: FearGreed(),
            lambda rng: lambda: ((rng.randint(0, 100),), {}),
            [((101,), {}), ((NAN,), {})],
        ),
        "VolatilitySkewProxy": (lambda: VolatilitySkewProxy(window=20), skew, [((), {"ret": NAN}), ((), {})]),
        "MultiTimeframeAlignment": (
            lambda: MultiTimeframeAlignment(timeframes=["1m", "5m", "15m"], ema_period=3),
            price,
            [((NAN,), {})],
        ),
    }


CASES = _cases()


def _stream(name, seed, n=700):
    """Readings with jittered ts, plus duplicates, out-of-order and bad readings mixed in."""
    rng = random.Random(seed)
    _, gen_factory, bad = CASES[name]
    gen = gen_factory(rng)
    t = 1_700_000_000.0 + rng.random() * 60
    out = []
    for _ in range(n):
        t += 60.0 * rng.choice([1, 1, 1, 1, 0.98, 1.03, 2, 5])
        out.append((t, gen()))
        r = rng.random()
        if r < 0.04:
            out.append((t, gen()))  # duplicate ts
        elif r < 0.08:
            out.append((t - 120.0, gen()))  # out of order
        elif r < 0.12:
            out.append((t + 0.5, rng.choice(bad)))  # NaN / invalid input
    return out


def _apply(calc, reading):
    t, (args, kwargs) = reading
    calc.update(t, *args, **kwargs)


NAMES = sorted(CASES)


@pytest.mark.parametrize("name", NAMES)
def test_none_before_any_data(name):
    assert CASES[name][0]().value is None


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("seed", [1, 2])
def test_no_lookahead(name, seed):
    """The value after the reading at index k equals the value of a fresh calculator fed
    only readings 0..k: later data never reaches it."""
    stream = _stream(name, seed)
    full = CASES[name][0]()
    values = []
    for reading in stream:
        _apply(full, reading)
        values.append(full.value)
    assert sum(v is not None for v in values) > len(values) // 3, "stream never warmed up"
    rng = random.Random(seed)
    for k in sorted(rng.sample(range(len(stream)), 6)):
        prefix = CASES[name][0]()
        for reading in stream[: k + 1]:
            _apply(prefix, reading)
        assert prefix.value == values[k], f"index {k}"


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("cut", [0.1, 0.5, 0.9])
def test_state_round_trip_through_json(name, cut):
    """A dry run split in two halves and resumed from JSON gives identical later values."""
    stream = _stream(name, 3)
    k = int(len(stream) * cut)
    a = CASES[name][0]()
    for reading in stream[:k]:
        _apply(a, reading)
    text = json.dumps(a.state(), allow_nan=False)  # strict JSON: no NaN/Infinity
    b = type(a).from_state(json.loads(text))
    assert b.value == a.value
    for reading in stream[k:]:
        _apply(a, reading)
        _apply(b, reading)
        assert b.value == a.value
    assert b.state() == a.state()


@pytest.mark.parametrize("name", NAMES)
def test_ignored_readings_change_nothing(name):
    stream = _stream(name, 4)
    calc = CASES[name][0]()
    for reading in stream[:400]:
        _apply(calc, reading)
    before = json.dumps(calc.state())
    value = calc.value
    last = calc.last_ts
    next_args = CASES[name][1](random.Random(9))()
    for bad in CASES[name][2]:
        _apply(calc, (last + 30.0, bad))  # invalid input, later ts
    _apply(calc, (last, next_args))  # duplicate ts
    _apply(calc, (last - 1.0, next_args))  # out of order
    _apply(calc, (NAN, next_args))  # NaN ts
    _apply(calc, (None, next_args))
    assert json.dumps(calc.state()) == before
    assert calc.value == value and calc.last_ts == last


@pytest.mark.parametrize("name", NAMES)
def test_from_state_refuses_foreign_state(name):
    calc = CASES[name][0]()
    other = Ema(period=3) if name != "Ema" else FearGreed()
    with pytest.raises(ValueError, match="state is for"):
        type(calc).from_state(other.state())
    bad_version = {**calc.state(), "version": 99}
    with pytest.raises(ValueError, match="version"):
        type(calc).from_state(bad_version)


def test_import_does_not_pull_numpy_or_pandas():
    root = Path(__file__).resolve().parents[2]
    code = (
        "import sys; import engine.trading.features; "
        "bad = [m for m in ('numpy', 'pandas') if m in sys.modules]; sys.exit(1 if bad else 0)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr or "numpy or pandas imported"
