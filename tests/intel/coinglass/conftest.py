"""Fixtures of the CoinGlass tests: the fake server, an injected clock, a client on both."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.intel.coinglass import build
from adapters.intel.coinglass.client import CoinGlassClient
from tests.intel.fakes.coinglass import FakeCoinGlass

#: The rules' entry as the compiler makes it (rules/venues.yaml; durations in seconds).
RULES: dict[str, Any] = {
    "id": "coinglass",
    "kind": "coinglass",
    "base_url": "https://open-api-v4.coinglass.com",
    "credentials": {"api_key_env": "COINGLASS_API_KEY"},
    "plan": "hobbyist",
    "requests_per_minute": 30,
    "min_interval": 2.5,
    "backoff_on_429": 60.0,
    "publication_lag": 60.0,
    "endpoints": [
        "taker_buy_sell",
        "liquidations",
        "fear_greed",
        "exchange_balance",
        "funding_history",
        "open_interest_history",
        "liquidation_history",
        "long_short_ratio",
    ],
}


class FakeClock:
    """A monotonic clock that moves only when slept on or told to; sleeps are recorded."""

    def __init__(self, start: float = 1000.0):
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(0.0, seconds)

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def fake() -> Iterator[FakeCoinGlass]:
    server = FakeCoinGlass().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make_client(
    fake: FakeCoinGlass, clock: FakeClock, cache: Path, *, rules: dict[str, Any] | None = None, **options: Any
) -> CoinGlassClient:
    return build(
        rules or RULES,
        cache_dir=cache,
        environ={"COINGLASS_API_KEY": fake.api_key},
        base_url=fake.url,
        clock=clock,
        sleep=clock.sleep,
        **options,
    )
