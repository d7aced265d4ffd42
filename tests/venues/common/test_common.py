"""The shared venue layer: error mapping, what is retried and what never is, rate-limit
pools, credentials that never show their values."""

from __future__ import annotations

import httpx
import pytest

from adapters.venues.common.http import RetryPolicy, VenueHttp
from adapters.venues.common.ratelimit import RateLimits, TokenBucket
from adapters.venues.common.secrets import Credentials, credentials_from_env, missing_variables, redact
from engine.ports import (
    OrderOutcomeUnknown,
    VenueAnswerMalformed,
    VenueFatal,
    VenueRejected,
    VenueRetryable,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def http_with(handler, *, clock: FakeClock | None = None, limits=None, guards=()) -> tuple[VenueHttp, FakeClock]:
    clock = clock or FakeClock()
    http = VenueHttp(
        "testvenue",
        "http://venue.test",
        transport=httpx.MockTransport(handler),
        retry=RetryPolicy(attempts=3, initial_s=1.0, max_s=4.0, jitter_s=0.0),
        clock=clock,
        sleep=clock.sleep,
        limits=limits,
        guards=guards,
    )
    return http, clock


def answers(*responses):
    calls: list[httpx.Request] = []
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        item = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(item, Exception):
            raise item
        return item

    return handler, calls


def test_an_idempotent_request_is_retried_after_5xx_and_429_then_answers():
    handler, calls = answers(httpx.Response(502), httpx.Response(429), httpx.Response(200, json={"ok": 1}))
    http, clock = http_with(handler)
    response = http.request("GET", "/tickers")
    assert http.json(response) == {"ok": 1} and len(calls) == 3
    assert clock.slept == [1.0, 2.0]  # exponential backoff, injected sleep: the test never waits


def test_retry_after_is_honoured():
    handler, _ = answers(httpx.Response(429, headers={"Retry-After": "60"}), httpx.Response(200, json={}))
    http, clock = http_with(handler)
    http.request("GET", "/tickers")
    assert clock.slept == [60.0]


def test_retries_end_in_the_retryable_error_naming_venue_and_endpoint():
    handler, calls = answers(httpx.Response(503, text="maintenance"))
    http, _ = http_with(handler)
    with pytest.raises(VenueRetryable) as caught:
        http.request("GET", "/tickers")
    assert len(calls) == 3
    assert caught.value.venue == "testvenue" and caught.value.endpoint == "/tickers" and caught.value.status == 503
    assert "HTTP 503 maintenance" in str(caught.value)


def test_an_order_whose_answer_was_lost_is_never_sent_again():
    handler, calls = answers(httpx.ReadTimeout("read timed out"), httpx.Response(200, json={}))
    http, _ = http_with(handler)
    with pytest.raises(OrderOutcomeUnknown):
        http.request("POST", "/sendorder", content="a=1", idempotent=False)
    assert len(calls) == 1


def test_a_5xx_answer_to_an_order_may_hide_an_accepted_order():
    handler, calls = answers(httpx.Response(502))
    http, _ = http_with(handler)
    with pytest.raises(OrderOutcomeUnknown):
        http.request("POST", "/sendorder", idempotent=False)
    assert len(calls) == 1


def test_an_order_that_never_reached_the_venue_is_retryable_but_not_retried_here():
    handler, calls = answers(httpx.ConnectError("refused"))
    http, _ = http_with(handler)
    with pytest.raises(VenueRetryable) as caught:
        http.request("POST", "/sendorder", idempotent=False)
    assert len(calls) == 1 and not isinstance(caught.value, OrderOutcomeUnknown)


@pytest.mark.parametrize(
    ("status", "error"), [(401, VenueFatal), (403, VenueFatal), (400, VenueRejected), (404, VenueRejected)]
)
def test_client_errors_are_not_retried(status, error):
    handler, calls = answers(httpx.Response(status, text="no"))
    http, _ = http_with(handler)
    with pytest.raises(error):
        http.request("GET", "/accounts")
    assert len(calls) == 1


@pytest.mark.parametrize("body", [b'{"result": "succ', b"<html>bad gateway</html>", b"", b'{"x": NaN}', b"\xff\xfe"])
def test_an_answer_that_is_not_whole_json_is_malformed(body):
    handler, _ = answers(httpx.Response(200, content=body))
    http, _ = http_with(handler)
    with pytest.raises(VenueAnswerMalformed) as caught:
        http.json(http.request("GET", "/tickers"))
    assert caught.value.endpoint == "/tickers"


def test_an_echoed_secret_never_reaches_the_message():
    secret = "Zk3PqL9vX2mN8aB4cD7eF1gH5jK0sT6uW3yR"
    handler, _ = answers(httpx.Response(400, text=f"bad key {secret}"))
    http, _ = http_with(handler)
    with pytest.raises(VenueRejected) as caught:
        http.request("GET", "/accounts")
    assert secret not in str(caught.value) and "[REDACTED]" in str(caught.value)


def test_latency_and_clock_skew_are_measured():
    handler, _ = answers(httpx.Response(200, json={}, headers={"Date": "Thu, 01 Jan 1970 00:16:50 GMT"}))
    http, _ = http_with(handler)  # our clock: 1000 s; the venue's: 1010 s
    http.request("GET", "/time")
    assert http.clock_skew_s == pytest.approx(10.0) and http.last_latency_s is not None


def test_requests_take_their_pool_and_the_guards():
    clock = FakeClock()
    limits = RateLimits.from_rules(
        [{"pool": "orders", "budget": 2, "per": 10.0}, {"pool": "guard", "budget": 100, "per": 1.0}],
        clock=clock,
        sleep=clock.sleep,
    )
    handler, _ = answers(httpx.Response(200, json={}))
    http, _ = http_with(handler, clock=clock, limits=limits, guards=("guard",))
    for _ in range(3):
        http.request("POST", "/sendorder", pool="orders", idempotent=False)
    assert clock.slept == [pytest.approx(5.0)]  # the third waited for one unit: 10 s / 2
    assert limits.headroom()["orders"] == pytest.approx(0.0)


def test_a_token_bucket_refills_evenly_and_refuses_a_cost_above_its_budget():
    clock = FakeClock()
    bucket = TokenBucket(10, 1.0, clock=clock, sleep=clock.sleep)
    assert bucket.acquire(10) == 0.0 and bucket.headroom() == 0.0
    clock.now += 0.5
    assert bucket.headroom() == pytest.approx(0.5)
    assert bucket.acquire(7) == pytest.approx(0.2)
    with pytest.raises(ValueError):
        bucket.acquire(11)


def test_an_undeclared_pool_is_not_limited():
    clock = FakeClock()
    limits = RateLimits.from_rules([], clock=clock, sleep=clock.sleep)
    assert all(limits.acquire("history") == 0.0 for _ in range(1000)) and not clock.slept


NAMES = {"api_key_env": "V_KEY", "api_secret_env": "V_SECRET"}


def test_credentials_come_from_the_named_variables_and_never_show():
    keys = credentials_from_env(NAMES, {"V_KEY": "pub-123456", "V_SECRET": "c2VjcmV0LXZhbHVl"})
    assert keys is not None and keys.api_key == "pub-123456"
    for text in (repr(keys), str(keys), f"{keys}", repr([keys])):
        assert "pub-123456" not in text and "c2VjcmV0LXZhbHVl" not in text
    assert redact("key pub-123456 secret c2VjcmV0LXZhbHVl", keys) == "key [REDACTED] secret [REDACTED]"


def test_missing_credentials_name_the_variables_not_values():
    assert credentials_from_env(NAMES, {"V_KEY": "pub-123456"}) is None
    assert missing_variables(NAMES, {"V_KEY": "pub-123456", "V_SECRET": "  "}) == ["V_SECRET"]
    with_passphrase = {**NAMES, "passphrase_env": "V_PASS"}
    assert credentials_from_env(with_passphrase, {"V_KEY": "a" * 8, "V_SECRET": "b" * 8}) is None
    both = credentials_from_env(with_passphrase, {"V_KEY": "a" * 8, "V_SECRET": "b" * 8, "V_PASS": "c" * 8})
    assert both == Credentials("a" * 8, "b" * 8, "c" * 8)
