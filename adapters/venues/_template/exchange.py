"""The venue's client: ``engine.ports.ExchangePort`` and ``MarketDataPort``. Sizes are base
units on the engine's side; the client converts to the venue's contracts (instruments.py).

Keep these rules when filling it in: every order carries the engine's client order id; the
answer of every order call is checked, not just its HTTP status; an order whose answer was
lost (timeout, 5xx, torn JSON) is looked up by its client order id before anything else and
never sent twice; reads may be retried, orders only when the venue says it did nothing."""

from __future__ import annotations

from adapters.venues._template.config import TemplateConfig
from adapters.venues._template.http import TemplateHttp


class TemplateClient:
    """Implement every method of ExchangePort (ticker, place_order, cancel_order,
    open_orders, order, positions, balance, fills_since, funding_since) and MarketDataPort
    (instruments, check_instruments, ticker, order_book, candles, funding_rate, open_interest_usd)."""

    def __init__(self, config: TemplateConfig, http: TemplateHttp) -> None:
        self.config, self.http = config, http

    def __repr__(self) -> str:
        return f"TemplateClient({self.config.base_url})"  # never the keys
