"""`rulebot snapshots from-freqtrade`: a freqtrade futures data folder (the feather files of
`freqtrade download-data`) as snapshots — one per candle every pair has, at its close, with
the mark of its hour and the last funding rate dated at or before its open — and every kind
of bad input refused or cleaned with a message, never a crash, never a partial file."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from adapters.snapshots.columnar import read_columnar, read_recording
from engine.cli import main
from engine.cli.snapshots import from_freqtrade_command, info_command
from engine.market.snapshot import parse_snapshot
from tests.dryrun.paused_child import HUNG, start_paused

from .helpers import Echo

ROOT = Path(__file__).resolve().parents[2]
REAL = ROOT.parent / "shared" / "data" / "raw" / "harthor-marketlab" / "user_data" / "data" / "binance" / "futures"

H = 3600
T0 = 1_748_131_200  # 2025-05-25 00:00:00 UTC
BTC, ETH = "BTC/USDT:USDT", "ETH/USDT:USDT"


def when(ts: float) -> pd.Timestamp:
    return pd.Timestamp(ts, unit="s", tz="UTC")


def candle_frame(times: list[int], base: float = 100.0) -> pd.DataFrame:
    """freqtrade's candle layout; the values depend on the time only (k = minutes after T0)."""
    k = [(t - T0) / 60 for t in times]
    return pd.DataFrame(
        {
            "date": [when(t) for t in times],
            "open": [base + x for x in k],
            "high": [base + 2 + x for x in k],
            "low": [base - 1 + x for x in k],
            "close": [base + 1 + x for x in k],
            "volume": [10.0 + x for x in k],
        }
    )


def series_frame(rows: list[tuple[int, float]]) -> pd.DataFrame:
    """A funding-rate or mark file: the value in `open`, the other columns as freqtrade fills them."""
    return pd.DataFrame(
        {
            "date": [when(t) for t, _ in rows],
            "open": [v for _, v in rows],
            "high": 0.0,
            "low": 0.0,
            "close": 0.0,
            "volume": 0.0,
        }
    )


def put(folder: Path, name: str, frame: pd.DataFrame) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    frame.reset_index(drop=True).to_feather(folder / name)
    return folder / name


def run(folder: Path, out: Path, pairs: Any = f"{BTC},{ETH}", timeframe: str = "5m", **kw: Any) -> tuple[int, str]:
    echo = Echo()
    return from_freqtrade_command(folder, pairs, timeframe, out, echo, **kw), echo.text


def cli(*args: str) -> Any:
    return CliRunner().invoke(main, ["snapshots", "from-freqtrade", *map(str, args)])


def expected(at: float, step: int, per_symbol: dict[str, dict[str, Any]]) -> Any:
    """The snapshot a candle opening at ``at`` must give (the shape, written out by hand)."""
    symbols = {}
    for symbol, v in per_symbol.items():
        o, h, low, c, vol = v["candle"]
        values: dict[str, Any] = {"price": c, "candles": [[at, o, h, low, c, vol]], "candles_1m_ts": at + step}
        if "mark" in v:
            values["mark"] = v["mark"]
        if "funding" in v:
            values["funding_rate"], values["funding_rate_ts"] = v["funding"]
        symbols[symbol] = values
    snapshot, problems = parse_snapshot({"ts": at + step, "symbols": symbols})
    assert not problems
    return snapshot


def ohlcv(t: int, base: float = 100.0) -> tuple[float, ...]:
    x = (t - T0) / 60
    return (base + x, base + 2 + x, base - 1 + x, base + 1 + x, 10.0 + x)


def nothing_written(out: Path) -> bool:
    """Neither the output nor its temporary file."""
    return not out.parent.exists() or (not out.exists() and not any(out.parent.glob(f".{out.name}*")))


# ------------------------------------------------------------------ the shape


@pytest.fixture
def folder(tmp_path) -> Path:
    """Two pairs of 5m candles over two hours. ETH lacks 00:30 and has 02:00 (times BTC lacks);
    BTC's mark has only the first hour; BTC's funding is at 16:00 the day before and 00:40;
    ETH has neither funding nor mark file."""
    data = tmp_path / "user_data" / "data" / "binance" / "futures"
    btc_times = [T0 + i * 300 for i in range(24)]  # 00:00 … 01:55
    eth_times = [t for t in btc_times if t != T0 + 1800] + [T0 + 2 * H]
    put(data, "BTC_USDT_USDT-5m-futures.feather", candle_frame(btc_times, 100.0))
    put(data, "ETH_USDT_USDT-5m-futures.feather", candle_frame(eth_times, 50.0))
    put(data, "BTC_USDT_USDT-1h-mark.feather", series_frame([(T0, 101.5)]))
    put(data, "BTC_USDT_USDT-1h-funding_rate.feather", series_frame([(T0 - 8 * H, 0.0001), (T0 + 2400, -0.0002)]))
    return data


def test_one_snapshot_per_common_candle_at_its_close_with_mark_and_funding(folder, tmp_path):
    out = tmp_path / "ft.snapshots.parquet"
    code, text = run(folder, out)
    assert code == 0, text
    got = list(read_columnar(out))
    times = [T0 + i * 300 for i in range(24) if i != 6]  # the common open times
    assert [s.ts for s in got] == [t + 300 for t in times]
    for snapshot, t in zip(got, times):
        btc: dict[str, Any] = {"candle": ohlcv(t, 100.0)}
        if t < T0 + H:
            btc["mark"] = 101.5  # the mark of the hour; the second hour has no mark row
        btc["funding"] = (-0.0002, T0 + 2400) if t >= T0 + 2400 else (0.0001, T0 - 8 * H)
        assert snapshot == expected(t, 300, {"BTCUSDT": btc, "ETHUSDT": {"candle": ohlcv(t, 50.0)}}), t
    at_funding = got[times.index(T0 + 2400)].symbols["BTCUSDT"]  # at or before: the candle opening at 00:40
    assert at_funding.get("funding_rate") == -0.0002 and at_funding.times["funding_rate"] == T0 + 2400
    assert "wrote" in text and "23 snapshots, 46 rows" in text
    assert "23 5m candle(s) every pair has, opening 2025-05-25 00:00 → 2025-05-25 01:55" in text
    assert "ETH_USDT_USDT-1h-funding_rate.feather: warning: no such file" in text
    assert "ETH_USDT_USDT-1h-mark.feather: warning: no such file" in text
    assert "BTC_USDT_USDT-5m-futures.feather: info: 1 candle(s) at times another pair has no candle at" in text
    assert "ETH_USDT_USDT-5m-futures.feather: info: 1 candle(s)" in text
    read_recording(out)  # the dry-run's fast path takes it


def test_an_hourly_timeframe_takes_the_mark_of_its_own_hour(tmp_path):
    data = tmp_path / "futures"
    times = [T0 + i * H for i in range(10)]
    put(data, "BTC_USDT_USDT-1h-futures.feather", candle_frame(times))
    put(data, "BTC_USDT_USDT-1h-mark.feather", series_frame([(t, 200.0 + i) for i, t in enumerate(times) if i != 3]))
    put(data, "BTC_USDT_USDT-1h-funding_rate.feather", series_frame([(T0 + 8 * H, 0.0003), (T0, 0.0001)]))  # unsorted
    out = tmp_path / "h.snapshots.parquet"
    code, text = run(data, out, BTC, "1h")
    assert code == 0, text
    assert "dates not in time order; sorted" in text
    got = list(read_columnar(out))
    want = []
    for i, t in enumerate(times):
        v: dict[str, Any] = {"candle": ohlcv(t), "funding": (0.0003, T0 + 8 * H) if i >= 8 else (0.0001, T0)}
        if i != 3:
            v["mark"] = 200.0 + i
        want.append(expected(t, H, {"BTCUSDT": v}))
    assert got == want
    assert got[0].symbols["BTCUSDT"].times["candles_1m"] == T0 + H


def test_symbols_name_the_pairs_in_order_and_info_says_where_the_file_came_from(folder, tmp_path):
    out = tmp_path / "named.snapshots.parquet"
    code, text = run(folder, out, f"{ETH},{BTC}", symbols="ETH,XBT")
    assert code == 0, text
    first = next(iter(read_columnar(out)))
    assert sorted(first.symbols) == ["ETH", "XBT"] and first.symbols["XBT"].get("price") == ohlcv(T0)[3]
    echo = Echo()
    assert info_command([out], echo) == 0
    assert (
        "built:     from freqtrade data binance/futures (5m candles of ETH/USDT:USDT as ETH, BTC/USDT:USDT as XBT)"
        in echo.text
    )


def test_a_pair_without_funding_or_mark_file_goes_without(folder, tmp_path):
    (folder / "BTC_USDT_USDT-1h-funding_rate.feather").unlink()
    (folder / "BTC_USDT_USDT-1h-mark.feather").rename(folder / "BTC_USDT_USDT-8h-mark.feather")
    out = tmp_path / "bare.snapshots.parquet"
    code, text = run(folder, out, BTC)
    assert code == 0, text
    assert "the snapshots of BTC/USDT:USDT carry no funding_rate" in text
    assert "(BTC_USDT_USDT-8h-mark.feather there: only 1h files are read)" in text
    btc = next(iter(read_columnar(out))).symbols["BTCUSDT"]
    assert btc.get("mark") is None and btc.get("funding_rate") is None and btc.get("price") == ohlcv(T0)[3]


# ------------------------------------------------------------------ rows cleaned


def test_bad_prices_are_dropped_counted_and_never_traded_on(folder, tmp_path):
    frame = candle_frame([T0 + i * 300 for i in range(24)])
    frame.loc[2, "close"] = np.nan
    frame.loc[3, "open"] = 0.0
    frame.loc[4, "high"] = np.inf
    frame.loc[5, "volume"] = -1.0
    frame.loc[7, "low"] = frame.loc[7, "close"] + 5  # low above the close
    put(folder, "BTC_USDT_USDT-5m-futures.feather", frame)
    put(folder, "BTC_USDT_USDT-1h-mark.feather", series_frame([(T0, -3.0), (T0 + H, 150.0)]))
    funding = series_frame([(T0 - 8 * H, 0.0001), (T0 + 2400, float("nan"))])
    put(folder, "BTC_USDT_USDT-1h-funding_rate.feather", funding)
    out = tmp_path / "clean.snapshots.parquet"
    code, text = run(folder, out)
    assert code == 0, text
    assert (
        "BTC_USDT_USDT-5m-futures.feather: warning: 5 of 24 rows dropped (3 with a missing, non-finite or "
        "non-positive price; 1 with a missing, non-finite or negative volume; 1 with low above open or close, "
        "or high below them)"
    ) in text
    assert (
        "BTC_USDT_USDT-1h-mark.feather: warning: 1 of 2 rows dropped (1 with a missing, non-finite or non-positive"
        in text
    )
    assert (
        "BTC_USDT_USDT-1h-funding_rate.feather: warning: 1 of 2 rows dropped (1 with a missing or non-finite rate)"
        in text
    )
    got = list(read_columnar(out))
    opens = [s.ts - 300 for s in got]
    assert not {T0 + i * 300 for i in (2, 3, 4, 5, 6, 7)} & set(opens) and len(got) == 18  # 6: ETH lacks 00:30
    for s in got:
        btc = s.symbols["BTCUSDT"]
        assert btc.get("mark") == (150.0 if s.ts - 300 >= T0 + H else None)
        assert btc.get("funding_rate") == 0.0001 and all(np.isfinite(list(btc.values.values())))


def test_unsorted_and_repeated_dates_are_sorted_and_the_first_row_kept(folder, tmp_path):
    clean_out, messy_out = tmp_path / "a.snapshots.parquet", tmp_path / "b.snapshots.parquet"
    assert run(folder, clean_out)[0] == 0
    frame = candle_frame([T0 + i * 300 for i in range(24)])
    doubled = frame.iloc[[5, 9]].assign(volume=999.0)  # repeats after the rows they repeat: dropped
    messy = pd.concat([frame.iloc[::-1], doubled])
    put(folder, "BTC_USDT_USDT-5m-futures.feather", messy)
    code, text = run(folder, messy_out)
    assert code == 0, text
    assert "BTC_USDT_USDT-5m-futures.feather: warning: dates not in time order; sorted" in text
    assert (
        "BTC_USDT_USDT-5m-futures.feather: warning: 2 rows repeat an earlier date; the first row of each date kept"
        in text
    )
    assert list(read_columnar(messy_out)) == list(read_columnar(clean_out))


# ------------------------------------------------------------------ bad input: exit 1, nothing written


def test_a_missing_folder(tmp_path):
    out = tmp_path / "o" / "x.snapshots.parquet"
    code, text = run(tmp_path / "nowhere", out)
    assert code == 1 and f"{tmp_path / 'nowhere'}: error: no such directory" in text
    assert "nothing written" in text and nothing_written(out)
    done = cli(tmp_path / "nowhere", "--pairs", BTC, "--timeframe", "5m", "--out", out)
    assert done.exit_code == 1 and "no such directory" in done.output and "Traceback" not in done.output


def test_a_missing_candle_file_is_named_with_what_is_there(folder, tmp_path):
    put(folder, "BTC_USDT_USDT-1h-futures.feather", candle_frame([T0]))
    out = tmp_path / "x.snapshots.parquet"
    code, text = run(folder, out, f"{BTC},SOL/USDT:USDT")
    assert code == 1, text
    assert (
        f"{folder / 'SOL_USDT_USDT-5m-futures.feather'}: error: no 5m candles of SOL/USDT:USDT (no such file)" in text
    )
    assert "candle files there: BTC_USDT_USDT (5m, 1h); ETH_USDT_USDT (5m)" in text
    assert "freqtrade download-data --trading-mode futures --timeframes 5m --pairs SOL/USDT:USDT" in text
    assert "nothing written" in text and nothing_written(out)


def test_the_user_data_folder_instead_of_the_futures_folder_is_pointed_at_it(folder, tmp_path):
    user_data = tmp_path / "user_data"
    code, text = run(user_data, tmp_path / "x.snapshots.parquet", BTC)
    assert code == 1 and "no freqtrade candle files (*-futures.feather) there" in text
    assert f"give the futures folder itself, e.g. {folder}" in text


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("BTC_USDT_USDT-5m-futures.feather", b"date,open\n1,2\n", "error: cannot be read as feather"),
        ("BTC_USDT_USDT-5m-futures.feather", b"", "error: cannot be read as feather"),
        ("BTC_USDT_USDT-1h-funding_rate.feather", b"\x00" * 64, "error: cannot be read as feather"),
        ("BTC_USDT_USDT-1h-mark.feather", b"ARROW1\x00\x00garbage", "error: cannot be read as feather"),
    ],
)
def test_a_file_that_is_not_feather(folder, tmp_path, name, content, message):
    (folder / name).write_bytes(content)
    out = tmp_path / "x.snapshots.parquet"
    code, text = run(folder, out)
    assert code == 1 and f"{folder / name}: {message}" in text and "Traceback" not in text
    assert nothing_written(out)


def test_a_candle_file_that_is_a_folder(folder, tmp_path):
    (folder / "BTC_USDT_USDT-5m-futures.feather").unlink()
    (folder / "BTC_USDT_USDT-5m-futures.feather").mkdir()
    code, text = run(folder, tmp_path / "x.snapshots.parquet")
    assert code == 1 and "BTC_USDT_USDT-5m-futures.feather: error: not a regular file" in text


@pytest.mark.parametrize(
    ("name", "frame", "message"),
    [
        ("BTC_USDT_USDT-5m-futures.feather", candle_frame([T0]).drop(columns=["volume"]), "no column `volume`"),
        ("BTC_USDT_USDT-5m-futures.feather", candle_frame([T0]).rename(columns={"date": "t"}), "no column `date`"),
        ("BTC_USDT_USDT-1h-mark.feather", series_frame([(T0, 1.0)]).drop(columns=["open"]), "no column `open`"),
        ("BTC_USDT_USDT-5m-futures.feather", candle_frame([]), "no rows"),
        ("BTC_USDT_USDT-5m-futures.feather", candle_frame([T0]).assign(close=-1.0), "no usable rows"),
        ("BTC_USDT_USDT-5m-futures.feather", candle_frame([T0]).assign(date="yesterday"), "column `date` holds"),
        ("BTC_USDT_USDT-5m-futures.feather", candle_frame([T0]).assign(date=pd.NaT), "no usable rows"),
    ],
)
def test_a_file_without_what_it_needs(folder, tmp_path, name, frame, message):
    put(folder, name, frame)
    out = tmp_path / "x.snapshots.parquet"
    code, text = run(folder, out)
    assert code == 1 and f"{folder / name}: error: {message}" in text, text
    assert nothing_written(out)


def test_pairs_without_a_common_candle_time(folder, tmp_path):
    put(folder, "ETH_USDT_USDT-5m-futures.feather", candle_frame([T0 + 7 * H, T0 + 8 * H]))
    out = tmp_path / "x.snapshots.parquet"
    code, text = run(folder, out)
    assert code == 1 and "error: the pairs have no 5m candle time in common" in text
    assert "ETH/USDT:USDT 2025-05-25 07:00:00 UTC → 2025-05-25 08:00:00 UTC" in text and nothing_written(out)


@pytest.mark.parametrize("name", ["x.parquet", "x.jsonl", "x.csv", "x.snapshots.parquet.tmp"])
def test_the_output_must_be_a_columnar_snapshot_file(folder, tmp_path, name):
    code, text = run(folder, tmp_path / name)
    assert code == 1 and "error: the output must end in .snapshots.parquet" in text
    assert not (tmp_path / name).exists()


def test_an_output_that_cannot_be_written(folder, tmp_path):
    (tmp_path / "file").write_text("not a folder")
    code, text = run(folder, tmp_path / "file" / "x.snapshots.parquet")
    assert code == 1 and "error: cannot write" in text


def test_an_existing_output_is_left_alone_when_the_build_fails(folder, tmp_path):
    out = tmp_path / "x.snapshots.parquet"
    out.write_bytes(b"old")
    (folder / "ETH_USDT_USDT-5m-futures.feather").write_bytes(b"bad")
    assert run(folder, out)[0] == 1 and out.read_bytes() == b"old"


# ------------------------------------------------------------------ bad arguments: exit 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--pairs", "BTCUSDT", "--timeframe", "5m"], "'BTCUSDT' is not a freqtrade futures pair"),
        (["--pairs", "BTC/USDT", "--timeframe", "5m"], "they are BASE/QUOTE:SETTLE, e.g. BTC/USDT:USDT"),
        (["--pairs", f"{BTC},", "--timeframe", "5m"], "without empty items"),
        (["--pairs", f"{BTC},{BTC}", "--timeframe", "5m"], "BTC/USDT:USDT given twice"),
        (["--pairs", BTC, "--timeframe", "7m"], "'7m' is not a freqtrade timeframe; use one of 1m, 3m, 5m"),
        (["--pairs", BTC, "--timeframe", "5M"], "is not a freqtrade timeframe"),
        (["--pairs", f"{BTC},{ETH}", "--timeframe", "5m", "--symbols", "BTC"], "1 symbol(s) for 2 pair(s)"),
        (["--pairs", f"{BTC},{ETH}", "--timeframe", "5m", "--symbols", "A,A"], "both be symbol A"),
        (["--pairs", BTC, "--timeframe", "5m", "--symbols", "B T"], "'B T' is not a symbol name"),
        (["--pairs", f"{BTC},BTC/USDT:BUSD", "--timeframe", "5m"], "name them apart with --symbols"),
    ],
)
def test_bad_arguments_are_usage_errors(folder, tmp_path, args, message):
    out = tmp_path / "x.snapshots.parquet"
    done = cli(folder, *args, "--out", out)
    assert done.exit_code == 2, done.output
    assert message in " ".join(done.output.split()) and "Traceback" not in done.output
    assert not out.exists()
    options = dict(zip(args[::2], args[1::2]))
    code, text = run(folder, out, options["--pairs"], options["--timeframe"], symbols=options.get("--symbols"))
    assert code == 2 and message in text and not out.exists()


def test_a_required_option_missing_is_a_usage_error(folder, tmp_path):
    done = cli(folder, "--pairs", BTC, "--out", tmp_path / "x.snapshots.parquet")
    assert done.exit_code == 2 and "--timeframe" in done.output


def test_the_cli_command_writes_the_file(folder, tmp_path):
    out = tmp_path / "cli.snapshots.parquet"
    done = cli(folder, "--pairs", f"{BTC},{ETH}", "--timeframe", "5m", "--out", out)
    assert done.exit_code == 0, done.output
    assert len(list(read_columnar(out))) == 23


# ------------------------------------------------------------------ Ctrl-C: 130, nothing written


def test_ctrl_c_while_building_exits_130_and_writes_nothing(folder, tmp_path, monkeypatch):
    import adapters.snapshots.freqtrade as ft

    calls = {"n": 0}
    real = ft.parse_snapshot

    def interrupted(*args: Any, **kw: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 5:
            raise KeyboardInterrupt
        return real(*args, **kw)

    monkeypatch.setattr(ft, "parse_snapshot", interrupted)
    out = tmp_path / "o" / "x.snapshots.parquet"
    done = cli(folder, "--pairs", f"{BTC},{ETH}", "--timeframe", "5m", "--out", out)
    assert done.exit_code == 130, done.output
    assert f"stopped by Ctrl-C; {out} not written" in done.output
    assert list(out.parent.iterdir()) == []  # nor a temporary file


@pytest.mark.parametrize(("point", "kept"), [("echo 1", False), ("replace 1", True)])
def test_a_real_ctrl_c_leaves_the_output_whole_or_absent(folder, tmp_path, point, kept):
    out = tmp_path / "o" / "x.snapshots.parquet"
    out.parent.mkdir()
    args = ["snapshots", "from-freqtrade", str(folder), "--pairs", f"{BTC},{ETH}", "--timeframe", "5m"]
    process, before = start_paused(point, [*args, "--out", str(out)], cwd=ROOT)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=HUNG)
    text = before + stderr.decode()
    assert process.returncode == 130, text
    assert [p.name for p in out.parent.iterdir()] == ([out.name] if kept else []), text
    assert not kept or len(list(read_columnar(out))) == 23
    assert "Traceback" not in text and "Aborted" not in text


# ------------------------------------------------------------------ the real data


@pytest.mark.skipif(not REAL.is_dir(), reason="needs ../shared/data/raw/harthor-marketlab")
def test_the_real_btc_and_eth_5m_candles(tmp_path):
    out = tmp_path / "real.snapshots.parquet"
    code, text = run(REAL, out)
    assert code == 0, text
    assert "warning" not in text and "error" not in text
    assert "119,724 5m candle(s) every pair has, opening 2024-12-31 00:00 → 2026-02-19 16:55" in text
    assert "wrote" in text and "119,724 snapshots, 239,448 rows" in text
    got = list(read_columnar(out))
    assert len(got) == 119_724
    first = 1_735_603_200  # 2024-12-31 00:00 UTC
    assert got[0] == expected(
        first,
        300,
        {
            "BTCUSDT": {
                "candle": (92759.3, 92819.7, 92680.3, 92755.5, 547.689),
                "mark": 92760.05741135,
                "funding": (0.0001, first),
            },
            "ETHUSDT": {
                "candle": (3360.1, 3360.88, 3350.0, 3355.77, 11387.631),
                "mark": 3360.22950758,
                "funding": (0.0001, first),
            },
        },
    )
    last = 1_771_520_100  # 2026-02-19 16:55 UTC
    assert got[-1] == expected(
        last,
        300,
        {
            "BTCUSDT": {
                "candle": (66392.0, 66417.0, 66242.8, 66267.6, 238.594),
                "mark": 66367.72373188,
                "funding": (2.686e-05, 1_771_488_000),
            },
            "ETHUSDT": {
                "candle": (1925.57, 1926.28, 1918.96, 1920.95, 9443.862),
                "mark": 1925.28112403,
                "funding": (-3.009e-05, 1_771_488_000),
            },
        },
    )
    assert all(b.ts - a.ts >= 300 for a, b in zip(got, got[1:]))
