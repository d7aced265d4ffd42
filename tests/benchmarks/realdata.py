"""Real market data from ../shared/data/raw turned into snapshots, for benchmarks.

BTC and ETH Binance USDT-M 1-minute candles and 8-hour funding (typhonun-dcatpstrategy,
MIT) plus the daily fear & greed index (lukmol-gamlss-btc-var, MIT). The recorded data has
no order book, so each snapshot carries a one-level book derived from its candle (bid size
grows with an up-close): enough to exercise the OFI path, labelled as synthetic.
"""

from __future__ import annotations

from pathlib import Path

RAW = Path(__file__).resolve().parents[3] / "shared" / "data" / "raw"
FUTURES = RAW / "typhonun-dcatpstrategy" / "user_data" / "data" / "binance" / "futures"
FEAR_GREED = RAW / "lukmol-gamlss-btc-var" / "data" / "fear_greed.csv"
SYMBOLS = {"BTCUSDT": "BTC", "ETHUSDT": "ETH"}


def available() -> bool:
    return FUTURES.is_dir() and FEAR_GREED.is_file()


def _series(coin: str, minutes: int):
    import pandas as pd

    candles = pd.read_feather(FUTURES / f"{coin}_USDT_USDT-1m-futures.feather").head(minutes)
    funding = pd.read_feather(FUTURES / f"{coin}_USDT_USDT-8h-funding_rate.feather")
    return candles, funding


def snapshot_dicts(minutes: int = 3000) -> list[dict]:
    """One snapshot dict per minute, inputs as-of that minute (no lookahead)."""
    import pandas as pd

    fear = pd.read_csv(FEAR_GREED, parse_dates=["date"])
    fear_ts = (fear["date"].astype("int64") // 10**9).tolist()
    fear_values = fear["fng"].tolist()
    per_symbol = {}
    for symbol, coin in SYMBOLS.items():
        candles, funding = _series(coin, minutes)
        per_symbol[symbol] = (
            list(
                zip(
                    (candles["date"].astype("int64") // 10**9).tolist(),
                    candles["open"],
                    candles["high"],
                    candles["low"],
                    candles["close"],
                    candles["volume"],
                )
            ),
            (funding["date"].astype("int64") // 10**9).tolist(),
            funding["open"].tolist(),
        )
    count = min(len(rows) for rows, _, _ in per_symbol.values())
    out, f_index = [], 0
    for i in range(count):
        ts = per_symbol["BTCUSDT"][0][i][0] + 60
        while f_index + 1 < len(fear_ts) and fear_ts[f_index + 1] + 86400 <= ts:
            f_index += 1
        symbols = {name: _symbol(rows[i], f_ts, f_rates, ts) for name, (rows, f_ts, f_rates) in per_symbol.items()}
        out.append(
            {
                "v": 1,
                "ts": ts,
                "symbols": symbols,
                "fear_greed": float(fear_values[f_index]),
                "fear_greed_ts": fear_ts[f_index] + 86400,
            }
        )
    return out


def _symbol(row, funding_ts, funding_rates, now) -> dict:
    open_ts, o, h, low, c, v = row
    up = 1.0 if c >= o else 0.0
    known = [k for k, t in enumerate(funding_ts) if t <= now]
    out = {
        "price": c,
        "bid": c * 0.99995,
        "ask": c * 1.00005,
        "book": {"bids": [[c * 0.99995, 1.0 + up + v / 1000]], "asks": [[c * 1.00005, 2.0 - up + v / 1000]]},
        "candles": [[open_ts, o, h, low, c, v]],
    }
    if known:
        out["funding_rate"], out["funding_rate_ts"] = funding_rates[known[-1]], funding_ts[known[-1]]
    return out
