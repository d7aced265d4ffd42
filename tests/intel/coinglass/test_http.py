"""CoinGlassHttp against the fake server: the key header, spacing, 429 back-off, retries,
error mapping and unreadable answers; no secret in any error or log line."""

from __future__ import annotations

import logging

import pytest

from adapters.intel.coinglass.auth import ApiKey, api_key_from_env
from adapters.intel.coinglass.config import CoinGlassConfig
from adapters.intel.coinglass.http import CoinGlassHttp
from engine.ports import VenueAnswerMalformed, VenueError, VenueFatal, VenueRejected, VenueRetryable
from tests.intel.coinglass.conftest import RULES, FakeClock
from tests.intel.fakes.coinglass import FakeCoinGlass, Fault, envelope

PATH = "/api/index/fear-greed-history"
DATA = {"data_list": [50], "time_list": [1_764_892_800]}


def http_for(fake: FakeCoinGlass, clock: FakeClock, key: str | None = None, **options) -> CoinGlassHttp:
    config = CoinGlassConfig.from_rules(RULES, **options)
    return CoinGlassHttp(config, ApiKey(key or fake.api_key), base_url=fake.url, clock=clock, sleep=clock.sleep)


def get(http: CoinGlassHttp):
    return http.get("fear_greed", PATH, {})


def test_the_key_goes_in_the_cg_api_key_header_and_the_data_comes_back(fake, clock):
    fake.data[PATH] = DATA
    assert get(http_for(fake, clock)) == DATA
    assert fake.calls() and all(seen.key_ok for seen in fake.calls())


def test_a_wrong_key_is_fatal_and_never_shown(fake, clock, caplog):
    caplog.set_level(logging.DEBUG)
    secret = "cg-wrong-key-DISTINCTIVE-91c2"
    with pytest.raises(VenueFatal) as raised:
        get(http_for(fake, clock, key=secret))
    assert raised.value.status == 401 and "API key" in str(raised.value)
    assert len(fake.calls()) == 1  # not retried
    assert secret not in str(raised.value) and secret not in repr(raised.value) and secret not in caplog.text


def test_the_key_object_never_prints_its_value():
    key = ApiKey("cg-secret-DISTINCTIVE")
    assert "DISTINCTIVE" not in repr(key) and "DISTINCTIVE" not in str(key) and "DISTINCTIVE" not in f"{key}"
    assert key.redact("echo cg-secret-DISTINCTIVE back") == "echo *** back"
    assert api_key_from_env("COINGLASS_API_KEY", {}) is None
    assert api_key_from_env("COINGLASS_API_KEY", {"COINGLASS_API_KEY": "  "}) is None
    assert api_key_from_env("COINGLASS_API_KEY", {"COINGLASS_API_KEY": "k1"}) == ApiKey("k1")


def test_calls_are_spaced_by_the_rules_min_interval(fake, clock):
    fake.data[PATH] = DATA
    http = http_for(fake, clock)
    for _ in range(3):
        get(http)
    assert clock.sleeps == [2.5, 2.5]
    assert len(fake.calls()) == 3


def test_the_plans_budget_spaces_calls_when_it_is_stricter():
    config = CoinGlassConfig.from_rules({**RULES, "requests_per_minute": 12})
    assert config.spacing_s == 5.0


def test_no_wait_when_the_interval_has_already_passed(fake, clock):
    fake.data[PATH] = DATA
    http = http_for(fake, clock)
    get(http)
    clock.advance(10)
    get(http)
    assert clock.sleeps == []


@pytest.mark.parametrize(
    "fault",
    [
        Fault(status=429, body=envelope(None, "429", "Too Many Requests")),
        Fault(status=200, body=envelope(None, "429", "Too Many Requests")),
    ],
    ids=["http-429", "envelope-429"],
)
def test_a_rate_limit_blocks_every_call_for_the_backoff_and_is_not_retried(fake, clock, fault):
    fake.data[PATH] = DATA
    fake.inject(fault)
    http = http_for(fake, clock)
    with pytest.raises(VenueRetryable, match="rate limited") as raised:
        get(http)
    assert raised.value.status == 429
    assert len(fake.calls()) == 1  # not retried within the call
    clock.advance(59)
    with pytest.raises(VenueRetryable, match="backing off"):
        get(http)
    assert len(fake.calls()) == 1  # nothing was sent while backing off
    clock.advance(1)
    assert get(http) == DATA
    assert len(fake.calls()) == 2


def test_the_key_use_counter_at_its_limit_backs_off_before_a_429(fake, clock):
    fake.data[PATH] = DATA
    fake.headers.update({"API-KEY-MAX-LIMIT": "30", "API-KEY-USE-LIMIT": "30"})
    http = http_for(fake, clock)
    assert get(http) == DATA
    assert http.blocked()
    with pytest.raises(VenueRetryable):
        get(http)
    assert len(fake.calls()) == 1


@pytest.mark.parametrize("status", [500, 502, 503, 408])
def test_a_server_error_is_retried_once_then_answers(fake, clock, status):
    fake.data[PATH] = DATA
    fake.inject(Fault(status=status, body=envelope(None, str(status), "oops")))
    assert get(http_for(fake, clock)) == DATA
    assert len(fake.calls()) == 2
    # the jittered backoff between the tries, then what is left of the spacing: both injected
    assert clock.sleeps and sum(clock.sleeps) >= 2.5 - 1e-9


def test_a_lasting_server_error_is_retryable(fake, clock):
    fake.inject(*[Fault(status=503, body=b"Service Unavailable")] * 2)
    with pytest.raises(VenueRetryable, match="fear_greed: HTTP 503") as raised:
        get(http_for(fake, clock))
    assert raised.value.endpoint == "fear_greed" and raised.value.venue == "coinglass"
    assert len(fake.calls()) == 2


def test_envelope_500_is_retried(fake, clock):
    fake.data[PATH] = DATA
    fake.inject(Fault(status=200, body=envelope(None, "500", "internal")))
    assert get(http_for(fake, clock)) == DATA


@pytest.mark.parametrize(
    ("fault", "error", "why"),
    [
        (Fault(status=403, body=envelope(None, "403", "upgrade")), VenueFatal, "outside the plan"),
        (Fault(status=200, body=envelope(None, "401", "bad key")), VenueFatal, "missing or invalid"),
        (Fault(status=200, body=envelope(None, "403", "plan")), VenueFatal, "outside the plan"),
        (Fault(status=400, body=envelope(None, "400", "symbol required")), VenueRejected, "symbol required"),
        (Fault(status=404, body=b"nope"), VenueRejected, "HTTP 404"),
        (Fault(status=200, body=envelope(None, "422", "bad interval")), VenueRejected, "bad interval"),
    ],
)
def test_refusals_are_not_retried(fake, clock, fault, error, why):
    fake.inject(fault)
    with pytest.raises(error) as raised:
        get(http_for(fake, clock))
    assert why in str(raised.value) and type(raised.value) is error
    assert len(fake.calls()) == 1


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b'{"code":"0","msg":"success","data":{"data_list":[50],"time_', "not JSON"),
        (b"<html>502 Bad Gateway</html>", "not JSON"),
        (b"[1, 2]", "not a {code, data} envelope"),
        (b'{"code":"0","msg":"success"}', "no data"),
        (b'{"code":"00","data":[]}', "unknown envelope code '00'"),
        (b'{"code":"success","data":[]}', "unknown envelope code 'success'"),
        (b'{"code":0,"data":[]}', "unknown envelope code 0"),
    ],
    ids=["truncated", "html", "list", "no-data", "code-00", "code-success", "code-int"],
)
def test_unreadable_answers_are_malformed_after_one_retry(fake, clock, body, why):
    fake.inject(Fault(body=body), Fault(body=body))
    with pytest.raises(VenueAnswerMalformed) as raised:
        get(http_for(fake, clock))
    assert why in str(raised.value) and "coinglass fear_greed" in str(raised.value)
    assert len(fake.calls()) == 2


def test_a_connection_cut_mid_answer_is_retryable(fake, clock):
    cut = Fault(body=b'{"code":"0"', headers={"Content-Length": "500"})  # promises more than it sends
    fake.inject(cut, cut)
    with pytest.raises(VenueRetryable, match=r"connection failed|timed out"):
        get(http_for(fake, clock, timeout_s=2.0))


def test_a_held_answer_times_out_as_retryable(fake, clock):
    fake.inject(Fault(hold=True))
    fake.data[PATH] = DATA
    assert get(http_for(fake, clock, timeout_s=2.0)) == DATA  # the retry gets the answer
    fake.inject(Fault(hold=True), Fault(hold=True))
    with pytest.raises(VenueRetryable, match="timed out"):
        get(http_for(fake, clock, timeout_s=0.3))
    assert len(fake.calls()) == 4


def test_a_refused_connection_is_retryable(clock):
    server = FakeCoinGlass().start()
    url = server.url
    server.stop()
    http = CoinGlassHttp(CoinGlassConfig.from_rules(RULES), ApiKey("k"), base_url=url, clock=clock, sleep=clock.sleep)
    with pytest.raises(VenueRetryable, match="connection failed"):
        get(http)


def test_every_failure_is_a_venue_error_without_the_key(fake, clock, caplog):
    caplog.set_level(logging.DEBUG)
    faults = [
        Fault(status=s, body=envelope(None, str(s), f"echo {fake.api_key}")) for s in (400, 401, 403, 429, 500, 500)
    ]
    fake.inject(*faults)
    http = http_for(fake, clock)
    for _ in range(5):
        clock.advance(120)
        with pytest.raises(VenueError) as raised:
            get(http)
        assert fake.api_key not in str(raised.value)
    assert fake.api_key not in caplog.text
