"""CoinGlass over HTTP: one GET at a time, spaced, backed off after a rate limit, retried
only where that is safe, every failure one of the port's VenueError classes.

* Spacing: at least ``config.spacing_s`` between two calls (the rules' min_interval, or 60 s
  over the plan's requests per minute, the longer), measured on the injected monotonic clock
  and waited with the injected sleep, so tests never wait.
* Rate limit: HTTP 429, the envelope's code "429", or the key's use counter at its maximum
  (headers ``API-KEY-USE-LIMIT`` / ``API-KEY-MAX-LIMIT``) block every call for the rules'
  ``backoff_on_429``; a blocked call fails at once (VenueRetryable) instead of holding up a
  cycle for a minute, and is never retried within it.
* Retries (tenacity, exponential backoff with jitter): timeouts, lost connections, 408, 5xx
  and unreadable answers; every call is a GET, so retrying cannot change anything.
* Errors (reference §3.1): 401 bad key and 403 plan restriction → VenueFatal; 400, 404, 405,
  422 → VenueRejected; a body that is not the ``{"code": "0", "data": …}`` envelope →
  VenueAnswerMalformed. The key is sent in a header only and never appears in a message.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_random_exponential

from adapters.intel.coinglass.auth import ApiKey
from adapters.intel.coinglass.config import CoinGlassConfig
from engine.ports import VenueAnswerMalformed, VenueError, VenueFatal, VenueRejected, VenueRetryable

logger = logging.getLogger(__name__)

VENUE = "coinglass"
_RETRYABLE_CODES = {"408", "500", "502", "503", "504"}
_REJECTED_CODES = {"400", "404", "405", "422"}
_FATAL = {"401": "the API key is missing or invalid", "403": "the endpoint or interval is outside the plan"}


class CoinGlassHttp:
    """GETs against one CoinGlass base URL with the rules' spacing and back-off."""

    def __init__(
        self,
        config: CoinGlassConfig,
        key: ApiKey,
        *,
        base_url: str | None = None,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.config = config
        self._key = key
        self._clock, self._sleep = clock, sleep
        self._client = httpx.Client(
            base_url=(base_url or config.base_url).rstrip("/"),
            timeout=config.timeout_s,
            transport=transport,
            headers={"Accept": "application/json"},
        )
        self._last_sent: float | None = None
        self.blocked_until = 0.0
        self.last_latency_s: float | None = None
        self.calls = 0

    def close(self) -> None:
        self._client.close()

    def blocked(self) -> bool:
        """Whether calls are held back after a rate-limit answer."""
        return self._clock() < self.blocked_until

    def get(self, endpoint: str, path: str, params: Mapping[str, str]) -> Any:
        """The envelope's ``data`` of ``GET path``; retried while that is safe and useful."""
        retrying = Retrying(
            stop=stop_after_attempt(max(1, self.config.retry_attempts)),
            wait=wait_random_exponential(multiplier=0.5, max=8.0),
            retry=retry_if_exception(self._worth_retrying),
            sleep=self._sleep,
            reraise=True,
        )
        return retrying(self._get_once, endpoint, path, params)

    def _worth_retrying(self, error: BaseException) -> bool:
        return isinstance(error, VenueError) and error.retryable and not self.blocked()

    def _get_once(self, endpoint: str, path: str, params: Mapping[str, str]) -> Any:
        if self.blocked():
            wait = self.blocked_until - self._clock()
            raise VenueRetryable(
                f"coinglass {endpoint}: not sent, backing off {wait:.0f} s more after a rate limit",
                venue=VENUE,
                endpoint=endpoint,
                status=429,
            )
        self._space()
        started = self._clock()
        try:
            response = self._client.get(path, params=dict(params), headers=self._key.headers())
        except httpx.TimeoutException as error:
            raise self._error(VenueRetryable, endpoint, f"timed out ({type(error).__name__})") from None
        except httpx.TransportError as error:
            raise self._error(VenueRetryable, endpoint, f"connection failed ({type(error).__name__})") from None
        finally:
            self._last_sent = self._clock()
            self.calls += 1
        self.last_latency_s = self._clock() - started
        self._watch_use_counter(response.headers)
        self._check_status(endpoint, response)
        return self._envelope_data(endpoint, response)

    def _space(self) -> None:
        if self._last_sent is None:
            return
        wait = self._last_sent + self.config.spacing_s - self._clock()
        if wait > 0:
            self._sleep(wait)

    def _back_off(self, why: str) -> None:
        self.blocked_until = self._clock() + self.config.backoff_on_429_s
        logger.warning("coinglass: %s; no calls for %.0f s", why, self.config.backoff_on_429_s)

    def _watch_use_counter(self, headers: httpx.Headers) -> None:
        """Back off before the plan's per-minute budget runs out (reference §3.1 headers)."""
        try:
            limit, used = int(headers["API-KEY-MAX-LIMIT"]), int(headers["API-KEY-USE-LIMIT"])
        except (KeyError, ValueError):
            return
        if 0 < limit <= used:
            self._back_off(f"the key has used {used} of its {limit} calls this minute")

    def _check_status(self, endpoint: str, response: httpx.Response) -> None:
        status = response.status_code
        if 200 <= status < 300:
            return
        if status == 429:
            self._back_off(f"{endpoint} answered HTTP 429")
            raise self._error(VenueRetryable, endpoint, "rate limited (HTTP 429)", status)
        if status == 408 or status >= 500:
            raise self._error(VenueRetryable, endpoint, f"HTTP {status}", status)
        if str(status) in _FATAL:
            raise self._error(VenueFatal, endpoint, f"HTTP {status}: {_FATAL[str(status)]}", status)
        raise self._error(VenueRejected, endpoint, f"HTTP {status}: {self._message(response)}", status)

    def _envelope_data(self, endpoint: str, response: httpx.Response) -> Any:
        try:
            body = response.json()
        except ValueError:
            size = len(response.content)
            raise self._error(
                VenueAnswerMalformed, endpoint, f"the answer is not JSON (malformed or truncated, {size} bytes)"
            ) from None
        if not isinstance(body, dict) or "code" not in body:
            raise self._error(VenueAnswerMalformed, endpoint, "the answer is not a {code, data} envelope")
        code = body["code"]
        if code == "0":
            if "data" not in body:
                raise self._error(VenueAnswerMalformed, endpoint, "the envelope has no data")
            return body["data"]
        message = self._key.redact(str(body.get("msg", "")))[:200]
        text = str(code)
        if text == "429":
            self._back_off(f"{endpoint} answered code 429")
            raise self._error(VenueRetryable, endpoint, f"rate limited (code 429: {message})", 429)
        if text in _RETRYABLE_CODES:
            raise self._error(VenueRetryable, endpoint, f"code {text}: {message}", int(text))
        if text in _FATAL:
            raise self._error(VenueFatal, endpoint, f"code {text}: {_FATAL[text]} ({message})", int(text))
        if text in _REJECTED_CODES:
            raise self._error(VenueRejected, endpoint, f"code {text}: {message}", int(text))
        logger.warning("coinglass %s: unknown envelope code %r (contract change?)", endpoint, code)
        raise self._error(VenueAnswerMalformed, endpoint, f"unknown envelope code {code!r}: {message}")

    def _message(self, response: httpx.Response) -> str:
        try:
            body = response.json()
        except ValueError:
            return "no readable body"
        msg = body.get("msg", "") if isinstance(body, dict) else ""
        return self._key.redact(str(msg))[:200] or "no message"

    def _error(self, cls: type[VenueError], endpoint: str, why: str, status: int | None = None) -> VenueError:
        return cls(f"coinglass {endpoint}: {self._key.redact(why)}", venue=VENUE, endpoint=endpoint, status=status)
