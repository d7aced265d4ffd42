"""The venue over the common HTTP layer (adapters/venues/common/http.py): the layer retries,
times out, charges the rate-limit pools and maps HTTP failures; this file adds what is the
venue's own: the signed headers, and its error envelope (an HTTP 200 with an error inside)
read into the port's classes — retryable, rejected, fatal (keys, permissions)."""

from __future__ import annotations

from typing import Any

from adapters.venues.common.http import VenueHttp
from adapters.venues.common.secrets import Credentials
from engine.ports import VenueFatal


class TemplateHttp:
    def __init__(self, http: VenueHttp, credentials: Credentials | None) -> None:
        self.http, self.credentials = http, credentials

    def public(self, path: str) -> Any:
        """An unsigned GET; the answer's JSON (VenueAnswerMalformed when it is not JSON)."""
        return self.http.json(self.http.request("GET", path))

    def require_keys(self, path: str) -> Credentials:
        """The keys for a private call, or VenueFatal naming what is missing (never a value)."""
        if self.credentials is None:
            raise VenueFatal(f"{self.http.venue} {path}: needs API keys", venue=self.http.venue, endpoint=path)
        return self.credentials
