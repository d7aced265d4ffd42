"""Characterisation test: every calculator's ``state()`` JSON and ``value`` after every
reading of a fixed, deterministic stream, compared with a recorded baseline.

The baseline (``state_baseline.json`` beside this file) was written by the code as it
was *before* the feature classes shared a base class, so this test pins:

* the exact ``state()`` JSON (``json.dumps(..., sort_keys=True)``), step by step: saved
  states stay readable and byte-identical across refactors;
* the exact ``value`` (``repr``, so floats compare bit for bit) and ``last_ts``;
* that ``from_state`` still accepts the recorded states (written by the old code) and a
  calculator resumed from them continues exactly like the recorded run.

Streams mix in duplicate and out-of-order timestamps and bad inputs, so the
"ignore the whole reading" paths are covered too. Regenerate the baseline only for an
intended format change: ``.venv/bin/python tests/features/test_state_compat.py --write``.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import sys
from pathlib import Path

import pytest

if __name__ == "__main__":  # run as a script: find engine and the helpers
    sys.path[:0] = [str(Path(__file__).resolve().parents[2]), str(Path(__file__).parent)]

from features_testutil import Walk, funding_rates, liquidations, random_book

from engine.trading.features import (
    BarCloser,
    CountWindow,
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
    TimeWindow,
    VolatilitySkewProxy,
)

BASELINE = Path(__file__).resolve().parent / "state_baseline.json"
NAN = float("nan")
N_READINGS = 260
CHECKPOINTS = (0.25, 0.6)  # fractions of the stream where full states are kept


# Window "readings" go through push() and are summarised by every statistic.
def _window_value(w):
    return (
        len(w),
        w.sum,
        w.mean,
        w.variance(0),
        w.variance(1),
        w.stdev(1),
        w.slope,
        w.first,
        w.last,
        w.evicted,
        w.all_same,
        getattr(w, "full", None),
    )


# name -> (factory, generator of good readings, bad readings, how to feed, how to read)
def _cases():
    def price(rng):
        w = Walk(rng, 50_000, 0.002)
        return lambda: ((round(w(), 2) if rng.random() < 0.9 else w.x,), {})

    def two_prices(rng):
        a, b = Walk(rng, 50_000, 0.002), Walk(rng, 3_000, 0.003)
        return lambda: ((a() if rng.random() < 0.9 else a.x, b()), {})

    def price_oi(rng):
        p, oi = Walk(rng, 100, 0.004), Walk(rng, 1e9, 0.003)
        return lambda: ((p(), oi() if rng.random() < 0.4 else oi.x), {})

    def oi(rng):
        g = Walk(rng, 1e9, 0.003)
        return lambda: ((g() if rng.random() < 0.7 else g.x,), {})

    def flow(rng):
        return lambda: ((rng.choice([0.0, 0.0, rng.gauss(0, 1e6)]),), {})

    def skew(rng):
        def gen():
            kw = {}
            if rng.random() < 0.9:
                kw["ret"] = rng.choice([0.0, rng.gauss(0, 0.002), rng.gauss(0, 0.002)])
            if rng.random() < 0.1 or not kw:
                kw["implied_skew"] = rng.gauss(0.03, 0.02)
            return (), kw

        return gen

    def ofi(rng):
        return lambda: ((rng.choice([rng.uniform(-1, 1), 0.25]),), {})

    def window_reading(rng):
        return lambda: ((rng.choice([1.5, rng.gauss(0, 1), rng.gauss(0, 1)]),), {})

    def fg(rng):
        return lambda: ((rng.randint(0, 100),), {})

    def book(rng):
        return lambda: (random_book(rng), {})

    def value(calc, out):
        return calc.value

    def window(calc, out):
        return _window_value(calc)

    def bars(calc, out):  # BarCloser has no value: what update returned
        return out

    update = "update"
    return {
        "TimeWindow": (lambda: TimeWindow(300), window_reading, [((NAN,), {}), (("x",), {})], "push", window),
        "CountWindow": (lambda: CountWindow(10), window_reading, [((None,), {}), ((math.inf,), {})], "push", window),
        "Ema": (lambda: Ema(period=5), price, [((NAN,), {}), ((None,), {})], update, value),
        "EmaCross": (lambda: EmaCross(fast=3, slow=8), price, [((NAN,), {})], update, value),
        "HurstExponent": (
            lambda: HurstExponent(window=64, recompute_every=3, min_window=32, max_lag=4),
            price,
            [((NAN,), {}), ((-1.0,), {}), ((0.0,), {})],
            update,
            value,
        ),
        "OrderFlowImbalance": (
            lambda: OrderFlowImbalance(levels=3),
            book,
            [(([(1, NAN)], [(2, 1)]), {}), (([], []), {}), ((None, [(2, 1)]), {})],
            update,
            value,
        ),
        "OfiMomentum": (
            lambda: OfiMomentum(window_seconds=300, min_readings=3),
            ofi,
            [((NAN,), {}), ((None,), {})],
            update,
            value,
        ),
        "ExchangeNetFlow": (
            lambda: ExchangeNetFlow(window_seconds=600),
            flow,
            [((None,), {}), ((math.inf,), {})],
            update,
            value,
        ),
        "LeadLag": (
            lambda: LeadLag(window=20, max_lag=3),
            two_prices,
            [((NAN, 1.0), {}), ((1.0, 0.0), {}), ((-1.0, 1.0), {})],
            update,
            value,
        ),
        "OpenInterestVelocity": (
            lambda: OpenInterestVelocity(window_seconds=600),
            oi,
            [((NAN,), {}), ((-5.0,), {})],
            update,
            value,
        ),
        "OiPriceDivergence": (
            lambda: OiPriceDivergence(window_seconds=600, min_move_pct=0.1),
            price_oi,
            [((NAN, 1.0), {}), ((1.0, None), {}), ((0.0, 1.0), {}), ((1.0, -1.0), {})],
            update,
            value,
        ),
        "FundingDeviation": (
            lambda: FundingDeviation(window=8),
            funding_rates,
            [((NAN,), {}), (("junk",), {})],
            update,
            value,
        ),
        "LiquidationCascade": (
            lambda: LiquidationCascade(window_seconds=900),
            liquidations,
            [((-1.0, 0.0), {}), ((0.0, NAN), {}), ((0.0, -2.0), {})],
            update,
            value,
        ),
        "FearGreed": (lambda: FearGreed(), fg, [((101,), {}), ((NAN,), {}), ((-1,), {})], update, value),
        "VolatilitySkewProxy": (
            lambda: VolatilitySkewProxy(window=20, implied_max_age_seconds=120),
            skew,
            [((), {"ret": NAN}), ((), {}), ((), {"implied_skew": None})],
            update,
            value,
        ),
        "BarCloser": (lambda: BarCloser(timeframe="5m"), price, [((NAN,), {})], update, bars),
        "MultiTimeframeAlignment": (
            lambda: MultiTimeframeAlignment(timeframes=["1m", "5m", "15m"], ema_period=3),
            price,
            [((NAN,), {})],
            update,
            value,
        ),
    }


CASES = _cases()
NAMES = sorted(CASES)


def _stream(name: str) -> list:
    """Readings with jittered ts (some exactly on minute boundaries), plus duplicate,
    out-of-order, NaN-ts and bad-input readings mixed in."""
    seed = int(hashlib.sha256(name.encode()).hexdigest()[:8], 16)
    rng = random.Random(seed)
    _, gen_factory, bad, _, _ = CASES[name]
    gen = gen_factory(rng)
    t = 1_700_000_000.0
    out = []
    for _ in range(N_READINGS):
        step = rng.choice([60.0, 60.0, 60.0, 58.8, 61.8, 120.0, 300.0, 37.5])
        t = t + step if rng.random() < 0.8 else float((int(t) // 60 + 1) * 60)
        out.append((t, gen()))
        r = rng.random()
        if r < 0.04:
            out.append((t, gen()))  # duplicate ts
        elif r < 0.08:
            out.append((t - 90.0, gen()))  # out of order
        elif r < 0.13:
            out.append((t + 0.5, rng.choice(bad)))  # NaN / invalid input
        elif r < 0.15:
            out.append((rng.choice([NAN, None, math.inf]), gen()))  # bad ts
    return out


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _state_json(calc) -> str:
    return json.dumps(calc.state(), sort_keys=True, allow_nan=False)


def _feed(name: str, calc, reading):
    _, _, _, method, read = CASES[name]
    t, (args, kwargs) = reading
    out = getattr(calc, method)(t, *args, **kwargs)
    return read(calc, out)


def _step_record(name: str, calc, reading) -> list:
    value = _feed(name, calc, reading)
    last_ts = calc._last_ts if name == "BarCloser" else calc.last_ts  # no public last_ts
    return [_digest(_state_json(calc)), repr(value), repr(last_ts)]


def record(name: str) -> dict:
    """The run of one calculator: a record per reading, full states at checkpoints."""
    calc = CASES[name][0]()
    stream = _stream(name)
    cuts = {int(len(stream) * f) for f in CHECKPOINTS}
    steps, checkpoints = [], {}
    for i, reading in enumerate(stream):
        if i in cuts:
            checkpoints[str(i)] = _state_json(calc)
        steps.append(_step_record(name, calc, reading))
    return {"steps": steps, "checkpoints": checkpoints, "final_state": _state_json(calc)}


@pytest.fixture(scope="module")
def baseline() -> dict:
    return json.loads(BASELINE.read_text())


def test_baseline_covers_every_calculator(baseline):
    assert sorted(baseline) == NAMES


def _first_mismatch(expected: list, got: list) -> str:
    for i, (e, g) in enumerate(zip(expected, got, strict=False)):
        if e != g:
            return f"first difference at reading {i}: expected {e}, got {g}"
    return f"lengths differ: {len(expected)} != {len(got)}"


@pytest.mark.parametrize("name", NAMES)
def test_states_and_values_match_baseline(name, baseline):
    expected = baseline[name]
    got = record(name)
    assert got["steps"] == expected["steps"], _first_mismatch(expected["steps"], got["steps"])
    assert got["checkpoints"] == expected["checkpoints"]
    assert got["final_state"] == expected["final_state"]


@pytest.mark.parametrize("name", NAMES)
def test_recorded_states_resume_exactly(name, baseline):
    """States written by the baseline code load, re-serialise identically, and the resumed
    calculator continues exactly like the recorded run."""
    expected = baseline[name]
    stream = _stream(name)
    cls = type(CASES[name][0]())
    for cut, text in expected["checkpoints"].items():
        k = int(cut)
        calc = cls.from_state(json.loads(text))
        assert _state_json(calc) == text
        got = [_step_record(name, calc, reading) for reading in stream[k:]]
        assert got == expected["steps"][k:], _first_mismatch(expected["steps"][k:], got)
    final = cls.from_state(json.loads(expected["final_state"]))
    assert _state_json(final) == expected["final_state"]


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit(f"usage: {sys.argv[0]} --write   (rewrites {BASELINE.name})")
    data = {name: record(name) for name in NAMES}
    BASELINE.write_text(json.dumps(data, sort_keys=True, indent=0) + "\n")
    print(f"wrote {BASELINE} ({BASELINE.stat().st_size} bytes)")
