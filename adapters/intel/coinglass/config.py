"""The CoinGlass client's configuration: the rules' `intelligence` entry (rules/venues.yaml,
compiled into ``plan.venues.intelligence``) made into one frozen object, plus the few
choices the rules do not name (which exchange the per-exchange endpoints read, the history
interval the plan allows). Reference: shared reference/exchanges.md §3.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.language.kinds.venues import COINGLASS_HISTORY_INTERVAL, COINGLASS_NOT_IN_PLAN

#: The rules' endpoint names → CoinGlass v4 paths (reference §3.3).
PATHS = {
    "taker_buy_sell": "/api/futures/taker-buy-sell-volume/exchange-list",
    "liquidations": "/api/futures/liquidation/coin-list",
    "fear_greed": "/api/index/fear-greed-history",
    "exchange_balance": "/api/exchange/balance/list",
    "funding_history": "/api/futures/funding-rate/history",
    "open_interest_history": "/api/futures/open-interest/history",
    "liquidation_history": "/api/futures/liquidation/history",
    "long_short_ratio": "/api/futures/top-long-short-position-ratio/history",
}
#: Endpoints whose rows are stamped with the start of an interval (reference §3.5).
HISTORY = ("funding_history", "open_interest_history", "liquidation_history", "long_short_ratio")
#: History rows at most this long are fresher than the coin list's hourly figure.
FINE_HISTORY_S = 900.0
INTERVAL_S = {
    "1m": 60.0,
    "3m": 180.0,
    "5m": 300.0,
    "15m": 900.0,
    "30m": 1800.0,
    "1h": 3600.0,
    "4h": 14400.0,
    "6h": 21600.0,
    "8h": 28800.0,
    "12h": 43200.0,
    "1d": 86400.0,
    "1w": 604800.0,
}
#: Environment variable that overrides the rules' base URL (to point the client at a fake).
BASE_URL_ENV = "COINGLASS_BASE_URL"
QUOTES = ("USDT", "USDC", "USD")


@dataclass(frozen=True, slots=True, kw_only=True)
class CoinGlassConfig:
    """Everything the client needs besides the key; built by :meth:`from_rules`."""

    id: str
    base_url: str
    api_key_env: str
    plan: str
    requests_per_minute: int
    min_interval_s: float
    backoff_on_429_s: float
    publication_lag_s: float
    endpoints: tuple[str, ...]
    exchange: str = "Binance"  # CoinGlass exchange name for the per-exchange endpoints
    taker_range: str = "1h"  # window of the taker buy/sell answer
    history_limit: int = 12  # rows asked per history call
    funding_source_interval_s: float = 8 * 3600.0  # Binance's funding interval (reference §3.4)
    funding_target_interval_s: float | None = None  # the execution venue's; None: funding not emitted
    timeout_s: float = 10.0
    retry_attempts: int = 2  # tries of one call on a retryable failure (not on a rate limit)
    max_calls_per_read: int = 8  # a cycle is not held up for more calls than this

    @classmethod
    def from_rules(cls, source: Mapping[str, Any], **options: Any) -> CoinGlassConfig:
        """The config of one compiled `intelligence` entry; ``options`` set the other fields."""
        return cls(
            id=str(source["id"]),
            base_url=str(source["base_url"]).rstrip("/"),
            api_key_env=str(source["credentials"]["api_key_env"]),
            plan=str(source["plan"]),
            requests_per_minute=int(source["requests_per_minute"]),
            min_interval_s=float(source["min_interval"]),
            backoff_on_429_s=float(source["backoff_on_429"]),
            publication_lag_s=float(source["publication_lag"]),
            endpoints=tuple(source["endpoints"]),
            **options,
        )

    @property
    def spacing_s(self) -> float:
        """Least time between two calls: the rules' min_interval or the plan's budget, the longer."""
        return max(self.min_interval_s, 60.0 / self.requests_per_minute)

    @property
    def history_interval(self) -> str:
        # the smallest the plan allows (reference §3.2, kept with the rule language), so a
        # row is as fresh as the plan permits
        return COINGLASS_HISTORY_INTERVAL.get(self.plan, "4h")

    @property
    def history_interval_s(self) -> float:
        return INTERVAL_S[self.history_interval]

    @property
    def liquidations_from_coin_list(self) -> bool:
        """Liquidations come from the coin list's last hour when the plan has it and its
        history rows are coarser than 15 min (Startup); otherwise from the history rows."""
        return self.in_plan("liquidations") and (
            self.history_interval_s > FINE_HISTORY_S or not self.in_plan("liquidation_history")
        )

    def in_plan(self, endpoint: str) -> bool:
        """Whether this client calls ``endpoint``: listed in the rules and included in the plan."""
        return endpoint in self.endpoints and endpoint not in COINGLASS_NOT_IN_PLAN.get(self.plan, frozenset())


def coin_of(symbol: str) -> str:
    """The CoinGlass coin of a rulebot symbol: BTCUSDT → BTC (coin-level endpoints)."""
    upper = symbol.upper()
    for quote in QUOTES:
        if upper.endswith(quote) and len(upper) > len(quote):
            return upper[: -len(quote)]
    return upper


def pair_of(symbol: str) -> str:
    """The CoinGlass pair of a rulebot symbol on a per-exchange endpoint: BTCUSDT → BTCUSDT."""
    return symbol.upper()
