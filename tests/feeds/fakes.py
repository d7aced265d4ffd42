"""In-test stand-ins for the live feed: a MarketDataPort and an IntelPort answering from
dicts (failures injected per endpoint), and a clock whose waits move it forward."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from engine.market.snapshot import Book, Candle
from engine.ports import Balance, Instrument, IntelReading, Ticker, VenuePosition

T = 1_748_131_200.0  # 2025-05-25 00:00 UTC


class FakeClock:
    """``now()`` is ``self.t``; a wait moves it forward by the time waited (the event wins)."""

    def __init__(self, t: float) -> None:
        self.t = t
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.t

    def wait(self, event: threading.Event, seconds: float) -> bool:
        self.waits.append(seconds)
        if event.is_set():
            return True
        self.t += seconds
        return False


@dataclass
class FakeMarket:
    """One price per symbol, a two-level book, minute candles up to the clock (the one still
    forming included, as venues answer), funding and open interest; ``fail[endpoint]`` raises."""

    clock: FakeClock
    prices: dict[str, float] = field(default_factory=lambda: {"BTCUSDT": 100_000.0, "ETHUSDT": 2_500.0})
    ticker_lag_s: float = 2.0  # the venue's stamp: this long before the answer
    fail: dict[str, Exception] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)

    def _enter(self, endpoint: str, symbol: str) -> None:
        self.calls.append((endpoint, symbol))
        if endpoint in self.fail:
            raise self.fail[endpoint]

    def instruments(self) -> Sequence[Instrument]:
        return [Instrument(s, "PF_" + s, 1.0, 0.0001, 0.1, 0.0001, 50.0) for s in self.prices]

    def ticker(self, symbol: str) -> Ticker:
        self._enter("ticker", symbol)
        price = self.prices[symbol]
        return Ticker(symbol, price, price * 1.0001, price - 1, price + 1, self.clock.t - self.ticker_lag_s)

    def order_book(self, symbol: str, depth: int = 20) -> Book:
        self._enter("order_book", symbol)
        price = self.prices[symbol]
        return Book(((price - 1, 2.0), (price - 2, 3.0)), ((price + 1, 1.5), (price + 2, 4.0)))

    def candles(self, symbol: str, timeframe: str, since: float, until: float | None = None) -> Sequence[Candle]:
        self._enter("candles", symbol)
        assert timeframe == "1m"
        price = self.prices[symbol]
        start = since - since % 60
        end = self.clock.t if until is None else until
        return [Candle(t, price, price + 5, price - 5, price, 1.0) for t in _range(start, end)]

    def funding_rate(self, symbol: str) -> float | None:
        self._enter("funding_rate", symbol)
        return 0.0001

    def open_interest_usd(self, symbol: str) -> float | None:
        self._enter("open_interest", symbol)
        return 1.0e9


def _range(start: float, end: float) -> list[float]:
    out, t = [], start
    while t <= end:
        out.append(t)
        t += 60.0
    return out


@dataclass
class FakeIntel:
    reading: IntelReading | None = None
    fail: Exception | None = None
    asked: list[float] = field(default_factory=list)

    def read(self, symbols: Sequence[str], now: float) -> IntelReading:
        self.asked.append(now)
        if self.fail is not None:
            raise self.fail
        assert self.reading is not None
        return self.reading


class WallTime:
    """The machine's clock where a fake reads ``clock.t`` (a command run in-process)."""

    @property
    def t(self) -> float:
        return time.time()


@dataclass
class FakeVenue(FakeMarket):
    """A FakeMarket with an account: what `rulebot venue check` reads with keys."""

    listed: list[Instrument] | None = None

    def instruments(self) -> Sequence[Instrument]:
        self._enter("instruments", "")
        return self.listed if self.listed is not None else super().instruments()

    def balance(self) -> Balance:
        self._enter("balance", "")
        return Balance(10_000.0, 10_250.5, 9_000.0)

    def positions(self) -> Sequence[VenuePosition]:
        self._enter("positions", "")
        return [VenuePosition("BTCUSDT", 0.01, 99_000.0, 2.0, 60_000.0)]
