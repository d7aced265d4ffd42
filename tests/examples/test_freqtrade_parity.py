"""examples/freqtrade-ema-cross trades as freqtrade 2026.9's backtest does, trade for trade.

* The example, replayed over the real 5-minute BTC+ETH candles (with their funding and mark
  prices), gives freqtrade's own 1,486 trades (../shared/oracles/freqtrade-ema-cross): pair,
  side, open and close time, open and close rate exactly, exit reason, profit ratio to 1e-8.
* For other parameters — EMA periods, ROI table, stop, pairs, window — there is no freqtrade
  run to compare with, so a reference replay written from the semantics document alone
  (``reference`` below: freqtrade's candle loop, rule by rule) stands in; it is first shown to
  give the oracle's trades itself, then compared with rulebot on random variants.
"""

from __future__ import annotations

import json
import random
import shutil
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from adapters.paper.broker import PaperBroker
from adapters.snapshots.columnar import read_recording, write_columnar
from engine.language.compiler import compile_ruleset
from engine.replay.dryrun import dry_run, dry_run_recording
from engine.replay.memstate import MemoryState
from engine.trading.fills import freqtrade as ft

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "freqtrade-ema-cross" / "rules"
SHARED = ROOT.parent / "shared"
ORACLE = SHARED / "oracles" / "freqtrade-ema-cross" / "trades.jsonl"
FUTURES = SHARED / "data" / "raw" / "harthor-marketlab" / "user_data" / "data" / "binance" / "futures"
PAIRS = {"BTCUSDT": "BTC/USDT:USDT", "ETHUSDT": "ETH/USDT:USDT"}
TICK = {"BTCUSDT": 0.1, "ETHUSDT": 0.01}
BAR, WARMUP, FEE = 300, 200, 0.0005
REASON = {"ROI": "roi", "STOP_LOSS": "stop_loss", "FORCE_EXIT": "force_exit"}

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not ORACLE.is_file() or not FUTURES.is_dir(), reason="needs ../shared oracle and data"),
]


# ------------------------------------------------------------------ the market, both ways


@pytest.fixture(scope="module")
def market():
    """Per symbol: candle open times and OHLCV, funding (time, rate) and hourly mark opens."""
    import pandas as pd

    out = {}
    for symbol in PAIRS:
        stem = PAIRS[symbol].split("/")[0] + "_USDT_USDT"
        c = pd.read_feather(FUTURES / f"{stem}-5m-futures.feather")
        f = pd.read_feather(FUTURES / f"{stem}-1h-funding_rate.feather")
        m = pd.read_feather(FUTURES / f"{stem}-1h-mark.feather")
        out[symbol] = {
            "candles": {
                int(t.timestamp()): (o, h, low, cl, v)
                for t, o, h, low, cl, v in zip(c["date"], c["open"], c["high"], c["low"], c["close"], c["volume"])
            },
            "funding": sorted((int(t.timestamp()), r) for t, r in zip(f["date"], f["open"])),
            "mark": {int(t.timestamp()): o for t, o in zip(m["date"], m["open"])},
        }
    return out


def common_times(market, symbols) -> list[int]:
    return sorted(set.intersection(*(set(market[s]["candles"]) for s in symbols)))


@pytest.fixture(scope="module")
def recorded():
    """The snapshots `rulebot snapshots from-freqtrade` makes of the same files, per pair set."""
    from adapters.snapshots.freqtrade import build, request

    made: dict[tuple[str, ...], list] = {}

    def of(symbols) -> list:
        key = tuple(symbols)
        if key not in made:
            snapshots, report = build(request(FUTURES, [PAIRS[s] for s in key], "5m"))
            made[key] = list(snapshots)
            assert not report.failed
        return made[key]

    return of


def rulebot(rules: Path, replayed: list, tmp_path: Path, *, scalar: bool = False) -> list[dict]:
    """The rules' trades over ``replayed`` from the close of its candle ``WARMUP``: freqtrade's
    first entry candle is the one after its 200 warm-up candles."""
    plan = compile_ruleset(str(rules)).plans["paper"]
    start = replayed[WARMUP].ts
    if scalar:
        result, _, _ = dry_run(
            plan, iter(replayed), broker=PaperBroker.for_plan(plan), store=MemoryState(), start=start
        )
    else:
        path = tmp_path / "bars.snapshots.parquet"
        write_columnar(replayed, path)
        result, _, _ = dry_run_recording(
            plan, read_recording(path), broker=PaperBroker.for_plan(plan), store=MemoryState(), start=start
        )
    return [as_freqtrade(trade) for trade in result["trades"]]


def as_freqtrade(trade: dict) -> dict:
    """A rulebot trade in the oracle's terms (its profit ratio from the fills, fees, funding)."""
    short = trade["direction"] == "SHORT"
    received = -trade["funding"]  # rulebot counts funding paid
    ratio = ft.profit_ratio(
        trade["quantity"], trade["entry_price"], trade["exit_price"], FEE, received, short, trade["leverage"]
    )
    return {
        "pair": PAIRS[trade["symbol"]],
        "is_short": short,
        "open": trade["entry_ts"],
        "close": trade["exit_ts"],
        "open_rate": trade["entry_price"],
        "close_rate": trade["exit_rate"] if "exit_rate" in trade else trade["exit_price"],
        "exit_reason": REASON[trade["exit_reason"]],
        "profit_ratio": ratio,
    }


def assert_same_trades(ours: list[dict], theirs: list[dict]) -> None:
    order = lambda t: (t["open"], t["pair"])  # noqa: E731
    ours, theirs = sorted(ours, key=order), sorted(theirs, key=order)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert {k: v for k, v in a.items() if k != "profit_ratio"} == {
            k: v for k, v in b.items() if k != "profit_ratio"
        }
        assert abs(a["profit_ratio"] - b["profit_ratio"]) <= 1e-8, (a, b)


def oracle_trades() -> list[dict]:
    out = []
    for line in ORACLE.read_text(encoding="utf-8").splitlines():
        t = json.loads(line)
        out.append(
            {
                "pair": t["pair"],
                "is_short": t["is_short"],
                "open": datetime.fromisoformat(t["open_date"]).timestamp(),
                "close": datetime.fromisoformat(t["close_date"]).timestamp(),
                "open_rate": t["open_rate"],
                "close_rate": t["close_rate"],
                "exit_reason": t["exit_reason"],
                "profit_ratio": t["profit_ratio"],
            }
        )
    return out


# ------------------------------------------------------------------ the reference replay


def reference(market, symbol, times, *, fast, slow, roi, stoploss) -> list[dict]:
    """freqtrade's backtest loop for one pair, written from the semantics document: EMAs from
    the first loaded candle, signals shifted by one candle, no entry during the 200 warm-up
    candles or on the last; per candle the entry at the open, then funding, the stop and the
    ROI table; the same-candle reversal; a force exit at the last candle's open."""
    import pandas as pd

    candles = market[symbol]["candles"]
    close = pd.Series([candles[t][3] for t in times])
    ema_f = close.ewm(span=fast, adjust=False).mean().tolist()
    ema_s = close.ewm(span=slow, adjust=False).mean().tolist()

    def signal(i: int) -> int:
        if i < 1:
            return 0
        up = ema_f[i] > ema_s[i] and ema_f[i - 1] <= ema_s[i - 1]
        down = ema_f[i] < ema_s[i] and ema_f[i - 1] >= ema_s[i - 1]
        return 0 if up == down else (1 if up else -1)

    funding = dict(market[symbol]["funding"])
    marks = market[symbol]["mark"]
    tick = TICK[symbol]
    trades, trade = [], None

    def open_trade(i: int, direction: int) -> dict:
        rate = candles[times[i]][0]
        return {
            "short": direction < 0,
            "open_ts": times[i],
            "open_rate": rate,
            "stop": ft.stop_price(rate, stoploss, 1.0, direction < 0, tick),
            "funding": 0.0,
        }

    def check(trade: dict, i: int) -> tuple[str, float] | None:
        ts = times[i]
        o, h, low = candles[ts][:3]
        if ts % 3600 == 0 and ts in funding and ts in marks:
            trade["funding"] += ft.funding_fee([(funding[ts], marks[ts])], 1.0, trade["short"])
        if ft.stop_hit(trade["stop"], low, h, trade["short"]):
            return "stop_loss", ft.stop_fill(trade["stop"], o, low, h, trade["short"])
        age = (ts - trade["open_ts"]) // 60
        key, target = ft.active_roi(roi, age)
        best = low if trade["short"] else h
        if ft.profit_ratio(1.0, trade["open_rate"], best, FEE, trade["funding"], trade["short"], 1.0) > target:
            rate = ft.roi_rate(1.0, trade["open_rate"], target, FEE, trade["funding"], trade["short"], 1.0)
            return "roi", ft.roi_fill(rate, key, age, o, low, h, trade["short"], tick)
        return None

    def close(trade: dict, i: int, reason: str, rate: float) -> None:
        trades.append(
            {
                "pair": PAIRS[symbol],
                "is_short": trade["short"],
                "open": float(trade["open_ts"]),
                "close": float(times[i]),
                "open_rate": trade["open_rate"],
                "close_rate": rate,
                "exit_reason": reason,
                "profit_ratio": ft.profit_ratio(
                    1.0, trade["open_rate"], rate, FEE, trade["funding"], trade["short"], 1.0
                ),
            }
        )

    last = len(times) - 1
    for i in range(WARMUP + 1, len(times)):
        wanted = signal(i - 1)
        if trade is None and wanted and i != last:
            trade = open_trade(i, wanted)
        if trade is None:
            continue
        exited = check(trade, i)
        if exited is None:
            continue
        close(trade, i, *exited)
        reversal = wanted and (wanted < 0) != trade["short"] and i != last
        trade = None
        if reversal:
            trade = open_trade(i, wanted)
            exited = check(trade, i)
            if exited is not None:
                close(trade, i, *exited)
                trade = None
    if trade is not None:
        close(trade, last, "force_exit", candles[times[last]][0])
    return trades


ORACLE_PARAMS = {
    "fast": 9,
    "slow": 21,
    "roi": [(0.0, 0.02), (30.0, 0.005), (60.0, 0.01), (90.0, 0.015)],
    "stoploss": 0.025,
}


# ------------------------------------------------------------------ the tests


def test_the_example_trades_as_freqtrade(recorded, tmp_path):
    replayed = recorded(list(PAIRS))
    assert len(replayed) == 119_523 + WARMUP + 1  # the candles freqtrade traded, its warm-up, the dropped row
    assert_same_trades(rulebot(EXAMPLE, replayed, tmp_path), oracle_trades())


def test_the_reference_replay_is_freqtrade(market):
    times = common_times(market, PAIRS)
    trades = [t for symbol in PAIRS for t in reference(market, symbol, times, **ORACLE_PARAMS)]
    assert_same_trades(trades, oracle_trades())


def _variant(rng: random.Random, tmp_path: Path) -> tuple[Path, dict, list[str]]:
    fast = rng.randint(3, 15)
    slow = rng.randint(fast + 2, 40)
    keys = sorted(rng.sample(range(5, 240, 5), 3))
    roi = [(0.0, round(rng.uniform(1.0, 4.0), 2))] + [(float(k), round(rng.uniform(0.2, 2.5), 2)) for k in keys]
    stop = round(rng.uniform(0.8, 4.0), 2)
    symbols = rng.choice([["BTCUSDT"], ["ETHUSDT"], ["BTCUSDT", "ETHUSDT"]])
    rules = tmp_path / "rules"
    shutil.copytree(EXAMPLE, rules)

    def edit(name: str, change) -> None:
        path = rules / name
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        change(doc)
        path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")

    def indicators(doc):
        doc["indicators"][0]["params"]["period"], doc["indicators"][1]["params"]["period"] = fast, slow

    def exits(doc):
        doc["tiers"][0]["loss_pct"] = stop
        doc["tiers"][1]["tiers"] = [{"after": f"{int(k)}m", "pnl_pct": round(r * 100, 4)} for k, r in roi]

    def ruleset(doc):
        doc["symbols"] = [s for s in doc["symbols"] if s["symbol"] in symbols]
        doc["symbols"][0]["role"] = "leader"

    def requirements(doc):
        doc["policy"]["enabled_symbols"] = symbols

    for name, change in (
        ("indicators.yaml", indicators),
        ("exits.yaml", exits),
        ("ruleset.yaml", ruleset),
        ("requirements.yaml", requirements),
    ):
        edit(name, change)
    params = {"fast": fast, "slow": slow, "roi": [(k, r / 100 * 100) for k, r in roi], "stoploss": stop / 100}
    return rules, params, symbols


@pytest.mark.parametrize("seed", range(3))
def test_other_parameters_trade_as_the_reference(market, recorded, tmp_path, seed):
    rng = random.Random(seed)
    rules, params, symbols = _variant(rng, tmp_path)
    times = common_times(market, symbols)
    begin = rng.randrange(0, len(times) - 30_000)  # a window: freqtrade loads 200 candles before it
    end = begin + rng.randint(8_000, 25_000)
    expected = [t for symbol in symbols for t in reference(market, symbol, times[begin:end], **params)]
    assert len(expected) >= 5  # trades to compare (the window and the ROI table decide how many)
    assert_same_trades(rulebot(rules, recorded(symbols)[begin:end], tmp_path), expected)


def test_both_replay_paths_agree_with_the_fill_model(recorded, tmp_path):
    replayed = recorded(list(PAIRS))[:6_000]
    fast = rulebot(EXAMPLE, replayed, tmp_path)
    assert len(fast) > 20
    assert fast == rulebot(EXAMPLE, replayed, tmp_path, scalar=True)


@pytest.mark.parametrize("ends", ["on an entry candle", "inside a trade"])
def test_the_data_ending_enters_nothing_and_closes_what_is_open(market, recorded, tmp_path, ends):
    """Rules 2 and 14: no entry on the last candle; what is open closes at its open."""
    times = common_times(market, PAIRS)
    first = next(t for t in oracle_trades() if t["pair"] == PAIRS["ETHUSDT"])
    opened = times.index(int(first["open"]))
    end = opened + 1 if ends == "on an entry candle" else opened + 3  # the trade lasts longer
    expected = [t for symbol in PAIRS for t in reference(market, symbol, times[:end], **ORACLE_PARAMS)]
    if ends == "on an entry candle":
        assert all(t["open"] != first["open"] or t["pair"] != first["pair"] for t in expected)
    else:
        assert any(t["exit_reason"] == "force_exit" for t in expected)
    assert_same_trades(rulebot(EXAMPLE, recorded(list(PAIRS))[:end], tmp_path), expected)
