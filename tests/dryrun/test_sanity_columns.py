"""The sanity layer's column form (engine/replay/columns/sanity.py) agrees with its scalar
form (engine/market/sanity.py): on random dense recordings with random injections — far
outside the bounds, just outside, just inside — ``check_sane`` passes only where a
MarketScreen over the same snapshots refuses nothing, and it passes wherever every value is
more than its MARGIN inside the bounds. Where it passes, the fast path gives the scalar
path's result."""

from __future__ import annotations

import dataclasses
import functools
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.language.compiler import compile_ruleset
from engine.market.sanity import CAPPED, MINUTE, MarketScreen
from engine.market.snapshot import parse_snapshot
from engine.replay.columns.sanity import MARGIN, check_sane
from engine.replay.recording import NotReplayable, recording_from_snapshots
from tests.dryrun.test_fast_path import _assert_same, _columns, _richer, _scalar
from tests.lifecycle.market import snapshots as synthetic

ROOT = Path(__file__).resolve().parents[2]
SYMBOLS = ("BTCUSDT", "ETHUSDT", "SOLUSDT")
#: how far along a bound a value is put: inside, a hair inside or outside, far outside
SCALES = (0.5, 0.999, 1 - 1e-6, 1 - 1e-12, 1.0, 1 + 1e-12, 1 + 1e-6, 1.001, 3.0)
#: every input a recording holds (implied skew sends a file to the scalar path before the screen matters)
KINDS = (
    "price",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "mark",
    "bid",
    "ask",
    *sorted(set(CAPPED) - {"implied_skew"}),
)


@functools.cache
def _plan():
    return compile_ruleset(str(ROOT / "rules"), ["paper"]).plans["paper"]


def _bounds():
    return _plan().requirements.market_data


def _tightened(bounds, by: float):
    """The bounds moved inward by the relative amount ``by`` (log bounds by their logarithm)."""
    shrink = {name: getattr(bounds, name) * (1 - by) for name in set(CAPPED.values())}
    for name in ("price_move_pct", "quote_band_pct"):
        shrink[name] = math.expm1(math.log1p(getattr(bounds, name) / 100) * (1 - by)) * 100
    shrink["max_flow_usd"] = bounds.max_flow_usd * (1 - by)
    return dataclasses.replace(bounds, **shrink)


def _market(minutes: int, seed: int) -> list[dict]:
    """The synthetic market with every input the screen checks, in every snapshot."""
    out = []
    for snap in _richer(synthetic(minutes, seed)):
        symbols = {name: {**sym, "exchange_netflow_usd": -2e6} for name, sym in snap["symbols"].items()}
        out.append({**snap, "symbols": symbols})
    return out


def _inject(raw: list[dict], row: int, symbol: str, kind: str, scale: float, sign: int) -> None:
    """Put one value at ``scale`` × its bound (in the bound's own terms) at ``row``."""
    bounds = _bounds()
    sym = raw[row]["symbols"][symbol]
    candle = sym["candles"][0]
    if kind == "price":  # a move from the previous row's price
        before = raw[row - 1]["symbols"][symbol]["price"]
        sym["price"] = before * math.exp(sign * scale * math.log1p(bounds.price_move_pct / 100))
    elif kind in ("open", "high", "low", "close"):  # against the row's own price, one minute on
        sign = {"high": 1, "low": -1}.get(kind, sign)  # a high above, a low below: the candle stays valid
        candle[("open", "high", "low", "close").index(kind) + 1] = sym["price"] * math.exp(
            sign * scale * math.log1p(bounds.price_move_pct / 100)
        )
        candle[2], candle[3] = max(candle[1:5]), min(candle[1:5])
    elif kind == "volume":
        candle[5] = bounds.max_flow_usd * scale / candle[4]
    elif kind in ("mark", "bid", "ask"):
        sym[kind] = sym["price"] * math.exp(sign * scale * math.log1p(bounds.quote_band_pct / 100))
    else:
        value = getattr(bounds, CAPPED[kind]) * scale
        sym[kind] = -value if sign < 0 and kind == "exchange_netflow_usd" else value


def _shift(raw: list[dict], row: int, symbol: str, factor: float) -> None:
    """Every price of ``symbol`` from ``row`` on times ``factor``."""
    for snap in raw[row:]:
        sym = snap["symbols"][symbol]
        for name in ("price", "mark", "bid", "ask"):
            sym[name] *= factor
        sym["candles"] = [[c[0], *(v * factor for v in c[1:5]), c[5]] for c in sym["candles"]]


def _refuses_any(snapshots, bounds) -> bool:
    screen = MarketScreen(bounds)
    return any(screen.screen(s).refusals for s in snapshots)


def _passes(snapshots, bounds) -> bool:
    try:
        check_sane(recording_from_snapshots(snapshots), bounds)
    except NotReplayable as error:
        assert "may be refused by the sanity layer" in str(error)
        return False
    return True


injection = st.tuples(
    st.integers(1, 59),
    st.sampled_from(SYMBOLS),
    st.sampled_from(KINDS),
    st.sampled_from(SCALES),
    st.sampled_from((1, -1)),
)


def _assert_agree(raw: list[dict]) -> None:
    snapshots = [parse_snapshot(s)[0] for s in raw]
    bounds = _bounds()
    passes = _passes(snapshots, bounds)
    if passes:  # never calls clean what the scalar screen would refuse
        assert not _refuses_any(snapshots, bounds)
    if not _refuses_any(snapshots, _tightened(bounds, 2 * MARGIN)):  # refuses only within MARGIN of a bound
        assert passes


@pytest.mark.parametrize("sign", [1, -1])
@pytest.mark.parametrize("kind", KINDS)
def test_one_value_at_every_distance_from_its_bound_is_judged_alike(kind, sign):
    for scale in SCALES:
        raw = _market(30, 2)
        _inject(raw, 12, "SOLUSDT", kind, scale, sign)
        _assert_agree(raw)


@settings(max_examples=120, deadline=None, derandomize=True, database=None)
@given(seed=st.integers(1, 50), injections=st.lists(injection, max_size=3))
def test_check_sane_passes_exactly_when_the_scalar_screen_refuses_nothing(seed, injections):
    raw = _market(60, seed)
    for row, symbol, kind, scale, sign in injections:
        _inject(raw, row, symbol, kind, scale, sign)
    _assert_agree(raw)


@pytest.mark.parametrize("kind", KINDS)
def test_each_input_far_outside_is_caught_and_just_inside_passes(kind):
    raw = _market(30, 3)
    _inject(raw, 20, "ETHUSDT", kind, 1.5, -1)
    snapshots = [parse_snapshot(s)[0] for s in raw]
    assert _refuses_any(snapshots, _bounds()) and not _passes(snapshots, _bounds())
    raw = _market(30, 3)
    if kind == "price":  # just inside: a genuine level shift, every later reading with it
        _shift(raw, 20, "ETHUSDT", math.exp(-0.98 * math.log1p(_bounds().price_move_pct / 100)))
    else:
        _inject(raw, 20, "ETHUSDT", kind, 0.98, -1)
    snapshots = [parse_snapshot(s)[0] for s in raw]
    assert not _refuses_any(snapshots, _bounds()) and _passes(snapshots, _bounds())


def test_the_elapsed_time_bound_agrees_across_a_gap():
    """Snapshots five minutes apart: a move allowed only by the √minutes growth passes both."""
    bounds = _bounds()
    raw = _market(40, 2)[::5]
    allowed = math.log1p(bounds.price_move_pct / 100) * math.sqrt(5 * MINUTE / MINUTE)
    for k, snap in enumerate(raw):
        sym = snap["symbols"]["BTCUSDT"]
        sym["price"] = 100_000.0 * math.exp(0.9 * allowed * (k % 2))
        sym["candles"] = [[snap["ts"] - 60, sym["price"], sym["price"], sym["price"], sym["price"], 1.0]]
        sym["mark"] = sym["bid"] = sym["ask"] = sym["price"]
    snapshots = [parse_snapshot(s)[0] for s in raw]
    assert not _refuses_any(snapshots, bounds) and _passes(snapshots, bounds)


@pytest.mark.parametrize("seed", [1, 4])
def test_where_check_sane_passes_the_fast_path_gives_the_scalar_result(seed):
    """A synthetic market with values just inside the bounds (a fall of 19 % in a minute, a mark
    9.9 % off, a funding rate at 99 % of the cap, a candle a hair inside): not one refusal,
    the fast path is taken, and it yields the scalar path's result."""
    plan = _plan()
    raw = _richer(synthetic(240, seed))
    _shift(raw, 100, "ETHUSDT", math.exp(-0.95 * math.log1p(_bounds().price_move_pct / 100)))
    for row, symbol, kind in ((150, "BTCUSDT", "mark"), (180, "SOLUSDT", "low")):
        _inject(raw, row, symbol, kind, 0.99, -1)
    for snap in raw[120:140]:
        snap["symbols"]["BTCUSDT"]["funding_rate"] = 0.99 * _bounds().funding_rate_cap
    market = [parse_snapshot(s)[0] for s in raw]
    recording = recording_from_snapshots(market)
    check_sane(recording, plan.requirements.market_data)
    scalar = _scalar(plan, market)
    assert scalar["market_data"] == {"refused": 0, "by_input": {}, "first": [], "states": []}
    assert scalar["metrics"]["trades"] >= 3
    fast = _columns(plan, recording)
    _assert_same(fast, scalar)
    assert fast["market_data"] == scalar["market_data"]
