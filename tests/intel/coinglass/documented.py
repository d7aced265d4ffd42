"""Answers in the shapes CoinGlass documents (reference/exchanges.md §3.3) and observed
(§3.4), with plausible values: the docs' own example numbers are placeholders and some of
their times are impossible, so tests never use them as they are."""

from __future__ import annotations

from typing import Any

H = 3600
T0 = 1_764_892_800  # 2025-12-05 00:00 UTC, epoch s

TAKER = {  # #1, an object; ratios in percent, volumes numbers (USD)
    "symbol": "BTC",
    "buy_ratio": 51.01,
    "sell_ratio": 48.99,
    "buy_vol_usd": 1_215_880_000.5,
    "sell_vol_usd": 1_167_780_000.25,
    "exchange_list": [
        {
            "exchange": "Binance",
            "buy_ratio": 50.5,
            "sell_ratio": 49.5,
            "buy_vol_usd": 600_000_000,
            "sell_vol_usd": 588_000_000,
        },
        {
            "exchange": "OKX",
            "buy_ratio": 52.0,
            "sell_ratio": 48.0,
            "buy_vol_usd": 300_000_000,
            "sell_vol_usd": 276_000_000,
        },
    ],
}

COIN_LIST = [  # #2, a list; numbers (USD)
    {
        "symbol": "BTC",
        "liquidation_usd_24h": 90_000_000.0,
        "long_liquidation_usd_24h": 60_000_000.0,
        "short_liquidation_usd_24h": 30_000_000.0,
        "liquidation_usd_1h": 1_500_000.0,
        "long_liquidation_usd_1h": 1_000_000.0,
        "short_liquidation_usd_1h": 500_000.0,
    },
    {"symbol": "ETH", "long_liquidation_usd_1h": 250_000, "short_liquidation_usd_1h": 750_000},
]


def fear_greed_documented(days: int = 3, first: int = T0 - 2 * 86400) -> list[dict[str, Any]]:
    """#3 as documented: a list holding one object, times in seconds."""
    times = [first + i * 86400 for i in range(days)]
    return [
        {"data_list": [30 + i for i in range(days)], "price_list": [90000 + i for i in range(days)], "time_list": times}
    ]


def fear_greed_observed(days: int = 3, first: int = T0 - 2 * 86400) -> dict[str, Any]:
    """#3 as observed at run time: the object itself, times in milliseconds, ascending."""
    return {
        "data_list": [40.0 + i for i in range(days)],
        "price_list": [91000.0 + i for i in range(days)],
        "time_list": [(first + i * 86400) * 1000 for i in range(days)],
    }


BALANCES = [  # #4, a list; balances in coin units, changes in percent
    {
        "exchange_name": "Coinbase",
        "total_balance": 800_000.5,
        "balance_change_1d": -1200.25,
        "balance_change_percent_1d": -0.15,
        "balance_change_7d": 3000,
        "balance_change_percent_7d": 0.37,
        "balance_change_30d": -5000,
        "balance_change_percent_30d": -0.62,
    },
    {"exchange_name": "Binance", "total_balance": "550000", "balance_change_1d": "100"},
]


def ohlc(times: list[int], closes: list[Any]) -> list[dict[str, Any]]:
    """#5/#6 rows: strings as documented (``close`` may be given as a float, as observed)."""
    return [
        {"time": t * 1000, "open": "1.0", "high": "2.0", "low": "0.5", "close": c}
        for t, c in zip(times, closes, strict=True)
    ]


def liquidation_rows(times: list[int], longs: list[Any], shorts: list[Any]) -> list[dict[str, Any]]:
    """#7 rows, strings."""
    return [
        {"time": t * 1000, "long_liquidation_usd": lo, "short_liquidation_usd": sh}
        for t, lo, sh in zip(times, longs, shorts, strict=True)
    ]


def long_short_rows(times: list[int]) -> list[dict[str, Any]]:
    """#8 rows, numbers (percent and ratio)."""
    return [
        {
            "time": t * 1000,
            "top_position_long_percent": 61.5,
            "top_position_short_percent": 38.5,
            "top_position_long_short_ratio": 1.6,
        }
        for t in times
    ]
