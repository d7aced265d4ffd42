"""BloFin USDT-margined perpetuals: rulebot's ExchangePort and MarketDataPort (docs/venues/blofin.md).

config (the rules' blofin exchange) → auth (ACCESS-SIGN) → http (signed text, envelope
codes, rate-limit pools, firewall pause) → wire (answers into frozen records) →
instruments (contracts, lots, ticks, the rules' check) → exchange (the client).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping

import httpx

from adapters.venues.blofin.auth import Signer
from adapters.venues.blofin.config import BlofinConfig
from adapters.venues.blofin.exchange import BlofinClient
from adapters.venues.blofin.http import BlofinHttp
from adapters.venues.common.http import VenueHttp
from adapters.venues.common.ratelimit import RateLimits
from adapters.venues.common.secrets import Credentials, redact
from engine.common.redaction import redact_tokens
from engine.language.kinds.venues import Exchange


def build(
    exchange: Exchange,
    credentials: Credentials | None = None,
    base_url: str | None = None,
    *,
    transport: httpx.BaseTransport | None = None,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    environ: Mapping[str, str] = os.environ,
    timeout_s: float = 10.0,
) -> BlofinClient:
    """The BloFin client of the rules' ``blofin`` exchange; public calls only without keys."""
    config = BlofinConfig.from_exchange(exchange, base_url=base_url, environ=environ)
    limits = RateLimits.from_rules(config.rate_limits, clock=time.monotonic, sleep=sleep)
    http = VenueHttp(
        config.venue_id,
        config.base_url,
        limits=limits,
        timeout_s=timeout_s,
        transport=transport,
        clock=clock,
        sleep=sleep,
        redact=lambda text: redact_tokens(redact(text, credentials)),
    )
    signer = Signer(credentials, clock=clock) if credentials is not None else None
    names = ", ".join(config.credential_names.values())
    pools = frozenset(str(pool["pool"]) for pool in config.rate_limits)
    client_http = BlofinHttp(http, signer=signer, limits=limits, pools=pools, clock=clock, key_names=names)
    return BlofinClient(config, client_http, clock=clock)


__all__ = ["BlofinClient", "BlofinConfig", "build"]
