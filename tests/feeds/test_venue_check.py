"""`rulebot venue check`'s checks against a venue client (an in-test fake of the ports):
instruments, symbol map, contract specs, a ticker and a book per symbol, accounts and
positions with keys; each failure said, none stopping the others; the table and the JSON."""

from __future__ import annotations

import json
from dataclasses import replace
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from engine.cli import compose
from engine.cli.app import main
from engine.cli.venue import FAILED, OK, SKIPPED, Health, render_text, run_checks
from engine.language.kinds.venues import Instrument as RulesInstrument
from engine.ports import Instrument, VenueFatal, VenueRetryable
from tests.feeds.fakes import FakeClock, FakeVenue, T


def _exchange() -> SimpleNamespace:
    return SimpleNamespace(
        symbols={"BTCUSDT": "PF_XBTUSD"},
        instruments={
            "PF_XBTUSD": RulesInstrument(
                symbol="PF_XBTUSD", contract_size=1, size_step=0.0001, tick_size=1, min_size=0.0001, max_leverage=50
            )
        },
        params={"credentials": {"api_key_env": "KF_TEST_KEY", "api_secret_env": "KF_TEST_SECRET"}},
    )


LISTED = [Instrument("BTCUSDT", "PF_XBTUSD", 1.0, 0.0001, 1.0, 0.0001, 50.0)]


def _venue(**kwargs) -> FakeVenue:
    return FakeVenue(FakeClock(T), prices={"BTCUSDT": 100_000.0}, listed=list(LISTED), **kwargs)


def _results(checks) -> dict[str, str]:
    return {check.name: check.result for check in checks}


def test_a_venue_as_the_rules_describe_it_passes_every_check():
    checks = run_checks(_venue(), _exchange(), keys=True)
    assert _results(checks) == {
        "instruments": OK,
        "symbol map": OK,
        "contract specs": OK,
        "ticker BTCUSDT": OK,
        "order book BTCUSDT": OK,
        "accounts": OK,
        "positions": OK,
    }
    details = {check.name: check.detail for check in checks}
    assert details["symbol map"] == "BTCUSDT → PF_XBTUSD"
    assert details["accounts"] == "equity 10,250.50, available margin 9,000.00"
    assert details["positions"] == "BTCUSDT +0.01"
    assert all(check.latency_ms is not None for check in checks if check.name not in ("symbol map", "contract specs"))


def test_without_keys_the_account_checks_are_skipped_and_nothing_private_is_called():
    venue = _venue()
    checks = run_checks(venue, _exchange(), keys=False)
    assert _results(checks)["accounts"] == SKIPPED and _results(checks)["positions"] == SKIPPED
    assert not {"balance", "positions"} & {endpoint for endpoint, _ in venue.calls}


def test_specs_that_differ_from_the_rules_are_each_named_venue_against_rules():
    venue = _venue()
    venue.listed = [replace(LISTED[0], tick_size=0.5, max_leverage=20.0)]
    [specs] = [c for c in run_checks(venue, _exchange(), keys=False) if c.name == "contract specs"]
    assert specs.result == FAILED
    assert specs.detail == "PF_XBTUSD tick_size: venue 0.5, rules 1; PF_XBTUSD max_leverage: venue 20, rules 50"


def test_a_symbol_the_venue_does_not_list_or_trade_fails_the_symbol_map():
    venue = _venue()
    venue.listed = [replace(LISTED[0], tradeable=False)]
    [mapped] = [c for c in run_checks(venue, _exchange(), keys=False) if c.name == "symbol map"]
    assert (mapped.result, mapped.detail) == (FAILED, "BTCUSDT → PF_XBTUSD: listed but not tradeable")
    venue.listed = []
    [mapped] = [c for c in run_checks(venue, _exchange(), keys=False) if c.name == "symbol map"]
    assert mapped.detail == "BTCUSDT → PF_XBTUSD: not listed by the venue"


def test_each_failure_says_its_code_and_why_and_the_other_checks_still_run():
    venue = _venue()
    venue.fail["instruments"] = VenueRetryable("HTTP 503 from /instruments", venue="kraken_futures")
    venue.fail["balance"] = VenueFatal("authenticationError: the key is not valid", venue="kraken_futures")
    checks = run_checks(venue, _exchange(), keys=True)
    results = _results(checks)
    assert results["instruments"] == FAILED and results["symbol map"] == SKIPPED
    assert results["ticker BTCUSDT"] == OK and results["positions"] == OK
    details = {check.name: check.detail for check in checks}
    assert details["instruments"] == "RB611: HTTP 503 from /instruments"
    assert details["accounts"] == "RB613: authenticationError: the key is not valid"


def test_the_table_and_its_closing_line():
    checks = run_checks(_venue(), _exchange(), keys=False)
    health = Health(
        "kraken_futures", "http://127.0.0.1:1", "absent (KF_TEST_KEY not set)", checks, -0.25, {"derivatives": 0.96}
    )
    text = render_text(health)
    assert (
        text.splitlines()[0] == "venue check kraken_futures at http://127.0.0.1:1 (keys: absent (KF_TEST_KEY not set))"
    )
    assert "ticker BTCUSDT" in text and "last 100000, bid 99999 ask 100001" in text
    assert "clock skew: -0.25 s (venue behind)" in text
    assert "rate-limit headroom: derivatives 96 %" in text
    assert text.splitlines()[-1] == "venue check: all checks passed"


@pytest.mark.parametrize("output", ["text", "json"])
def test_the_command_exits_1_when_a_check_failed(monkeypatch, output):
    listed = [  # as rules/venues.yaml describes kraken_futures
        Instrument("BTCUSDT", "PF_XBTUSD", 1.0, 0.0001, 1.0, 0.0001, 50.0),
        Instrument("ETHUSDT", "PF_ETHUSD", 1.0, 0.001, 0.1, 0.001, 50.0),
        Instrument("SOLUSDT", "PF_SOLUSD", 1.0, 0.01, 0.01, 0.01, 50.0),
    ]
    venue = FakeVenue(FakeClock(T), prices={"BTCUSDT": 1e5, "ETHUSDT": 2e3, "SOLUSDT": 150.0}, listed=listed)
    venue.fail["order_book"] = VenueRetryable("HTTP 429", venue="kraken_futures")
    asked = {}

    def client(plan, venue_id, *, base_url=None, keys=True):
        asked.update(venue=venue_id, base_url=base_url, keys=keys)
        return venue

    monkeypatch.setattr(compose, "venue_client", client)
    monkeypatch.setattr(compose, "venue_transport", lambda c: {"base_url": "http://127.0.0.1:9", "headroom": {}})
    monkeypatch.delenv("KRAKEN_FUTURES_API_KEY", raising=False)
    result = CliRunner().invoke(
        main, ["venue", "check", "kraken_futures", "--base-url", "http://127.0.0.1:9", "--format", output]
    )
    assert result.exit_code == 1, result.output
    assert asked == {"venue": "kraken_futures", "base_url": "http://127.0.0.1:9", "keys": False}
    if output == "json":
        report = json.loads(result.output)
        assert report["ok"] is False and report["keys"].startswith("absent (KRAKEN_FUTURES_API_KEY")
        assert {c["name"]: c["result"] for c in report["checks"]}["order book BTCUSDT"] == FAILED
    else:
        assert "order book BTCUSDT" in result.output and "3 check(s) FAILED" in result.output


def test_an_unknown_venue_is_a_usage_error():
    result = CliRunner().invoke(main, ["venue", "check", "nowhere"])
    assert result.exit_code == 2 and "no venue 'nowhere'" in result.output
