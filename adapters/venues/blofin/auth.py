"""BloFin request signing (reference §2.2, docs.blofin.com "REST Authentication").

ACCESS-SIGN is base64 of the lowercase HEX string of HMAC-SHA256(secret, prehash), not of
the raw digest: the docs warn about exactly that mistake. The prehash is
``requestPath + METHOD + timestamp + nonce + body``, where requestPath carries the query
string of a GET and body is the exact JSON text sent with a POST. The caller therefore
encodes once, signs those characters and sends the same characters (rulebot rule §0.1).

The nonce is a fresh UUID per request: error 152407 rejects a nonce reused within 60 s, so
the millisecond timestamp (what ccxt and the official SDK send) collides under load.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import uuid
from collections.abc import Callable
from typing import Protocol


class Keys(Protocol):
    """What signing needs of ``adapters.venues.common.secrets.Credentials``."""

    @property
    def api_key(self) -> str: ...

    @property
    def api_secret(self) -> str: ...

    @property
    def passphrase(self) -> str: ...


def prehash(request_path: str, method: str, timestamp: str, nonce: str, body: str) -> str:
    """The string BloFin signs, in its documented order."""
    return f"{request_path}{method.upper()}{timestamp}{nonce}{body}"


def sign(secret: str, request_path: str, method: str, timestamp: str, nonce: str, body: str) -> str:
    """ACCESS-SIGN: base64 of the hex digest's ASCII bytes (always 88 characters)."""
    message = prehash(request_path, method, timestamp, nonce, body).encode("utf-8")
    hexdigest = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()
    return base64.b64encode(hexdigest.encode("ascii")).decode("ascii")


def new_nonce() -> str:
    return str(uuid.uuid4())


class Signer:
    """Makes the five ACCESS-* headers of one request; a new timestamp and nonce every call,
    so a request re-sent after a nonce or timestamp error is signed afresh."""

    def __init__(
        self,
        credentials: Keys,
        *,
        clock: Callable[[], float] = time.time,
        nonce: Callable[[], str] = new_nonce,
    ):
        self._credentials = credentials
        self._clock = clock
        self._nonce = nonce

    def __repr__(self) -> str:  # the credentials never reach a log line through this object
        return "Signer(<credentials hidden>)"

    def headers(self, method: str, request_path: str, body: str) -> dict[str, str]:
        timestamp = str(int(self._clock() * 1000))
        nonce = self._nonce()
        signature = sign(self._credentials.api_secret, request_path, method, timestamp, nonce, body)
        return {
            "ACCESS-KEY": self._credentials.api_key,
            "ACCESS-SIGN": signature,
            "ACCESS-TIMESTAMP": timestamp,
            "ACCESS-NONCE": nonce,
            "ACCESS-PASSPHRASE": self._credentials.passphrase,
            "Content-Type": "application/json",
        }
