"""The venue template: copy this folder to ``adapters/venues/<kind>/`` to add a venue.

Nothing imports this package; it is a starting point, not code that runs. Every venue has
the same shape (docs/architecture.md, DESIGN.md), so a reader who knows one knows all:

=================  ==========================================================================
``config.py``      what the client takes from the rules' exchange (rules/venues.yaml): host
                   (argument, then ``<VENUE>_BASE_URL``, then the demo host when
                   ``<VENUE>_TESTNET`` is set, then the rules), symbol map, offline specs,
                   fees, rate-limit pools, the NAMES of the key variables.
``auth.py``        the venue's published signing algorithm and nothing else; a test runs it
                   over every case of ``/work/shared/vectors/<venue>_auth.json``.
``http.py``        the common ``VenueHttp`` (retries, timeouts, pools) plus what is the
                   venue's own: encode once, sign, send those bytes; read its error envelope
                   (often HTTP 200) into the port's error classes (engine/ports.py RB610–617).
``wire.py``        every answer parsed at the edge into frozen records; numbers read exactly
                   (``Decimal(str(x))``); a missing list is "unknown", never "empty"; absurd
                   values (price 0, negative size) refused with VenueAnswerMalformed naming
                   venue, endpoint and field.
``instruments.py`` contract specs loaded once, checked against the rules (InstrumentMismatch
                   naming each difference), base units ↔ contracts, prices on the tick grid.
``exchange.py``    the client: ``engine.ports.ExchangePort`` and ``MarketDataPort``. Every
                   order carries the engine's client order id; an order whose answer was lost
                   is looked up by that id before anything else and never sent twice.
=================  ==========================================================================

To register the venue, add one line to ``VENUES`` in ``adapters/venues/__init__.py``::

    from adapters.venues import myvenue
    VENUES = {..., "myvenue": myvenue.build}

where the key is the ``kind`` of its exchange in rules/venues.yaml. ``build`` must accept
``build(exchange, credentials, base_url=None)`` (engine/cli/compose.py ``live_broker`` and
``venue_client`` call it so) and the test keywords ``transport``, ``clock`` and ``sleep``.
Tests: a fake venue on loopback in ``tests/venues/fakes/<kind>.py`` that verifies signatures
with the published algorithm and injects faults, and ``tests/venues/<kind>/``; a page
``docs/venues/<kind>.md`` linked from docs/README.md. Kraken Futures
(``adapters/venues/kraken_futures/``) is a complete example of every file.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from adapters.venues._template.config import TemplateConfig
from adapters.venues._template.exchange import TemplateClient
from adapters.venues._template.http import TemplateHttp
from adapters.venues.common.http import VenueHttp
from adapters.venues.common.ratelimit import RateLimits
from adapters.venues.common.secrets import Credentials
from engine.language.kinds.venues import Exchange


def build(
    exchange: Exchange,
    credentials: Credentials | None = None,
    base_url: str | None = None,
    *,
    transport: httpx.BaseTransport | None = None,
    clock: Callable[[], float] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> TemplateClient:
    """The venue's client from the rules' exchange; public calls only without keys."""
    config = TemplateConfig.from_exchange(exchange, base_url=base_url)
    limits = RateLimits.from_rules(config.rate_limits, clock=clock or time.monotonic, sleep=sleep)
    http = VenueHttp(
        config.venue_id, config.base_url, limits=limits, transport=transport, clock=clock or time.time, sleep=sleep
    )
    return TemplateClient(config, TemplateHttp(http, credentials))
