"""Kraken Futures over the common HTTP layer: encode once, sign, send that same text, and
read Kraken's envelope (``result: "error"`` or an ``errors`` list, often on HTTP 200) into
the port's error classes (reference/exchanges.md §1.12):

* ``apiLimitExceeded``, ``unavailable``, ``Server Error``, ``marketUnavailable`` → retryable;
* ``nonceBelowThreshold``, ``nonceDuplicate`` → signed again with a fresh nonce, once, for
  every call (the venue refused the request before acting on it);
* ``authenticationError``, ``accountInactive``, ``invalidAccount`` → fatal;
* ``unknownError`` → retryable for a read, an unknown outcome for an order;
* anything else → rejected.

Idempotent calls are retried on the retryable ones with the common backoff; an order is
never retried here (exchange.py looks it up by its ``cliOrdId`` instead).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import tenacity

from adapters.venues.common.http import VenueHttp
from adapters.venues.kraken_futures.auth import Signer, encode, endpoint_path
from engine.ports import (
    OrderOutcomeUnknown,
    VenueAnswerMalformed,
    VenueError,
    VenueFatal,
    VenueRejected,
    VenueRetryable,
)

logger = logging.getLogger(__name__)

DERIVATIVES_POOL = "derivatives"
HISTORY_POOL = "history"
RETRYABLE = frozenset({"apiLimitExceeded", "unavailable", "Unavailable", "Server Error", "marketUnavailable"})
NONCE = frozenset({"nonceBelowThreshold", "nonceDuplicate"})
FATAL = frozenset({"authenticationError", "accountInactive", "invalidAccount"})
UNKNOWN = "unknownError"
FORM = "application/x-www-form-urlencoded"


class _Again(Exception):
    """Carries a port error the venue put in its envelope (the common layer never saw it)
    through the retry loop: ``nonce`` when the venue refused the nonce and did nothing, so
    signing again is safe even for an order. Not a RulebotError: it never leaves this module."""

    def __init__(self, error: VenueError, *, nonce: bool = False) -> None:
        super().__init__(str(error))
        self.error, self.nonce = error, nonce


class KrakenHttp:
    """Public and signed calls to one Kraken Futures host, answers checked for errors."""

    def __init__(
        self,
        http: VenueHttp,
        *,
        signer: Signer | None,
        key_names: str = "",
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.http, self.signer, self._key_names, self._sleep = http, signer, key_names, sleep
        self.venue = http.venue

    @property
    def has_keys(self) -> bool:
        return self.signer is not None

    def public(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """A public GET (no cost on Kraken's pools); the answer's JSON, checked."""
        return self._call("GET", path, params, pool=None, cost=0.0, idempotent=True, signed=False)

    def private(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        cost: float,
        idempotent: bool,
        pool: str = DERIVATIVES_POOL,
        retry: bool = True,
    ) -> Any:
        """A signed call charged ``cost`` to ``pool``; the answer's JSON, checked. ``retry``
        False: the envelope's errors and unreadable answers are not tried again (a call whose
        failure is expected and explained by the caller)."""
        if self.signer is None:
            names = f" ({self._key_names})" if self._key_names else ""
            raise VenueFatal(
                f"{self.venue} {method} {path}: needs API keys; none are set in the environment{names}",
                venue=self.venue,
                endpoint=path,
            )
        return self._call(method, path, params, pool=pool, cost=cost, idempotent=idempotent, signed=True, retry=retry)

    def _call(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        *,
        pool: str | None,
        cost: float,
        idempotent: bool,
        signed: bool,
        retry: bool = True,
    ) -> Any:
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(max(2, self.http.retry.attempts) if retry else 1),
            retry=_should_retry(idempotent),
            wait=self.http.retry.backoff(),
            sleep=self._sleep,
            before_sleep=lambda state: logger.info(
                "%s %s %s: %s; trying again",
                self.venue,
                method,
                path,
                state.outcome.exception() if state.outcome else "",
            ),
            reraise=True,
        )
        try:
            return retrying(self._once, method, path, params, pool, cost, idempotent, signed)
        except _Again as again:
            raise again.error from None

    def _once(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        pool: str | None,
        cost: float,
        idempotent: bool,
        signed: bool,
    ) -> Any:
        text = encode(params)
        headers = {"Accept": "application/json"}
        if signed and self.signer is not None:
            headers |= self.signer.headers(text, path)
        if method == "GET":
            url, content = (f"{path}?{text}" if text else path), None
        else:
            url, content = path, text.encode("ascii")
            headers["Content-Type"] = FORM
        response = self.http.request(
            method, url, content=content, headers=headers, pool=pool, cost=cost, idempotent=idempotent
        )
        data = self.http.json(response)
        self._check(data, method, path, idempotent, response.status_code)
        return data

    def _check(self, data: Any, method: str, path: str, idempotent: bool, status: int) -> None:
        where: dict[str, Any] = {"venue": self.venue, "endpoint": endpoint_path(path), "status": status}
        if not isinstance(data, dict):
            if isinstance(data, list) or path.startswith("/api/charts"):
                return
            raise VenueAnswerMalformed(f"{self.venue} {path}: the answer is not a JSON object", **where)
        error = _error_name(data)
        if error is None:
            return
        text = f"{self.venue} {method} {path.split('?', 1)[0]}: {error}"
        if error in NONCE:
            raise _Again(VenueRetryable(text + " (signed again with a fresh nonce)", **where), nonce=True)
        if error in FATAL:
            raise VenueFatal(text + " (check the API keys and their permissions)", **where)
        if error in RETRYABLE:
            raise _Again(VenueRetryable(text, **where))
        if error == UNKNOWN:
            if idempotent:
                raise _Again(VenueRetryable(text, **where))
            raise OrderOutcomeUnknown(text + "; the request may have been accepted", **where)
        raise VenueRejected(text, **where)


def _error_name(data: dict[str, Any]) -> str | None:
    """The venue's error name (``error``, else the first of ``errors``), or None for a
    successful answer."""
    failed = data.get("result") == "error" or ("error" in data and data.get("result") != "success")
    if failed and data.get("error"):
        return str(data["error"])
    errors = data.get("errors")
    if isinstance(errors, list) and errors:
        first = errors[0]
        return str(first.get("message") or first.get("code")) if isinstance(first, dict) else str(first)
    return "error (no name given)" if failed else None


def _should_retry(idempotent: bool) -> Callable[[tenacity.RetryCallState], bool]:
    """Nonce refusals once more for any call; for idempotent calls the envelope's retryable
    errors and a torn or non-JSON answer (the common layer already retried transport and HTTP
    status failures). An order's unreadable answer is never retried: exchange.py looks it up."""

    def decide(state: tenacity.RetryCallState) -> bool:
        error = state.outcome.exception() if state.outcome is not None else None
        if isinstance(error, _Again) and error.nonce:
            return state.attempt_number < 2
        return idempotent and isinstance(error, (_Again, VenueAnswerMalformed))

    return decide


__all__ = ["DERIVATIVES_POOL", "HISTORY_POOL", "KrakenHttp", "VenueError"]
