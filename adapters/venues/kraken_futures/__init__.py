"""Kraken Futures linear perpetuals (``PF_``): rulebot's ExchangePort and MarketDataPort
(docs/venues/kraken-futures.md).

config (the rules' kraken_futures exchange, demo host) → auth (Authent, nonce) → http
(signed text, Kraken's envelope, rate-limit pools) → wire (answers into frozen records) →
instruments (specs, rounding, the rules' check) → exchange (the client).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping

import httpx

from adapters.venues.common.http import RetryPolicy, VenueHttp
from adapters.venues.common.ratelimit import RateLimits
from adapters.venues.common.secrets import Credentials, redact
from adapters.venues.kraken_futures.auth import Signer
from adapters.venues.kraken_futures.config import KrakenConfig
from adapters.venues.kraken_futures.exchange import KrakenFuturesClient
from adapters.venues.kraken_futures.http import KrakenHttp
from engine.common.redaction import redact_tokens
from engine.language.kinds.venues import Exchange

#: Pools every request is charged to (the seed's client-side guard), besides its own pool.
GUARDS = ("client_guard", "client_guard_minute")


def build(
    exchange: Exchange,
    credentials: Credentials | None = None,
    base_url: str | None = None,
    *,
    transport: httpx.BaseTransport | None = None,
    clock: Callable[[], float] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    environ: Mapping[str, str] = os.environ,
    timeout_s: float = 10.0,
    retry: RetryPolicy | None = None,
) -> KrakenFuturesClient:
    """The Kraken Futures client of the rules' exchange; public calls only without keys.

    ``clock`` (epoch seconds) and ``sleep`` are for tests: an injected clock also drives the
    rate-limit buckets, so a test's sleep can move it; without one the buckets run on the
    monotonic clock and the rest on wall time."""
    config = KrakenConfig.from_exchange(exchange, base_url=base_url, environ=environ)
    limits = RateLimits.from_rules(config.rate_limits, clock=clock or time.monotonic, sleep=sleep)
    wall = clock or time.time
    declared = {str(pool["pool"]) for pool in config.rate_limits}
    http = VenueHttp(
        config.venue_id,
        config.base_url,
        limits=limits,
        guards=[g for g in GUARDS if g in declared],
        timeout_s=timeout_s,
        transport=transport,
        retry=retry or RetryPolicy(),
        clock=wall,
        sleep=sleep,
        redact=lambda text: redact_tokens(redact(text, credentials)),
    )
    signer = Signer(credentials, clock=wall) if credentials is not None else None
    names = ", ".join(config.credential_names.values())
    return KrakenFuturesClient(config, KrakenHttp(http, signer=signer, key_names=names, sleep=sleep), clock=wall)


__all__ = ["KrakenConfig", "KrakenFuturesClient", "build"]
