"""Alignment without lookahead: each value appears exactly when it was published, never a
minute earlier, and is carried forward with its own publication time."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from adapters.snapshots.history.build import build_from_spec
from adapters.snapshots.history.spec import load_spec
from engine.cli.snapshots import build_command
from engine.market.snapshot import snapshot_to_json
from engine.replay import build as sb

from .helpers import MIN, T0, Echo, candles, iso, spec, write


def _build(path):
    loaded, problems = load_spec(path)
    assert loaded is not None, problems
    snapshots, report = build_from_spec(loaded)
    assert not report.failed, [str(p) for p in report.problems]
    return list(snapshots), report


def _funding(times_rates) -> pd.DataFrame:
    """freqtrade funding layout: the rate in `open`, the rest 0."""
    return pd.DataFrame(
        [
            {
                "date": pd.Timestamp(t, unit="s", tz="UTC"),
                "open": r,
                "high": 0.0,
                "low": 0.0,
                "close": 0.0,
                "volume": 0.0,
            }
            for t, r in times_rates
        ]
    )


def test_a_candle_appears_at_its_close_with_the_price(tmp_path):
    write(tmp_path, "c.feather", candles(T0, 10))
    snapshots, _ = _build(spec(tmp_path, "symbols:\n  BTCUSDT:\n    candles: {file: c.feather}\n"))
    assert [s.ts for s in snapshots] == [T0 + (i + 1) * MIN for i in range(10)]
    for i, s in enumerate(snapshots):
        sym = s.symbols["BTCUSDT"]
        assert [c.ts for c in sym.candles] == [T0 + i * MIN]  # the candle that just closed
        assert sym.get("price") == sym.candles[0].close == 1001.0 + i
        assert sym.times["price"] == sym.times["candles_1m"] == s.ts


def test_candles_outside_the_window_are_left_out(tmp_path):
    write(tmp_path, "c.feather", candles(T0 - 5 * MIN, 20))
    snapshots, _ = _build(spec(tmp_path, "symbols:\n  BTCUSDT:\n    candles: {file: c.feather}\n", end=T0 + 3 * MIN))
    assert [s.ts for s in snapshots] == [T0 + MIN, T0 + 2 * MIN, T0 + 3 * MIN]


def test_a_funding_row_is_visible_only_from_time_plus_interval_plus_lag(tmp_path):
    write(tmp_path, "c.feather", candles(T0, 10))
    write(tmp_path, "f.feather", _funding([(T0 - 10 * MIN, 0.0005), (T0 + 3 * MIN, 0.001), (T0 + 6 * MIN, 0.002)]))
    snapshots, _ = _build(
        spec(
            tmp_path,
            """
        symbols:
          BTCUSDT:
            candles: {file: c.feather}
            funding: {file: f.feather, value: open, interval: 2m, lag: 1m}
        """,
        )
    )
    seen = {
        s.ts: (s.symbols["BTCUSDT"].get("funding_rate"), s.symbols["BTCUSDT"].times.get("funding_rate"))
        for s in snapshots
    }
    early = T0 - 10 * MIN + 3 * MIN
    assert seen[T0 + 5 * MIN] == (0.0005, early)  # 0.001 is published at T0+6m: not yet
    assert seen[T0 + 6 * MIN] == (0.001, T0 + 6 * MIN)  # exactly at publication
    assert seen[T0 + 8 * MIN] == (0.001, T0 + 6 * MIN)  # carried, with its own time
    assert seen[T0 + 9 * MIN] == (0.002, T0 + 9 * MIN)


def test_nothing_is_visible_before_the_first_publication(tmp_path):
    write(tmp_path, "c.feather", candles(T0, 10))
    write(tmp_path, "f.feather", _funding([(T0 + 3 * MIN, 0.001)]))
    snapshots, _ = _build(
        spec(
            tmp_path,
            """
        symbols:
          BTCUSDT:
            candles: {file: c.feather}
            funding: {file: f.feather, interval: 0s, lag: 30s}
        """,
        )
    )
    missing = [s.ts for s in snapshots if "funding_rate" not in s.symbols["BTCUSDT"].values]
    assert missing == [T0 + i * MIN for i in range(1, 4)]  # published T0+3m30s → first seen at T0+4m
    assert "funding_rate" not in snapshot_to_json(snapshots[0])["symbols"]["BTCUSDT"]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_no_value_is_ever_visible_before_its_publication(tmp_path, seed):
    """Random rows, intervals and lags, checked against a brute-force as-of lookup."""
    rng = np.random.default_rng(seed)
    write(tmp_path, "c.feather", candles(T0, 120))
    oi_times = np.sort(rng.choice(np.arange(T0 - 3600, T0 + 7200, 7), size=40, replace=False))
    oi = pd.DataFrame({"timestamp": oi_times * 1000, "oi_usd": rng.uniform(1e6, 2e6, size=40)})
    write(tmp_path, "oi.csv", oi)
    days = pd.date_range(iso(T0 - 3 * 86400), periods=5, freq="D").strftime("%Y-%m-%d")
    write(tmp_path, "fg.csv", pd.DataFrame({"date": days, "fng": [10, 20, 30, 40, 50]}))
    interval, lag = int(rng.integers(0, 900)), int(rng.integers(0, 600))
    snapshots, _ = _build(
        spec(
            tmp_path,
            f"""
        fear_greed: {{file: fg.csv, interval: 1d, lag: 7h}}
        symbols:
          BTCUSDT:
            candles: {{file: c.feather}}
            open_interest: {{file: oi.csv, interval: {interval}s, lag: {lag}s}}
        """,
            end=T0 + 120 * MIN,
        )
    )
    published = oi_times + interval + lag
    fg_published = [pd.Timestamp(d, tz="UTC").timestamp() + 86400 + 7 * 3600 for d in days]
    for s in snapshots:
        sym = s.symbols["BTCUSDT"]
        known = np.flatnonzero(published <= s.ts)
        if len(known) == 0:
            assert "open_interest_usd" not in sym.values
        else:
            assert sym.get("open_interest_usd") == oi["oi_usd"][known[-1]]
            assert sym.times["open_interest"] == published[known[-1]] <= s.ts
        fg_known = [i for i, p in enumerate(fg_published) if p <= s.ts]
        assert s.fear_greed == [10, 20, 30, 40, 50][fg_known[-1]]
        assert s.fear_greed_ts == fg_published[fg_known[-1]] <= s.ts


def test_liquidations_are_summed_since_the_previous_snapshot(tmp_path):
    write(tmp_path, "c.feather", candles(T0, 8))
    events = [
        (T0 - 60, "sell", 1000.0),  # published T0-30s: before the first snapshot's minute
        (T0 + MIN + 10, "sell", 100.0),  # published T0+1m40s → T0+2m, a long liquidated
        (T0 + MIN + 59, "buy", 50.0),  # published T0+2m29s → T0+3m, a short liquidated
        (T0 + 2 * MIN + 30, "SELL", 7.0),  # published exactly T0+3m: belongs to that snapshot
        (T0 + 4 * MIN + 1, "S", 5.0),
    ]  # published T0+4m31s → T0+5m; the feed's last event
    frame = pd.DataFrame(
        {
            "timestamp": [int(t * 1000) for t, _, _ in events],
            "venue": "hl",
            "coin": "BTC",
            "side": [s for _, s, _ in events],
            "size_usd": [x for _, _, x in events],
        }
    )
    write(tmp_path, "liq.parquet", frame)
    snapshots, _ = _build(
        spec(
            tmp_path,
            """
        symbols:
          BTCUSDT:
            candles: {file: c.feather}
            liquidations: {file: liq.parquet, filter: {coin: BTC}, sides: {S: short}, lag: 30s}
        """,
        )
    )
    got = {
        (s.ts - T0) // MIN: (s.symbols["BTCUSDT"].get("liq_long_usd"), s.symbols["BTCUSDT"].get("liq_short_usd"))
        for s in snapshots
    }
    assert got == {
        1: (0.0, 0.0),
        2: (100.0, 0.0),
        3: (7.0, 50.0),
        4: (0.0, 0.0),
        5: (0.0, 5.0),
        6: (None, None),
        7: (None, None),
        8: (None, None),
    }
    for s in snapshots:
        if "liq_long_usd" in s.symbols["BTCUSDT"].values:
            assert s.symbols["BTCUSDT"].times["liquidations"] == s.ts


def test_liquidation_coverage_can_be_set(tmp_path):
    write(tmp_path, "c.feather", candles(T0, 6))
    write(tmp_path, "liq.csv", pd.DataFrame({"time": [iso(T0 + 150)], "side": ["buy"], "size_usd": [9.0]}))
    snapshots, _ = _build(
        spec(
            tmp_path,
            f"""
        symbols:
          ETHUSDT:
            candles: {{file: c.feather}}
            liquidations: {{file: liq.csv, lag: 0s, coverage: {{from: "{iso(T0)}", to: "{iso(T0 + 6 * MIN)}"}}}}
        """,
            end=T0 + 6 * MIN,
        )
    )
    assert [s.symbols["ETHUSDT"].get("liq_short_usd") for s in snapshots] == [0.0, 0.0, 9.0, 0.0, 0.0, 0.0]


def test_an_unmapped_liquidation_side_is_an_error_naming_the_code(tmp_path):
    write(tmp_path, "c.feather", candles(T0, 3))
    write(tmp_path, "liq.csv", pd.DataFrame({"timestamp": [T0 + 10], "side": ["S"], "size_usd": [1.0]}))
    echo = Echo()
    path = spec(
        tmp_path, "symbols:\n  BTCUSDT:\n    candles: {file: c.feather}\n    liquidations: {file: liq.csv, lag: 0s}\n"
    )
    assert build_command(path, tmp_path / "out.snapshots.parquet", echo) == 1
    assert "liq.csv" in echo.text and "'S'" in echo.text and "sides:" in echo.text
    assert not (tmp_path / "out.snapshots.parquet").exists()


def test_mark_shares_price_time_and_never_claims_to_be_fresher(tmp_path):
    write(tmp_path, "c.feather", candles(T0, 5))
    mark = pd.DataFrame(
        {
            "date": pd.to_datetime([T0 - 3600, T0], unit="s", utc=True),  # 1h mark candles
            "open": [99.0, 98.0],
            "high": [101.0, 99.0],
            "low": [98.0, 97.0],
            "close": [100.0, 98.5],
            "volume": [0.0, 0.0],
        }
    )
    write(tmp_path, "m.feather", mark)
    snapshots, _ = _build(
        spec(
            tmp_path,
            """
        symbols:
          BTCUSDT:
            candles: {file: c.feather}
            mark: {file: m.feather, interval: 1h, lag: 0s}
        """,
            end=T0 + 5 * MIN,
        )
    )
    sym = snapshots[0].symbols["BTCUSDT"]
    assert sym.get("mark") == 100.0 and sym.times["price"] == T0  # the mark of the hour before, published at T0


def test_taker_volume_from_a_filtered_parquet(tmp_path):
    write(tmp_path, "c.feather", candles(T0, 5))
    write(
        tmp_path,
        "tv.parquet",
        pd.DataFrame(
            {
                "timestamp": pd.to_datetime([T0, T0, T0 + 120], unit="s", utc=True),
                "coin": ["BTC", "ETH", "BTC"],
                "buyVol": [1.0, 99.0, 3.0],
                "sellVol": [2.0, 99.0, 4.0],
            }
        ),
    )
    snapshots, _ = _build(
        spec(
            tmp_path,
            """
        symbols:
          BTCUSDT:
            candles: {file: c.feather}
            taker_volume: {file: tv.parquet, filter: {coin: BTC}, interval: 1m, lag: 0s}
        """,
            end=T0 + 5 * MIN,
        )
    )
    got = [(s.symbols["BTCUSDT"].get("taker_buy_usd"), s.symbols["BTCUSDT"].get("taker_sell_usd")) for s in snapshots]
    assert got == [(1.0, 2.0), (1.0, 2.0), (3.0, 4.0), (3.0, 4.0), (3.0, 4.0)]


def test_a_symbol_without_a_candle_that_minute_is_absent_and_liquidations_roll_on(tmp_path):
    frame = candles(T0, 6).drop(index=[2, 3])  # minutes T0+2m, T0+3m missing
    write(tmp_path, "c.feather", frame)
    write(tmp_path, "e.feather", candles(T0, 6).drop(index=[3]))
    write(
        tmp_path,
        "liq.csv",
        pd.DataFrame({"timestamp": [T0 + 30, T0 + 150, T0 + 330], "side": ["buy"] * 3, "size_usd": [1.0, 2.0, 3.0]}),
    )
    snapshots, _ = _build(
        spec(
            tmp_path,
            """
        symbols:
          BTCUSDT:
            candles: {file: c.feather}
            liquidations: {file: liq.csv, lag: 0s}
          ETHUSDT: {candles: {file: e.feather}}
        """,
            end=T0 + 6 * MIN,
        )
    )
    assert [(s.ts - T0) // MIN for s in snapshots] == [1, 2, 3, 5, 6]  # T0+4m: nobody
    btc = {(s.ts - T0) // MIN: s.symbols["BTCUSDT"].get("liq_short_usd") for s in snapshots if "BTCUSDT" in s.symbols}
    assert btc == {1: 1.0, 2: 0.0, 5: 2.0, 6: 3.0}  # T0+150 s waited for T0+5m


def _inputs(rng, missing: set[int], n: int = 40) -> sb.SymbolInputs:
    """A symbol with gaps in its candles, an 8-minute funding series and liquidation events."""
    minutes = np.array([k for k in range(n) if k not in missing], dtype=float)
    times = T0 + minutes * MIN
    candle = sb.Rows(times, {c: rng.uniform(90, 110, len(times)) for c in sb.CANDLE_COLUMNS})
    stamps = T0 + np.arange(0, n, 8, dtype=float) * MIN
    funding = sb.publish(sb.Rows(stamps, {"funding_rate": rng.normal(0, 1e-4, len(stamps))}), interval=0.0, lag=60.0)
    when = np.sort(rng.uniform(T0 - MIN, T0 + n * MIN, 25))
    liq = sb.events(when, rng.uniform(0, 50, 25), rng.uniform(0, 50, 25), lag=30.0)
    return sb.SymbolInputs(candle, {"funding": funding}, liq)


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 16])
def test_snapshots_made_in_chunks_equal_one_pass(chunk):
    """The objects are made a chunk at a time (bounded memory): chunk borders change nothing,
    a symbol absent from a whole chunk included, and liquidations keep rolling on across them."""
    rng = np.random.default_rng(chunk)
    symbols = {"BTCUSDT": _inputs(rng, {3, 4, 5, 6, 7, 20}), "ETHUSDT": _inputs(rng, {0, 9, 10, 11, 12, 13, 30})}
    fear = sb.publish(
        sb.Rows(np.array([T0 - 86400, T0], dtype=float), {"fear_greed": np.array([20.0, 30.0])}),
        interval=86400.0,
        lag=0.0,
    )
    start, end = T0 - MIN, T0 + 40 * MIN
    whole = [snapshot_to_json(s) for s in sb.build_snapshots(start, end, symbols, fear, chunk=10_000)]
    chunked = [snapshot_to_json(s) for s in sb.build_snapshots(start, end, symbols, fear, chunk=chunk)]
    assert chunked == whole
    assert len(whole) == 40 and {len(s["symbols"]) for s in whole} == {1, 2}
