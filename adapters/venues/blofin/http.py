"""BloFin over the shared venue HTTP layer: encode once, sign those characters, send them.

``VenueHttp`` (adapters/venues/common/http.py) owns the transport, the rate-limit pools, the
retries of idempotent calls and the mapping of HTTP failures to the port errors. This layer
adds what is BloFin's own:

* the query string and the compact JSON body are built here as text, signed, and sent as
  exactly that text (never ``params=``/``json=``: reference §0.1, §2.2);
* the envelope's body code is checked (errors arrive as HTTP 200, wire.py maps them);
* a nonce or timestamp error (152407, 152405) means BloFin refused the request unread, so it
  is signed afresh and sent once more, order or not;
* trading endpoints also draw from the ``trading`` pool (30 requests / 10 s per user);
* HTTP 403 is BloFin's firewall ("in most cases a five-minute temporary ban"): every call
  is refused locally, without sending, for five minutes, so the ban is not prolonged.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote, urlencode

from adapters.venues.blofin import wire
from adapters.venues.blofin.auth import Signer
from adapters.venues.common.http import VenueHttp
from adapters.venues.common.ratelimit import RateLimits
from engine.ports import VenueFatal, VenueRetryable

logger = logging.getLogger(__name__)

REST_POOL, TRADING_POOL = "rest_ip", "trading"
FIREWALL_PAUSE_S = 300.0


class BlofinHttp:
    def __init__(
        self,
        http: VenueHttp,
        *,
        signer: Signer | None,
        limits: RateLimits | None = None,
        pools: frozenset[str] = frozenset(),
        clock: Callable[[], float] = time.time,
        key_names: str = "BLOFIN_API_KEY, BLOFIN_API_SECRET, BLOFIN_API_PASSPHRASE",
    ):
        self.http = http
        self._signer = signer
        self._limits = limits
        self._pools = pools
        self._clock = clock
        self._key_names = key_names
        self._paused_until = 0.0

    @property
    def has_keys(self) -> bool:
        return self._signer is not None

    def public(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self._call(
            "GET", path, params, None, signed=False, trading=False, accept=frozenset(), idempotent=True
        ).data

    def private_get(
        self, path: str, params: Mapping[str, Any] | None = None, accept: frozenset[str] = frozenset()
    ) -> wire.Envelope:
        return self._call("GET", path, params, None, signed=True, trading=False, accept=accept, idempotent=True)

    def private_post(
        self,
        path: str,
        body: Any,
        *,
        trading: bool = True,
        accept: frozenset[str] = frozenset(),
        idempotent: bool = False,
    ) -> wire.Envelope:
        return self._call("POST", path, None, body, signed=True, trading=trading, accept=accept, idempotent=idempotent)

    def _call(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        body: Any,
        *,
        signed: bool,
        trading: bool,
        accept: frozenset[str],
        idempotent: bool,
    ) -> wire.Envelope:
        query = urlencode({k: str(v) for k, v in (params or {}).items() if v is not None}, quote_via=quote)
        request_path = f"{path}?{query}" if query else path
        content = "" if body is None else json.dumps(body, separators=(",", ":"), ensure_ascii=False)
        for attempt in (1, 2):
            payload = self._send(
                method, path, request_path, content, signed=signed, trading=trading, idempotent=idempotent
            )
            code = str(payload.get("code")) if isinstance(payload, dict) else ""
            if attempt == 1 and code in wire.NONCE_OR_CLOCK_CODES:
                logger.warning("blofin %s: code %s (nonce or timestamp refused); signing afresh once", path, code)
                continue
            return wire.envelope(payload, path, accept)
        raise AssertionError("unreachable: the second attempt returns or raises")

    def _send(
        self, method: str, path: str, request_path: str, content: str, *, signed: bool, trading: bool, idempotent: bool
    ) -> Any:
        if self._clock() < self._paused_until:
            raise VenueRetryable(
                f"blofin {path}: paused after BloFin's firewall answered 403; not sent for "
                f"{self._paused_until - self._clock():.0f} s more",
                venue=wire.VENUE,
                endpoint=path,
            )
        headers: dict[str, str] = {}
        if signed:
            if self._signer is None:
                raise VenueFatal(
                    f"blofin {path}: no API keys (set {self._key_names} in the environment)",
                    venue=wire.VENUE,
                    endpoint=path,
                )
            headers = self._signer.headers(method, request_path, content)
        elif content:
            headers = {"Content-Type": "application/json"}
        if trading and self._limits is not None and TRADING_POOL in self._pools:
            self._limits.acquire(TRADING_POOL)
        try:
            response = self.http.request(
                method,
                request_path,
                content=content.encode("utf-8") if content else None,
                headers=headers,
                pool=REST_POOL if REST_POOL in self._pools else None,
                idempotent=idempotent,
            )
        except VenueFatal as error:
            if error.status == 403:
                self._paused_until = self._clock() + FIREWALL_PAUSE_S
                raise VenueRetryable(
                    f"blofin {path}: HTTP 403, BloFin's firewall; every call pauses {FIREWALL_PAUSE_S:.0f} s",
                    venue=wire.VENUE,
                    endpoint=path,
                    status=403,
                ) from error
            raise
        return self.http.json(response)
