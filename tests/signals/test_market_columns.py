"""The column forms of the market features and the return correlation reproduce the
scalar incremental state bit for bit (docs/dry-run.md: the fast path must trade exactly
like the scalar path)."""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from adapters.snapshots.columnar import read_columnar
from engine.language.compiler import compile_ruleset
from engine.language.kinds import indicators
from engine.market.snapshot import Candle, Snapshot, SymbolSnapshot
from engine.replay.columns.candles import CandleSeries
from engine.replay.columns.correlation import CorrelationColumns
from engine.replay.columns.market import ema_path, market_columns
from engine.trading.correlation import ReturnCorrelation
from engine.trading.features import Ema
from engine.trading.signals.market import MarketState

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample" / "sample.snapshots.parquet"
N_SNAPSHOTS = 8000
SYMBOLS = ("BTCUSDT", "ETHUSDT")
KEYS = ("price_change_pct", "ema_spread_pct", "mtf_long", "mtf_short")
T0 = 1_699_999_200.0  # an hour boundary


@pytest.fixture(scope="module")
def plan():
    return compile_ruleset(str(ROOT / "rules")).plans["paper"]


@pytest.fixture(scope="module")
def snaps():
    return list(itertools.islice(read_columnar(SAMPLE), N_SNAPSHOTS))


def series(candles) -> CandleSeries:
    cols = [
        np.array([getattr(c, f) for c in candles], dtype=np.float64)
        for f in ("ts", "open", "high", "low", "close", "volume")
    ]
    return CandleSeries(*cols)


def delivered(snapshots, symbol):
    return [c for s in snapshots if symbol in s.symbols for c in s.symbols[symbol].candles]


def assert_bit_identical(actual: np.ndarray, expected: np.ndarray, what: str) -> None:
    assert actual.dtype == np.float64 and actual.shape == expected.shape, what
    gone_a, gone_e = np.isnan(actual), np.isnan(expected)
    differ = (gone_a != gone_e) | (~gone_a & ~gone_e & (actual.view(np.int64) != expected.view(np.int64)))
    if differ.any():
        k = int(np.flatnonzero(differ)[0])
        raise AssertionError(
            f"{what}: {differ.sum()} candles differ, first at {k}: columns {actual[k]!r} vs scalar {expected[k]!r}"
        )


def scalar_market(plan, symbol, snapshots) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """MarketState.env() after each snapshot, at the index of its last candle."""
    state = MarketState(plan, symbol)
    m = len(delivered(snapshots, symbol))
    expected = {k: np.full(m, np.nan) for k in KEYS}
    seen = np.zeros(m, dtype=bool)
    count = 0
    for snapshot in snapshots:
        sym = snapshot.symbols.get(symbol)
        if sym is None:
            continue
        state.update(sym)
        count += len(sym.candles)
        if not sym.candles:
            continue
        env = state.env()
        for key in KEYS:
            if key in env:
                expected[key][count - 1] = env[key]
        seen[count - 1] = True
    return expected, seen


def check_market(plan, symbol, snapshots, *, every_candle=True):
    expected, seen = scalar_market(plan, symbol, snapshots)
    if every_candle:
        assert seen.all()
    cols = market_columns(plan, series(delivered(snapshots, symbol)))
    for key in KEYS:
        assert_bit_identical(getattr(cols, key)[seen], expected[key][seen], f"{symbol} {key}")
    return cols


# -- real data ---------------------------------------------------------------------------------


@pytest.mark.parametrize("symbol", SYMBOLS)
def test_market_columns_match_the_scalar_state_at_every_candle(plan, snaps, symbol):
    cols = check_market(plan, symbol, snaps)
    # the comparison is not vacuous: every feature is known for most of the run
    for key in KEYS:
        assert np.isfinite(getattr(cols, key)).mean() > 0.9, key


def test_correlation_columns_match_the_scalar_tracker(plan, snaps):
    throttle = next(g for g in plan.gates.chain if g.kind == "correlation_throttle")
    params = {"window_s": throttle.params.window, "interval_s": throttle.params.return_interval}
    names = plan.ruleset.names()  # includes a symbol the data lacks
    scalar = ReturnCorrelation(names, **params)
    cols = CorrelationColumns(names, **params, candles={s: series(delivered(snaps, s)) for s in SYMBOLS})
    upto = dict.fromkeys(SYMBOLS, 0)
    known = 0
    for i, snapshot in enumerate(snaps):
        scalar.update(snapshot)
        for name, sym in snapshot.symbols.items():
            upto[name] += len(sym.candles)
        if i % 7:
            continue
        for a, b in itertools.permutations(names, 2):
            want, got = scalar.between(a, b), cols.between(a, b, upto)
            assert (want is None and got is None) or (got is not None and want.hex() == got.hex()), (i, a, b)
            known += want is not None
    assert known > 1000


# -- synthetic: gaps, repeats, non-finite, non-positive and flat stretches -----------------------


def _candle(ts, close):
    return Candle(ts, close, close, close, close, 1.0)


def synthetic_candles(seed=7):
    rng = np.random.default_rng(seed)
    out, t = [], T0

    def run(n, closes):
        nonlocal t
        for i in range(n):
            out.append(_candle(t, float(closes(i))))
            t += 60.0

    run(150, lambda i: 0.0)  # zeros: slow EMA seeds at exactly 0
    run(60, lambda i: -1.0 - 0.01 * i)  # negative closes
    walk = 100.0 * np.exp(np.cumsum(rng.normal(0, 2e-3, 4000)))
    run(200, lambda i: walk[i])
    run(120, lambda i: 100.0)  # flat
    t += 37 * 60.0  # a gap of 37 minutes
    run(50, lambda i: walk[200 + i])
    t += 125 * 60.0  # a gap longer than the 1h window
    run(3, lambda i: walk[250 + i])
    out.append(out[-1])  # the same candle again
    out.append(_candle(out[-3].ts, 1e9))  # an older candle
    out.append(_candle(t, float("nan")))  # a non-finite close
    out.append(_candle(t + 30.0, walk[260]))  # off the minute grid
    t += 60.0
    run(1500, lambda i: walk[300 + i])
    return out


def fake_plan(reversal=None, mtf=None, leader="X"):
    declared = {"ema_cross": reversal, "alignment_timeframes": mtf}
    return SimpleNamespace(
        exits=SimpleNamespace(ask=declared.get),
        ruleset=SimpleNamespace(leader=leader),
        indicators=indicators.EMPTY,
    )


@pytest.mark.parametrize("which", ["paper", "defaults", "odd windows"])
def test_market_columns_synthetic_gaps_and_non_positive_stretches(plan, which):
    chosen = {
        "paper": plan,
        "defaults": fake_plan(),
        "odd windows": fake_plan(("7m", 3, 5), ["2m", "15m", "1h"]),
    }[which]
    candles = synthetic_candles()
    snapshots = [Snapshot(c.ts + 60.0, {"S": SymbolSnapshot("S", {}, {}, None, (c,))}) for c in candles]
    cols = check_market(chosen, "S", snapshots)
    assert np.isnan(cols.price_change_pct[:210]).all()  # first close not > 0
    assert np.isnan(cols.ema_spread_pct).any() and np.isfinite(cols.ema_spread_pct).any()


def test_several_candles_per_snapshot_and_empty_series(plan):
    candles = synthetic_candles(seed=3)
    batches = [tuple(candles[i : i + 3]) for i in range(0, len(candles), 3)]
    snapshots = [Snapshot(b[-1].ts + 60.0, {"S": SymbolSnapshot("S", {}, {}, None, b)}) for b in batches]
    check_market(plan, "S", snapshots, every_candle=False)
    empty = market_columns(plan, series([]))
    assert all(len(getattr(empty, k)) == 0 for k in KEYS)


def test_ema_path_is_the_scalar_ema():
    values = np.random.default_rng(1).normal(50, 10, 300).tolist()
    for period in (1, 2, 9, 21):
        ema = Ema(period=period)
        want = []
        for i, v in enumerate(values):
            ema.update(float(i), v)
            want.append(math.nan if ema.value is None else ema.value)
        assert_bit_identical(np.array(ema_path(values, period)), np.array(want), f"period {period}")


def _corr_snapshots():
    """Two symbols: A starts non-positive and repeats/loses candles; B has gaps, a flat
    stretch and a catch-up snapshot delivering several candles."""
    rng = np.random.default_rng(11)
    common = np.cumsum(rng.normal(0, 1e-3, 3000))
    a = 50.0 * np.exp(common + np.cumsum(rng.normal(0, 5e-4, 3000)))
    b = 80.0 * np.exp(common + np.cumsum(rng.normal(0, 5e-4, 3000)))
    a[:40] = 0.0
    a[40:70] = -3.0
    b[600:900] = b[599]  # flat for 5 hours
    snapshots, pending_b = [], []
    for i in range(3000):
        t = T0 + 60.0 * i
        syms = {}
        ca = [_candle(t, float(a[i]))]
        if i == 100:
            ca.append(ca[0])  # repeated
        if i == 200:
            ca.append(_candle(t - 600.0, 1.0))  # out of order
        if i == 300:
            ca = [_candle(t, float("nan"))]
        if not 1000 <= i < 1010:  # A missing for ten snapshots
            syms["A"] = SymbolSnapshot("A", {}, {}, None, tuple(ca))
        pending_b.append(_candle(t, float(b[i])))
        if 400 <= i < 470 or 1500 <= i < 1530:  # B's feed stalls...
            pass
        elif 2000 <= i < 2200:  # ...and B loses two hours
            pending_b.clear()
        else:
            syms["B"] = SymbolSnapshot("B", {}, {}, None, tuple(pending_b))
            pending_b = []
        snapshots.append(Snapshot(t + 60.0, syms))
    return snapshots


@pytest.mark.parametrize(
    "interval_s,window_s,min_samples", [(300.0, 7200.0, 5), (60.0, 3600.0, 12), (900.0, 86400.0, 12)]
)
def test_correlation_columns_synthetic(interval_s, window_s, min_samples):
    snapshots = _corr_snapshots()
    names = ["A", "B", "C"]
    params = {"window_s": window_s, "interval_s": interval_s, "min_samples": min_samples}
    scalar = ReturnCorrelation(names, **params)
    cols = CorrelationColumns(names, **params, candles={s: series(delivered(snapshots, s)) for s in ("A", "B")})
    upto: dict[str, int] = {}
    outcomes = set()
    for snapshot in snapshots:
        scalar.update(snapshot)
        for name, sym in snapshot.symbols.items():
            upto[name] = upto.get(name, 0) + len(sym.candles)
        for x, y in [("A", "B"), ("B", "A"), ("A", "A"), ("A", "C"), ("A", "Z")]:
            want, got = scalar.between(x, y), cols.between(x, y, upto)
            assert (want is None and got is None) or (got is not None and want.hex() == got.hex()), (
                snapshot.ts,
                x,
                y,
                want,
                got,
            )
            if x == "A" and y == "B":
                outcomes.add(want is None)
    assert outcomes == {True, False}


def test_a_close_falling_to_zero_fails_both_forms():
    candles = [_candle(T0 + 60.0 * i, 10.0 if i < 20 else 0.0) for i in range(40)]
    snapshots = [Snapshot(c.ts + 60.0, {"A": SymbolSnapshot("A", {}, {}, None, (c,))}) for c in candles]
    scalar = ReturnCorrelation(["A"], window_s=3600.0, interval_s=300.0)
    with pytest.raises(ValueError):
        for snapshot in snapshots:
            scalar.update(snapshot)
    with pytest.raises(ValueError, match="A: bar ending"):
        CorrelationColumns(["A"], window_s=3600.0, interval_s=300.0, candles={"A": series(candles)})
