"""Execution venues: one package per venue of the same shape (config, auth, http, wire,
instruments, exchange; ``_template/`` is the one to copy), and this explicit registry.

``VENUES[kind](exchange, credentials, base_url)`` builds the client of a rules exchange
(``engine.language.kinds.venues.Exchange``) — ``credentials`` None for public calls only,
``base_url`` None for the rules' host — implementing ``engine.ports.ExchangePort`` and
``engine.ports.MarketDataPort``. Adding a venue is one line here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from adapters.venues import blofin
from adapters.venues import kraken_futures

VenueFactory = Callable[..., Any]

VENUES: dict[str, VenueFactory] = {
    "blofin": blofin.build,
    "kraken_futures": kraken_futures.build,
}
