"""Column path of the candle-fed components (docs/dry-run.md): each kind's column form
(engine/replay/columns/components/) must give,
after EVERY candle k, exactly what the scalar path gives after feeding the same k+1
candles through ``module.update`` — direction code, confidence, the full Answer (reasons,
inputs) and the exports, compared bit for bit (floats by ``float.hex``).

Data: the first 6,000 snapshots of the bundled real sample (BTCUSDT leader, ETHUSDT
follower) and a synthetic recording built to hit the edge cases (flat stretches, one-way
stretches, repeated closes, gaps, re-delivered and stale candles, several candles per
snapshot, leader candles missing), with the rules' own components and with tiny windows.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
import random

import numpy as np
import pytest

from adapters.snapshots.columnar import read_columnar
from engine.replay.columns import components as column_forms
from engine.replay.columns.candles import DIRECTION_CODE, CandleSeries
from engine.trading.signals.answer import Answer
from engine.trading.signals.components import hurst, lead_lag, volatility_skew
from tests.signals.helpers import FOLLOWER, LEADER, MIN, PROFILES, ROOT, T0, plan, snap

MODULES = {"hurst": hurst, "volatility_skew": volatility_skew, "lead_lag": lead_lag}
SAMPLE = ROOT / "data" / "sample" / "sample.snapshots.parquet"
SAMPLE_SNAPSHOTS = 6000


def rule_component(profile: str, kind: str):
    return next(c for c in plan(profile).signals.components if c.kind == kind)


def with_params(component, **params):
    return dataclasses.replace(component, params=dataclasses.replace(component.params, **params))


# -- building both sides ----------------------------------------------------------------


def series(snapshots, name: str, leader: str | None):
    """The symbol's candles in delivery order, and lead_close as the dry-run builds it:
    the leader's close for the same open ts in the same snapshot (NaN where none), or
    None when the symbol is the leader or there is no leader."""
    rows, lead = [], []
    for s in snapshots:
        sym = s.symbols.get(name)
        if sym is None:
            continue
        ld = s.symbols.get(leader) if leader else None
        closes = {}
        for c in ld.candles if ld is not None else ():
            closes.setdefault(c.ts, c.close)
        for c in sym.candles:
            rows.append((c.ts, c.open, c.high, c.low, c.close, c.volume))
            lead.append(closes.get(c.ts, math.nan))
    a = np.array(rows, dtype=np.float64).reshape(-1, 6)
    candles = CandleSeries(*(a[:, i].copy() for i in range(6)))
    return candles, (None if leader is None or name == leader else np.array(lead, dtype=np.float64))


def scalar(module, component, snapshots, name: str, leader: str | None):
    """(answers, exports) of the scalar path after each candle. Each candle is fed as a
    one-candle copy of its symbol snapshot (the update loops over candles with nothing
    kept per snapshot); a second state fed whole snapshots must agree at snapshot ends."""
    state, whole = module.new_state(component), module.new_state(component)
    answers, exports = [], []
    for s in snapshots:
        sym = s.symbols.get(name)
        if sym is None:
            continue
        ld = s.symbols.get(leader) if leader else None
        for c in sym.candles:
            module.update(state, s, dataclasses.replace(sym, candles=(c,)), ld)
            answers.append(module.evaluate(component, state))
            exports.append(module.exports(state))
        module.update(whole, s, sym, ld)
        if sym.candles:
            assert bits(module.evaluate(component, whole)) == bits(answers[-1])
            assert bits(module.exports(whole)) == bits(exports[-1])
    return answers, exports


def bits(x):
    """A float-exact fingerprint (hex floats: -0.0 ≠ 0.0, and 1 ulp shows)."""
    if isinstance(x, Answer):
        return (x.direction, bits(x.confidence), x.reasons, bits(dict(x.inputs)))
    if isinstance(x, dict):
        return {k: bits(v) for k, v in x.items()}
    if isinstance(x, float):
        return ("float", x.hex())
    return (type(x).__name__, x)


def assert_columns_match(module, component, snapshots, name: str, leader: str | None):
    candles, lead_close = series(snapshots, name, leader)
    answers, exports = scalar(module, component, snapshots, name, leader)
    cols = column_forms.COLUMN_FORMS[module.KIND].columns(component, candles, lead_close)
    m = len(answers)
    assert len(candles) == m
    assert cols.direction.dtype == np.int8 and cols.direction.shape == (m,)
    assert cols.confidence.dtype == np.float64 and cols.confidence.shape == (m,)
    want_direction = np.array([DIRECTION_CODE[a.direction] for a in answers], dtype=np.int8)
    want_confidence = np.array([a.confidence for a in answers], dtype=np.float64)
    bad = np.flatnonzero(cols.direction != want_direction)
    assert len(bad) == 0, f"direction differs at {len(bad)} candles, first k={bad[0]}: {answers[bad[0]]}"
    assert cols.confidence.tobytes() == want_confidence.tobytes()
    for k in range(m):
        assert bits(cols.answer_at(k)) == bits(answers[k]), k
        assert cols.answer_at(k) == answers[k], k
        assert bits(cols.exports_at(k)) == bits(exports[k]), k
    return answers


def reasons(answers) -> set[str]:
    return {a.reasons[0] for a in answers}


# -- real data ------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def sample():
    return tuple(itertools.islice(read_columnar(SAMPLE), SAMPLE_SNAPSHOTS))


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("kind", sorted(MODULES))
def test_follower_on_the_sample_matches_the_scalar_path(kind, profile):
    answers = assert_columns_match(MODULES[kind], rule_component(profile, kind), sample(), FOLLOWER, LEADER)
    assert len(answers) == SAMPLE_SNAPSHOTS
    assert len(reasons(answers)) >= 2  # the check covers more than warm-up


@pytest.mark.parametrize("kind", sorted(MODULES))
def test_leader_on_the_sample_matches_the_scalar_path(kind):
    answers = assert_columns_match(MODULES[kind], rule_component("paper", kind), sample(), LEADER, LEADER)
    if kind == "lead_lag":  # the leader never feeds its own state
        assert reasons(answers) == {"warming_up"}


def test_lead_lag_without_a_leader_is_warming_up_throughout():
    component = rule_component("paper", "lead_lag")
    answers = assert_columns_match(lead_lag, component, sample()[:500], FOLLOWER, None)
    assert reasons(answers) == {"warming_up"}


# -- synthetic edge cases -------------------------------------------------------------------


def row(ts: float, prev: float, close: float) -> list:
    return [ts, prev, max(prev, close), min(prev, close), close, 1.0]


@functools.cache
def synthetic(seed: int = 7, scale: int = 1):
    """ETH and BTC over ~3,400 minutes (``scale`` shrinks the regimes for tiny windows)."""
    rnd = random.Random(seed)
    btc_ret, eth_ret = [], []

    def regime(n, lead, follow):
        for _ in range(max(1, n // scale)):
            btc_ret.append(lead())
            eth_ret.append(follow())

    def gauss(s):
        return lambda: rnd.gauss(0.0, s)

    def zero():
        return 0.0

    regime(400, gauss(0.001), gauss(0.001))  # independent noise
    regime(300, zero, zero)  # both flat: zero returns everywhere
    regime(300, lambda: abs(rnd.gauss(0, 0.001)), lambda: abs(rnd.gauss(0, 0.001)))  # only up
    regime(300, lambda: -abs(rnd.gauss(0, 0.001)), lambda: -abs(rnd.gauss(0, 0.002)))  # only down
    regime(300, gauss(0.002), zero)  # leader moves, follower flat
    regime(300, lambda: rnd.choice((0.0, 0.0, 0.001, -0.001)), lambda: rnd.choice((0.0, 0.002, -0.002)))
    regime(300, lambda: 0.003 * rnd.choice((1, -1)), lambda: 0.0)
    n0 = len(btc_ret)
    regime(700, gauss(0.0015), zero)  # follower echoes the leader 2 minutes later
    for i in range(n0, len(eth_ret)):
        eth_ret[i] = btc_ret[i - 2] + rnd.gauss(0.0, 0.0002)
    regime(200, zero, gauss(0.001))  # leader flat, follower moves

    btc, eth = [40_000.0], [2_000.0]
    for rb, re_ in zip(btc_ret, eth_ret):
        btc.append(btc[-1] * math.exp(rb))
        eth.append(eth[-1] * math.exp(re_))
    # repeated closes exactly (not via exp): toggle between two prices for a stretch
    for i in range(len(eth) // 2, len(eth) // 2 + 80 // scale):
        eth[i] = 2_000.0 if i % 3 else 2_000.5
        btc[i] = 40_000.0 if i % 2 else 40_010.0

    snaps, i, minute = [], 1, 0
    prev_eth_ts = None
    while i < len(eth):
        pick = rnd.random()
        if pick < 0.03:  # a gap: minutes with no candle at all
            minute += rnd.randint(1, 5)
        batch = 1 if pick < 0.8 else rnd.randint(2, 3)  # sometimes several candles at once
        eth_rows, btc_rows = [], []
        if prev_eth_ts is not None and rnd.random() < 0.03:  # re-delivered last candle (refused)
            eth_rows.append(row(prev_eth_ts, eth[i - 2], eth[i - 1] * 1.001))
        for _ in range(batch):
            if i >= len(eth):
                break
            ts = T0 + minute * MIN
            eth_rows.append(row(ts, eth[i - 1], eth[i]))
            if rnd.random() > 0.04:  # leader candle missing now and then
                btc_rows.append(row(ts, btc[i - 1], btc[i]))
            prev_eth_ts, i, minute = ts, i + 1, minute + 1
        symbols = {FOLLOWER: {"candles": eth_rows}}
        if btc_rows:
            symbols[LEADER] = {"candles": btc_rows}
        end = max(r[0] for r in eth_rows) + MIN
        snaps.append(snap(end, symbols))
        if rnd.random() < 0.02:  # a stale candle from long ago (refused)
            old = T0 + max(0, minute - 50) * MIN
            snaps.append(
                snap(
                    end,
                    {
                        FOLLOWER: {"candles": [row(old, eth[i - 1], eth[i - 1] * 1.01)]},
                        LEADER: {"candles": [row(old, btc[i - 1], btc[i - 1])]},
                    },
                )
            )
        if rnd.random() < 0.01:  # a snapshot without the follower
            snaps.append(snap(end, {LEADER: {"price": btc[i - 1]}}))
    return tuple(snaps)


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("kind", sorted(MODULES))
def test_synthetic_edge_cases_match_the_scalar_path(kind, profile):
    answers = assert_columns_match(MODULES[kind], rule_component(profile, kind), synthetic(), FOLLOWER, LEADER)
    assert len(reasons(answers)) >= 3


TINY = [
    ("hurst", {"window": 32, "recompute_every": 1, "trend_lookback": 3}),
    ("hurst", {"window": 40, "recompute_every": 7, "trend_lookback": 1}),
    ("volatility_skew", {"window": 2}),
    ("volatility_skew", {"window": 7}),
    ("lead_lag", {"window": 3, "max_lag": 1}),
    ("lead_lag", {"window": 5, "max_lag": 3}),
]


@pytest.mark.parametrize("kind, params", TINY)
def test_tiny_windows_match_the_scalar_path(kind, params):
    """Tiny windows turn the synthetic regimes into many window-wide flat or one-way
    stretches: every reset of a running sum, every None in between."""
    component = with_params(rule_component("paper", kind), **params)
    assert_columns_match(MODULES[kind], component, synthetic(seed=11, scale=10), FOLLOWER, LEADER)


@pytest.mark.parametrize("kind", sorted(MODULES))
def test_an_empty_series_gives_empty_columns(kind):
    empty = CandleSeries(*(np.zeros(0) for _ in range(6)))
    cols = column_forms.COLUMN_FORMS[kind].columns(rule_component("paper", kind), empty, np.zeros(0))
    assert cols.direction.shape == cols.confidence.shape == (0,)


@pytest.mark.parametrize("length", [1, 2, 5, 30, 119, 120, 121, 122, 239, 240, 241, 242, 256, 257, 300])
@pytest.mark.parametrize("kind", sorted(MODULES))
def test_series_shorter_or_just_longer_than_the_window_match_the_scalar_path(kind, length):
    """A recording may be shorter than a component's window (a short dry-run window, a new
    symbol): every length around the default windows (120, 240, 256) gives the scalar answers."""
    assert_columns_match(MODULES[kind], rule_component("paper", kind), sample()[:length], FOLLOWER, LEADER)
