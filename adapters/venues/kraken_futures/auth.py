"""Kraken Futures request signing, exactly as published (reference §1.2, the REST guide's
"Authentication"):

    Authent = base64( HMAC-SHA-512( base64decode(secret), SHA-256(postData + nonce + endpointPath) ) )

* ``endpointPath`` is the URL path WITHOUT its leading ``/derivatives`` and without the query:
  a request to ``/derivatives/api/v3/sendorder`` hashes ``/api/v3/sendorder``; a history
  path (``/api/history/v2/orders``) is hashed whole. Hashing the prefix gives an Authent
  the venue rejects.
* ``postData`` is the url-encoded parameter text exactly as sent (the query of a GET, the
  form body of a POST, ``""`` without parameters): the caller encodes once with
  :func:`encode`, signs that text and sends the same text.
* ``nonce`` is sent in the ``Nonce`` header and must strictly increase per key; after a
  nonce error the request is signed again with a fresh one (http.py).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import threading
import time
from collections.abc import Callable, Mapping
from typing import Protocol
from urllib.parse import quote, urlencode

from engine.ports import VenueFatal

DERIVATIVES_PREFIX = "/derivatives"


class Keys(Protocol):
    """What signing needs of ``adapters.venues.common.secrets.Credentials``."""

    @property
    def api_key(self) -> str: ...

    @property
    def api_secret(self) -> str: ...


def endpoint_path(url_path: str) -> str:
    """The path Kraken hashes: the URL path without ``/derivatives`` and without a query."""
    return url_path.split("?", 1)[0].removeprefix(DERIVATIVES_PREFIX)


def encode(params: Mapping[str, object]) -> str:
    """Parameters as Kraken hashes them: ``quote`` encoding (a space is ``%20``, never ``+``),
    booleans as ``true``/``false``, in the order given. ``None`` values are left out."""
    items = [(k, _text(v)) for k, v in params.items() if v is not None]
    return urlencode(items, quote_via=quote)


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def authent(secret_b64: str, post_data: str, nonce: str, path: str) -> str:
    """The Authent header for one request; ``path`` is the endpointPath (see the module doc)."""
    digest = hashlib.sha256((post_data + nonce + path).encode("utf-8")).digest()
    mac = hmac.new(base64.b64decode(secret_b64, validate=True), digest, hashlib.sha512)
    return base64.b64encode(mac.digest()).decode("ascii")


class Signer:
    """Makes the ``APIKey``/``Authent``/``Nonce`` headers of one request. Nonces are
    milliseconds since the epoch, raised by one whenever the clock has not moved on, so two
    requests in the same millisecond (or after the clock stepped back) still increase."""

    def __init__(self, credentials: Keys, *, clock: Callable[[], float] = time.time, venue: str = "kraken_futures"):
        self._credentials = credentials
        self._clock = clock
        self._last_nonce = 0
        self._lock = threading.Lock()
        try:
            base64.b64decode(credentials.api_secret, validate=True)
        except (binascii.Error, ValueError):
            raise VenueFatal(
                f"{venue}: the API secret is not valid base64 (Kraken issues it base64-encoded; "
                "check that the whole value was copied)",
                venue=venue,
            ) from None

    def __repr__(self) -> str:  # the credentials never reach a log line through this object
        return "Signer(<credentials hidden>)"

    def nonce(self) -> str:
        with self._lock:
            self._last_nonce = max(self._last_nonce + 1, int(self._clock() * 1000))
            return str(self._last_nonce)

    def headers(self, url_path: str, post_data: str) -> dict[str, str]:
        """Fresh headers (a new nonce) for a request to ``url_path`` carrying ``post_data``."""
        nonce = self.nonce()
        return {
            "APIKey": self._credentials.api_key,
            "Authent": authent(self._credentials.api_secret, post_data, nonce, endpoint_path(url_path)),
            "Nonce": nonce,
        }
