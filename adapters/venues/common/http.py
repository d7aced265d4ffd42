"""One HTTP layer for every venue client: the rules' base URL, the rate-limit pools, a
timeout, and every failure mapped to the port's error classes (engine/ports.py) so callers
decide by class, never by parsing messages:

* connection refused or timed out before sending → ``VenueRetryable`` (nothing reached the venue);
* a timeout or broken connection after sending → ``VenueRetryable`` for an idempotent request,
  ``OrderOutcomeUnknown`` for one that is not (an order may have been accepted: look it up by
  its client order id, never send it again blindly);
* HTTP 429, 503 → ``VenueRetryable``; other 5xx → the same, or ``OrderOutcomeUnknown`` when
  not idempotent (a gateway may have passed the request on);
* 401, 403 → ``VenueFatal``; other 4xx → ``VenueRejected``.

Only idempotent requests are retried here (tenacity: exponential backoff with jitter, a
``Retry-After`` honoured); a venue's own error envelope (HTTP 200 with an error inside) is
the venue client's to read. Messages name the venue, method and path and never carry a
secret: every text taken from an answer goes through ``redact`` first.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import tenacity

from adapters.venues.common.ratelimit import RateLimits
from engine.common.redaction import redact_tokens
from engine.ports import (
    OrderOutcomeUnknown,
    VenueAnswerMalformed,
    VenueError,
    VenueFatal,
    VenueRejected,
    VenueRetryable,
)

logger = logging.getLogger(__name__)

EXCERPT = 200  # characters of an error answer quoted in a message


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How idempotent requests are retried: ``attempts`` in all, waits growing from
    ``initial_s`` to ``max_s`` with up to ``jitter_s`` of random jitter."""

    attempts: int = 3
    initial_s: float = 0.5
    max_s: float = 8.0
    jitter_s: float = 0.5

    def backoff(self) -> tenacity.wait.wait_base:
        """The wait before each retry: exponential from ``initial_s`` up to ``max_s``, plus jitter."""
        return tenacity.wait_exponential(multiplier=self.initial_s, max=self.max_s) + tenacity.wait_random(
            0, self.jitter_s
        )


class VenueHttp:
    """A venue's HTTP client (httpx) with its pools, timeout, retry policy and the latency
    and clock skew it last measured (``rulebot venue check`` shows both)."""

    def __init__(
        self,
        venue: str,
        base_url: str,
        *,
        limits: RateLimits | None = None,
        guards: Sequence[str] = (),
        timeout_s: float = 10.0,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy = RetryPolicy(),
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        redact: Callable[[str], str] = redact_tokens,
    ) -> None:
        self.venue, self.base_url = venue, base_url.rstrip("/")
        self.limits, self.guards = limits, tuple(guards)
        self.retry, self._clock, self._sleep, self._redact = retry, clock, sleep, redact
        self.client = httpx.Client(
            base_url=self.base_url, timeout=timeout_s, transport=transport, follow_redirects=False
        )
        self.last_latency_s: float | None = None
        self.clock_skew_s: float | None = None  # venue clock minus ours, from the Date header (1 s resolution)

    def close(self) -> None:
        self.client.close()

    # ------------------------------------------------------------------ requests

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        content: str | bytes | None = None,
        headers: Mapping[str, str] | None = None,
        pool: str | None = None,
        cost: float = 1.0,
        idempotent: bool = True,
    ) -> httpx.Response:
        """Send one request (retried when idempotent and the failure is retryable); the
        answer of a 2xx/3xx status, else the port error that says what happened."""
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(max(1, self.retry.attempts) if idempotent else 1),
            wait=self._wait,
            retry=tenacity.retry_if_exception_type(VenueRetryable),
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
        return retrying(self._once, method, path, params, content, headers, pool, cost, idempotent)

    def _wait(self, state: tenacity.RetryCallState) -> float:
        backoff = self.retry.backoff()(state)
        error = state.outcome.exception() if state.outcome is not None else None
        asked = error.retry_after_s if isinstance(error, VenueRetryable) else None
        return max(backoff, asked) if asked is not None else backoff

    def _once(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        content: str | bytes | None,
        headers: Mapping[str, str] | None,
        pool: str | None,
        cost: float,
        idempotent: bool,
    ) -> httpx.Response:
        self._take(pool, cost)
        where: dict[str, Any] = {"venue": self.venue, "endpoint": path}
        started = time.monotonic()
        try:
            response = self.client.request(method, path, params=params, content=content, headers=headers)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as error:
            raise VenueRetryable(
                f"{self.venue} {method} {path}: not reached ({type(error).__name__})", **where
            ) from None
        except httpx.TransportError as error:  # sent, and then the answer was lost
            text = f"{self.venue} {method} {path}: no answer ({type(error).__name__})"
            if idempotent:
                raise VenueRetryable(text, **where) from None
            raise OrderOutcomeUnknown(text + "; the request may have been accepted", **where) from None
        self.last_latency_s = time.monotonic() - started
        self._skew(response)
        return self._checked(method, path, response, idempotent)

    def _take(self, pool: str | None, cost: float) -> None:
        if self.limits is None:
            return
        for guard in self.guards:
            self.limits.acquire(guard, 1.0)
        if pool is not None:
            self.limits.acquire(pool, cost)

    def _skew(self, response: httpx.Response) -> None:
        try:
            venue_time = parsedate_to_datetime(response.headers["date"]).timestamp()
        except (KeyError, TypeError, ValueError, IndexError):
            return
        self.clock_skew_s = venue_time - self._clock()

    def _checked(self, method: str, path: str, response: httpx.Response, idempotent: bool) -> httpx.Response:
        status = response.status_code
        if status < 400:
            return response
        where: dict[str, Any] = {"venue": self.venue, "endpoint": path, "status": status}
        text = f"{self.venue} {method} {path}: HTTP {status} {self.excerpt(response)}".rstrip()
        if status in (429, 503):
            busy = VenueRetryable(text, **where)
            busy.retry_after_s = _retry_after(response)
            raise busy
        if status >= 500:
            if idempotent:
                raise VenueRetryable(text, **where)
            raise OrderOutcomeUnknown(text + "; the request may have been accepted", **where)
        if status in (401, 403):
            raise VenueFatal(text, **where)
        raise VenueRejected(text, **where)

    # ------------------------------------------------------------------ answers

    def json(self, response: httpx.Response) -> Any:
        """The answer's JSON; ``VenueAnswerMalformed`` for anything that is not whole JSON
        (truncated, HTML from a proxy, empty)."""
        path = response.request.url.path if response.request is not None else ""
        try:
            return json.loads(response.content, parse_constant=_no_constant)
        except (ValueError, UnicodeDecodeError) as error:
            raise VenueAnswerMalformed(
                f"{self.venue} {path}: the answer is not JSON ({error}): {self.excerpt(response)}",
                venue=self.venue,
                endpoint=path,
                status=response.status_code,
            ) from None

    def excerpt(self, response: httpx.Response) -> str:
        """The start of an answer's text, redacted, for a message."""
        try:
            text = response.text
        except (UnicodeDecodeError, LookupError):
            return "(undecodable answer)"
        text = " ".join(text.split())
        return self._redact(text[:EXCERPT] + ("…" if len(text) > EXCERPT else ""))


def _retry_after(response: httpx.Response) -> float | None:
    """``Retry-After`` in seconds (a number; a date is left to the backoff), capped at 10 min."""
    value = response.headers.get("retry-after", "")
    try:
        seconds = float(value)
    except ValueError:
        return None
    return min(seconds, 600.0) if math.isfinite(seconds) and seconds >= 0 else None


def _no_constant(name: str) -> Any:
    """JSON's NaN/Infinity extensions are not JSON: an answer carrying them is malformed."""
    raise ValueError(f"{name} is not a JSON number")


__all__ = ["RetryPolicy", "VenueError", "VenueHttp"]
