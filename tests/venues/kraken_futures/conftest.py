"""A fake Kraken Futures on loopback per test, and clients of it built from the real rules."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from adapters.venues.common.http import RetryPolicy
from adapters.venues.common.secrets import Credentials
from adapters.venues.kraken_futures import KrakenFuturesClient, build
from engine.language.compiler import compile_ruleset
from engine.language.kinds.venues import Exchange
from tests.venues.fakes.kraken_futures import KEY, SECRET, FakeKraken, FakeServer


class Clock:
    """Wall time plus an offset a test moves forward; the fake venue reads the same clock.
    ``freeze()`` stops wall time, so only the test (and the client's sleeps) move it."""

    def __init__(self) -> None:
        self.offset = 0.0
        self.frozen_at: float | None = None

    def __call__(self) -> float:
        return (self.frozen_at if self.frozen_at is not None else time.time()) + self.offset

    def freeze(self) -> None:
        self.frozen_at = time.time()

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@pytest.fixture(scope="session")
def kraken_rules() -> Exchange:
    result = compile_ruleset(str(Path(__file__).resolve().parents[3] / "rules"))
    exchange = next(iter(result.plans.values())).venues.exchange("kraken_futures")
    assert exchange is not None
    return exchange


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def venue(clock: Clock) -> FakeKraken:
    return FakeKraken(clock=clock)


@pytest.fixture
def fake(venue: FakeKraken) -> Iterator[FakeServer]:
    server = FakeServer(venue).start()
    yield server
    server.stop()


ClientFactory = Callable[..., KrakenFuturesClient]


@pytest.fixture
def waits() -> list[float]:
    """Every sleep the client asked for (it never really sleeps in a test)."""
    return []


@pytest.fixture
def make_client(fake: FakeServer, kraken_rules: Exchange, clock: Clock, waits: list[float]) -> ClientFactory:
    def sleep(seconds: float) -> None:
        """The client's waits (backoff, rate-limit pools) pass on the test's clock, at once."""
        waits.append(seconds)
        clock.advance(seconds)

    def make(*, keys: bool = True, secret: str = SECRET, timeout_s: float = 10.0, environ: dict | None = None):
        credentials = Credentials(KEY, secret) if keys else None
        return build(
            kraken_rules,
            credentials,
            base_url=fake.url,
            clock=clock,
            sleep=sleep,
            environ=environ or {},
            timeout_s=timeout_s,
            retry=RetryPolicy(attempts=3, initial_s=0.01, max_s=0.1, jitter_s=0.0),
        )

    return make


@pytest.fixture
def client(make_client: ClientFactory) -> Iterator[KrakenFuturesClient]:
    made = make_client()
    yield made
    made.close()
