"""Kraken Futures request signing, exactly as published (docs.kraken.com "Authentication";
reference/exchanges.md §1.2):

    Authent = base64(HMAC-SHA512(base64decode(secret), SHA256(postData + nonce + endpointPath)))

``endpointPath`` is the URL path without a leading ``/derivatives`` and without the query;
``postData`` is the url-encoded parameter string exactly as sent (a space is ``%20``).
The caller encodes once, signs that string, and sends that same string.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote, urlencode

from adapters.venues.common.secrets import Credentials
from engine.ports import VenueFatal

DERIVATIVES = "/derivatives"


def encode(params: Mapping[str, Any] | None) -> str:
    """The url-encoded parameter string (``%20`` for a space, booleans ``true``/``false``,
    repeated keys for a list): what is both signed and sent."""
    if not params:
        return ""
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        for item in value if isinstance(value, (list, tuple)) else (value,):
            pairs.append((key, _text(item)))
    return urlencode(pairs, quote_via=quote)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def endpoint_path(path: str) -> str:
    """The path Kraken hashes: the request path without ``/derivatives`` and the query."""
    return path.split("?", 1)[0].removeprefix(DERIVATIVES)


def authent(secret_b64: str, post_data: str, nonce: str, path: str) -> str:
    """The ``Authent`` header of one request (``path`` with or without ``/derivatives``)."""
    digest = hashlib.sha256((post_data + nonce + endpoint_path(path)).encode("utf-8")).digest()
    mac = hmac.new(base64.b64decode(secret_b64, validate=True), digest, hashlib.sha512)
    return base64.b64encode(mac.digest()).decode("ascii")


class Signer:
    """Signs requests with one key pair and a strictly increasing nonce (milliseconds, bumped
    past the last one), so a nonce error is answered by signing again with a fresh one."""

    def __init__(self, credentials: Credentials, *, clock: Callable[[], float] = time.time) -> None:
        try:
            base64.b64decode(credentials.api_secret, validate=True)
        except (binascii.Error, ValueError):
            raise VenueFatal(
                "kraken_futures: the API secret is not valid base64 (Kraken issues it base64-encoded)",
                venue="kraken_futures",
            ) from None
        self._credentials, self._clock = credentials, clock
        self._last = 0
        self._lock = threading.Lock()

    def nonce(self) -> str:
        with self._lock:
            self._last = max(int(self._clock() * 1000), self._last + 1)
            return str(self._last)

    def headers(self, post_data: str, path: str) -> dict[str, str]:
        """APIKey, Nonce and Authent for one request, with a fresh nonce."""
        nonce = self.nonce()
        return {
            "APIKey": self._credentials.api_key,
            "Nonce": nonce,
            "Authent": authent(self._credentials.api_secret, post_data, nonce, path),
        }
