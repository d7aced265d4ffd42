"""The fake Kraken Futures of tests/venues/fakes/kraken_futures.py as the end-to-end tests
need it: it accepts the distinctive canary keys the tests put in the child's environment
(still verifying every ``Authent`` with the published algorithm), and its charts answer
candles around the current price (the base fake's are a flat 100, far from its tickers).
Started in the pytest process, on loopback, for a ``rulebot`` child to call."""

from __future__ import annotations

import base64
import hmac
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from tests.venues.fakes.kraken_futures import FakeKraken, FakeServer, authent

KEY = f"LEAKCANARY-key-{uuid.uuid4().hex[:12]}"
SECRET_TEXT = f"LEAKCANARY-secret-{uuid.uuid4().hex[:12]}"
SECRET = base64.b64encode(SECRET_TEXT.encode()).decode()
CANARIES = (KEY, SECRET, SECRET_TEXT)
KEY_ENV = {"KRAKEN_FUTURES_API_KEY": KEY, "KRAKEN_FUTURES_API_SECRET": SECRET}


@dataclass
class CanaryKraken(FakeKraken):
    """A fake Kraken Futures whose keys are the canaries; ``signed`` counts the private calls
    whose signature checked out."""

    key: str = KEY
    secret: str = SECRET
    signed: int = 0
    refused: list[str] = field(default_factory=list)

    def verify(self, headers: Any, post_data: str, path: str) -> str | None:
        nonce = headers.get("Nonce", "")
        expected = authent(self.secret, post_data, nonce, path)
        if headers.get("APIKey") != self.key or not hmac.compare_digest(expected, headers.get("Authent", "")):
            with self.lock:
                self.auth_failures += 1
                self.refused.append(path)
            return "authenticationError"
        with self.lock:
            if nonce:
                if int(nonce) <= self.last_nonce:
                    return "nonceBelowThreshold"
                self.last_nonce = int(nonce)
            self.signed += 1
        return None

    def charts(self, path: str, query: dict[str, list[str]]) -> Any:
        answer = super().charts(path, query)
        symbol = path.split("/")[-2].upper()
        price = self.prices.get(symbol, Decimal(100))
        for candle in answer["candles"]:
            candle.update(open=str(price), high=str(price + 5), low=str(price - 5), close=str(price))
        return answer

    def hold(self, symbol: str, size: str, price: str) -> None:
        """A position the venue holds (signed size in contracts), as if opened earlier."""
        with self.lock:
            self.positions[symbol] = (Decimal(size), Decimal(price))

    def trigger_orders(self) -> list[Any]:
        """The stop and take-profit orders received, whatever became of them."""
        with self.lock:
            return [o for o in self.orders.values() if o.kind in ("stp", "take_profit")]


@contextmanager
def serving(venue: FakeKraken) -> Iterator[FakeServer]:
    server = FakeServer(venue).start()
    try:
        yield server
    finally:
        server.stop()
