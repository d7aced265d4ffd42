"""engine/trading/fills/freqtrade.py against freqtrade 2026.9's own backtest of the EMA-cross
oracle (../shared/oracles/freqtrade-ema-cross): for every one of its 1,486 trades, the stop
price it set, the funding it charged, the exit price of every stop and ROI exit, and the
profit ratio, computed from the trade's entry and the real candles, funding and mark data."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from engine.trading.fills import freqtrade as ft

SHARED = Path(__file__).resolve().parents[3] / "shared"
ORACLE = SHARED / "oracles" / "freqtrade-ema-cross" / "trades.jsonl"
FUTURES = SHARED / "data" / "raw" / "harthor-marketlab" / "user_data" / "data" / "binance" / "futures"
ROI = [(0.0, 0.02), (30.0, 0.005), (60.0, 0.01), (90.0, 0.015)]  # the oracle's minimal_roi
STOPLOSS, FEE = 0.025, 0.0005
TICK = {"BTC/USDT:USDT": 0.1, "ETH/USDT:USDT": 0.01}  # rule 12: the data's decimals, per month

pytestmark = pytest.mark.skipif(not ORACLE.is_file() or not FUTURES.is_dir(), reason="needs ../shared oracle and data")


def _ts(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


@pytest.fixture(scope="module")
def market():
    import pandas as pd

    out = {}
    for pair, coin in (("BTC/USDT:USDT", "BTC"), ("ETH/USDT:USDT", "ETH")):
        candles = pd.read_feather(FUTURES / f"{coin}_USDT_USDT-5m-futures.feather")
        funding = pd.read_feather(FUTURES / f"{coin}_USDT_USDT-1h-funding_rate.feather")
        mark = pd.read_feather(FUTURES / f"{coin}_USDT_USDT-1h-mark.feather")
        marks = {t.timestamp(): o for t, o in zip(mark["date"], mark["open"])}
        out[pair] = {
            "candles": {
                t.timestamp(): (o, h, low)
                for t, o, h, low in zip(candles["date"], candles["open"], candles["high"], candles["low"])
            },
            "funding": sorted(
                (t.timestamp(), rate, marks[t.timestamp()])
                for t, rate in zip(funding["date"], funding["open"])
                if t.timestamp() in marks
            ),
        }
    return out


@pytest.fixture(scope="module")
def trades():
    return [json.loads(line) for line in ORACLE.read_text(encoding="utf-8").splitlines()]


def _funding(market, trade) -> float:
    start, end = _ts(trade["open_date"]), _ts(trade["close_date"])
    events = [(rate, mark) for t, rate, mark in market[trade["pair"]]["funding"] if start <= t <= end]
    return ft.funding_fee(events, trade["amount"], trade["is_short"])


def test_the_oracle_is_the_one_described(trades):
    assert len(trades) == 1486
    assert {t["exit_reason"] for t in trades} == {"roi", "stop_loss", "force_exit"}


def test_every_stop_price(trades):
    for trade in trades:
        stop = ft.stop_price(trade["open_rate"], STOPLOSS, trade["leverage"], trade["is_short"], TICK[trade["pair"]])
        assert stop == trade["initial_stop_loss_abs"], trade


def test_every_trades_funding(market, trades):
    for trade in trades:
        assert _funding(market, trade) == pytest.approx(trade["funding_fees"], rel=1e-9, abs=1e-12), trade


def test_every_profit_ratio(market, trades):
    for trade in trades:
        ratio = ft.profit_ratio(
            trade["amount"],
            trade["open_rate"],
            trade["close_rate"],
            FEE,
            _funding(market, trade),
            trade["is_short"],
            trade["leverage"],
        )
        assert abs(ratio - trade["profit_ratio"]) <= 1e-8, trade


def test_every_stop_exit_price(market, trades):
    stops = [t for t in trades if t["exit_reason"] == "stop_loss"]
    assert len(stops) == 483
    for trade in stops:
        open_, high, low = market[trade["pair"]]["candles"][_ts(trade["close_date"])]
        stop, short = trade["initial_stop_loss_abs"], trade["is_short"]
        assert ft.stop_hit(stop, low, high, short), trade
        assert ft.stop_fill(stop, open_, low, high, short) == trade["close_rate"], trade


def test_every_roi_exit_price(market, trades):
    rois = [t for t in trades if t["exit_reason"] == "roi"]
    assert len(rois) == 1001
    at_open = 0
    for trade in rois:
        open_, high, low = market[trade["pair"]]["candles"][_ts(trade["close_date"])]
        age = (_ts(trade["close_date"]) - _ts(trade["open_date"])) // 60
        key, roi = ft.active_roi(ROI, age)
        short = trade["is_short"]
        rate = ft.roi_rate(
            trade["amount"], trade["open_rate"], roi, FEE, _funding(market, trade), short, trade["leverage"]
        )
        price = ft.roi_fill(rate, key, age, open_, low, high, short, TICK[trade["pair"]])
        assert price == trade["close_rate"], (trade, rate)
        at_open += price == open_ and age == key
    assert at_open == 142  # rule 8.2's count in the full run
