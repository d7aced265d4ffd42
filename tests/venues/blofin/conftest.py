"""A fake BloFin on loopback per test, and clients of it built from the real rules."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from adapters.venues.blofin import BlofinClient, build
from adapters.venues.common.secrets import Credentials
from engine.language.compiler import compile_ruleset
from engine.language.kinds.venues import Exchange
from tests.venues.fakes.blofin import KEY, PASSPHRASE, SECRET, FakeBlofin, FakeServer


class Clock:
    """Wall time plus an offset a test moves forward; the fake venue reads the same clock,
    so signatures stay fresh while the client believes minutes have passed."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@pytest.fixture(scope="session")
def blofin_rules() -> Exchange:
    result = compile_ruleset(str(Path(__file__).resolve().parents[3] / "rules"))
    exchange = next(iter(result.plans.values())).venues.exchange("blofin")
    assert exchange is not None
    return exchange


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def fake(clock: Clock) -> Iterator[FakeServer]:
    server = FakeServer(FakeBlofin(clock=clock)).start()
    yield server
    server.stop()


ClientFactory = Callable[..., BlofinClient]


@pytest.fixture
def make_client(fake: FakeServer, blofin_rules: Exchange, clock: Clock) -> ClientFactory:
    def make(*, keys: bool = True, secret: str = SECRET, timeout_s: float = 10.0) -> BlofinClient:
        credentials = Credentials(KEY, secret, PASSPHRASE) if keys else None
        return build(
            blofin_rules,
            credentials,
            base_url=fake.url,
            clock=clock,
            sleep=lambda seconds: None,
            environ={},
            timeout_s=timeout_s,
        )

    return make


@pytest.fixture
def client(make_client: ClientFactory) -> BlofinClient:
    return make_client()
