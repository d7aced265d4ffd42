"""`rulebot venue check kraken_futures --base-url …` as a real process against the fake
Kraken Futures on loopback (real httpx, real signing verified by the fake): the health
table when all is well, the private checks with keys, exit 1 naming the difference when the
venue's instruments disagree with rules/venues.yaml, a fault reported without a traceback,
and the keys in no output even when the venue echoes them back."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from tests.e2e.fake_market import KEY, KEY_ENV, CanaryKraken, serving
from tests.e2e.processes import leaks, no_canary_in_environment, rulebot
from tests.venues.fakes.kraken_futures import V3, FakeServer

PRIVATE = (V3 + "/accounts", V3 + "/openpositions")


@pytest.fixture
def venue() -> CanaryKraken:
    return CanaryKraken(clock=time.time)


@pytest.fixture
def server(venue: CanaryKraken) -> Iterator[FakeServer]:
    with serving(venue) as running:
        yield running


def check(server: FakeServer, *extra: str, keys: bool = False):
    args = ["venue", "check", "kraken_futures", "--base-url", server.url, *extra]
    return rulebot(args, KEY_ENV if keys else None)


def rows(stdout: str) -> dict[str, str]:
    """The text table's rows: check name → the rest of its line."""
    table = stdout.splitlines()[2:]
    found = {}
    for line in table:
        for result in (" ok ", " FAILED ", " skipped "):
            if result in line:
                name, _, rest = line.partition(result)
                found[name.strip()] = result.strip() + " " + rest.strip()
    return found


def test_a_healthy_venue_without_keys_passes_the_public_checks_and_skips_the_private_ones(server, venue):
    done = check(server)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith(f"venue check kraken_futures at {server.url} (keys: absent (")
    table = rows(done.stdout)
    assert table["instruments"].startswith("ok") and "3 listed" in table["instruments"]
    assert "BTCUSDT → PF_XBTUSD" in table["symbol map"] and table["contract specs"].startswith("ok")
    assert "last 60000, bid 59999 ask 60001" in table["ticker BTCUSDT"]
    assert "best 2999 / 3001" in table["order book ETHUSDT"]
    assert table["accounts"].startswith("skipped") and table["positions"].startswith("skipped")
    assert "clock skew: " in done.stdout and "derivatives" in done.stdout.split("rate-limit headroom:")[1]
    assert done.stdout.rstrip().endswith("venue check: all checks passed")
    assert not any(path in PRIVATE for _, path in venue.calls)  # nothing private asked without keys


def test_with_keys_the_accounts_and_positions_are_checked_signed_and_the_keys_shown_nowhere(server, venue):
    venue.hold("PF_XBTUSD", "0.0150", "60000")
    done = check(server, "--format", "json", keys=True)
    assert done.returncode == 0, done.stdout + done.stderr
    health = json.loads(done.stdout)
    by_name = {c["name"]: c for c in health["checks"]}
    assert health["ok"] is True and health["keys"] == "present" and health["base_url"] == server.url
    assert by_name["accounts"]["result"] == "ok" and "equity 10,012.50" in by_name["accounts"]["detail"]
    assert by_name["positions"] == {**by_name["positions"], "result": "ok", "detail": "BTCUSDT +0.015"}
    assert isinstance(health["clock_skew_s"], float) and set(health["rate_limit_headroom"]) >= {"derivatives"}
    assert venue.signed == 2 and venue.auth_failures == 0  # both private calls signed as published
    found, scanned = leaks([], {"stdout": done.stdout, "stderr": done.stderr})
    assert found == [] and scanned == 2
    no_canary_in_environment()


def test_instruments_that_disagree_with_the_rules_fail_the_check_naming_the_difference(server, venue):
    xbt = next(i for i in venue.instruments if i["symbol"] == "PF_XBTUSD")
    xbt["tickSize"] = 0.5  # rules/venues.yaml: tick_size 1
    sol = next(i for i in venue.instruments if i["symbol"] == "PF_SOLUSD")
    sol["tradeable"] = False
    done = check(server)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    text = done.stdout
    assert "PF_XBTUSD" in text and "tick" in text and "0.5" in text, text
    assert "SOLUSDT" in text and "PF_SOLUSD" in text, text
    assert "FAILED" in text and text.rstrip().endswith("check(s) FAILED")


def test_a_failing_endpoint_is_reported_with_its_code_and_the_other_checks_still_run(server, venue):
    venue.fault(V3 + "/tickers/PF_XBTUSD", "503", times=10)  # every retry too
    venue.fault(V3 + "/tickers/PF_ETHUSD", "truncated", times=10)
    done = check(server, keys=True)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    table = rows(done.stdout)
    assert table["ticker BTCUSDT"].startswith("FAILED") and "RB611" in table["ticker BTCUSDT"], table
    assert table["ticker ETHUSDT"].startswith("FAILED") and "RB614" in table["ticker ETHUSDT"], table
    assert table["order book BTCUSDT"].startswith("ok") and table["ticker SOLUSDT"].startswith("ok")
    assert table["accounts"].startswith("ok")
    assert done.stdout.rstrip().endswith("2 check(s) FAILED")


def test_a_venue_echoing_the_key_in_its_error_does_not_get_it_printed(server, venue):
    venue.fault(V3 + "/accounts", f"apiKey {KEY} is not permitted")  # HTTP 200, an error envelope
    done = check(server, keys=True)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert rows(done.stdout)["accounts"].startswith("FAILED")
    found, _ = leaks([], {"stdout": done.stdout, "stderr": done.stderr})
    assert found == [], done.stdout
