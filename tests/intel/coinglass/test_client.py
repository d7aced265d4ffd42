"""CoinGlassClient.read against the loopback fake: what each endpoint feeds, publication
times (never the future), stale-cache serving, back-off, bad keys and plans, absurd data."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from adapters.intel import INTEL, build_intel
from adapters.intel.coinglass.config import PATHS
from engine.market.snapshot import INPUT_NAMES, SCALARS
from engine.ports import IntelReading, VenueFatal
from tests.intel.coinglass.conftest import RULES, make_client
from tests.intel.coinglass.documented import (
    BALANCES,
    COIN_LIST,
    T0,
    TAKER,
    H,
    fear_greed_documented,
    liquidation_rows,
    long_short_rows,
    ohlc,
)
from tests.intel.fakes.coinglass import FakeCoinGlass, Fault, envelope

INTERVAL = 4 * H  # the Hobbyist plan's history interval
LAG = 60
NOW = T0 + 10 * H + 123  # rows T0+8h (unfinished) and T0+4h (published at T0+8h+60 s)


def rows_between(params: dict[str, str]) -> list[int]:
    """The interval starts a history call covers, as CoinGlass answers: the unfinished one too."""
    start, end = int(params["start_time"]) // 1000, int(params["end_time"]) // 1000
    first = -(-start // INTERVAL) * INTERVAL
    return list(range(first, end + 1, INTERVAL))


def oi_close(t: int) -> float:
    return 1e9 + (t - T0)  # distinct per row


def serve_everything(fake: FakeCoinGlass) -> None:
    fake.data[PATHS["taker_buy_sell"]] = TAKER
    fake.data[PATHS["liquidations"]] = COIN_LIST
    fake.data[PATHS["fear_greed"]] = fear_greed_documented()
    fake.data[PATHS["exchange_balance"]] = BALANCES
    fake.data[PATHS["open_interest_history"]] = lambda p: ohlc(
        times := rows_between(p), [str(oi_close(t)) for t in times]
    )
    fake.data[PATHS["funding_history"]] = lambda p: ohlc(times := rows_between(p), ["0.0100"] * len(times))
    fake.data[PATHS["liquidation_history"]] = lambda p: liquidation_rows(
        times := rows_between(p), [str(1e6 + t - T0) for t in times], ["250.5"] * len(times)
    )


def fail_everything(fake: FakeCoinGlass, status: int = 500) -> None:
    fake.inject(*[Fault(status=status, body=envelope(None, str(status), "down"))] * 100)


def test_a_reading_in_the_snapshot_formats_names_with_publication_times(fake, clock, tmp_path):
    serve_everything(fake)
    client = make_client(fake, clock, tmp_path, funding_target_interval_s=3600.0)
    reading = client.read(["BTCUSDT"], NOW)
    values, times = reading.values["BTCUSDT"], reading.times["BTCUSDT"]
    assert values == {
        "taker_buy_usd": 1_215_880_000.5,
        "taker_sell_usd": 1_167_780_000.25,
        "liq_long_usd": 1e6 + 4 * H,  # the T0+4h row: the T0+8h one is still open
        "liq_short_usd": 250.5,
        "open_interest_usd": oi_close(T0 + 4 * H),
        "funding_rate": pytest.approx(0.0001 / 8),  # 0.01 % per Binance's 8 h, per Kraken's hour
    }
    assert times == {
        "taker_volume": NOW,
        "liquidations": T0 + 8 * H + LAG,
        "open_interest": T0 + 8 * H + LAG,
        "funding_rate": T0 + 8 * H + LAG,
    }
    # the day of T0 is published at T0 + 1 d + lag, later than NOW: the day before is the newest
    assert (reading.fear_greed, reading.fear_greed_ts) == (31.0, T0 + LAG)
    assert reading.stale == ()
    assert set(values) <= set(SCALARS) and set(times) <= set(INPUT_NAMES)
    # what was asked: the coin, the pair, the plan's interval, the window, the header
    taker = fake.calls(PATHS["taker_buy_sell"])[0]
    assert taker.params == {"symbol": "BTC", "range": "1h"}
    oi = fake.calls(PATHS["open_interest_history"])[0].params
    assert oi["symbol"] == "BTCUSDT" and oi["interval"] == "4h" and oi["exchange"] == "Binance" and oi["unit"] == "usd"
    assert all(seen.key_ok for seen in fake.calls())


def test_hobbyist_never_calls_the_coin_list_it_does_not_include(fake, clock, tmp_path):
    serve_everything(fake)
    make_client(fake, clock, tmp_path).read(["BTCUSDT"], NOW)
    assert fake.calls(PATHS["liquidations"]) == []
    assert fake.calls(PATHS["funding_history"]) == []  # no target interval: funding comes from the venue
    assert fake.calls(PATHS["exchange_balance"]) == []  # no price to turn coins into USD


def test_startup_plan_reads_the_coin_lists_last_hour(fake, clock, tmp_path):
    serve_everything(fake)
    client = make_client(fake, clock, tmp_path, rules={**RULES, "plan": "startup", "requests_per_minute": 80})
    reading = client.read(["BTCUSDT", "ETHUSDT"], NOW)
    assert reading.values["BTCUSDT"]["liq_long_usd"] == 1_000_000.0
    assert reading.values["ETHUSDT"]["liq_short_usd"] == 750_000.0
    assert reading.times["ETHUSDT"]["liquidations"] == NOW
    assert len(fake.calls(PATHS["liquidations"])) == 1  # one call for every coin
    assert fake.calls(PATHS["liquidation_history"]) == []
    assert fake.calls(PATHS["open_interest_history"])[0].params["interval"] == "30m"


def test_a_row_appears_only_once_published_and_only_from_an_answer_fetched_after(fake, clock, tmp_path):
    serve_everything(fake)
    client = make_client(fake, clock, tmp_path)
    assert client.read(["BTCUSDT"], NOW).values["BTCUSDT"]["open_interest_usd"] == oi_close(T0 + 4 * H)
    calls = len(fake.calls(PATHS["open_interest_history"]))
    # one second before the T0+8h row is published: not asked again, still the T0+4h row
    before = client.read(["BTCUSDT"], T0 + 12 * H + LAG - 1)
    assert before.values["BTCUSDT"]["open_interest_usd"] == oi_close(T0 + 4 * H)
    assert len(fake.calls(PATHS["open_interest_history"])) == calls
    # the API now fails: the cached answer holds the T0+8h row as it was while still open,
    # and is never passed off as the final row, even after that row's publication time
    fail_everything(fake)
    after = client.read(["BTCUSDT"], T0 + 12 * H + LAG + 5)
    assert after.values["BTCUSDT"]["open_interest_usd"] == oi_close(T0 + 4 * H)
    assert "open_interest_history" in after.stale
    # the API is back: the row, fetched after its publication, is read
    fake.faults.clear()
    later = client.read(["BTCUSDT"], T0 + 12 * H + LAG + 200)
    assert later.values["BTCUSDT"]["open_interest_usd"] == oi_close(T0 + 8 * H)
    assert later.times["BTCUSDT"]["open_interest"] == T0 + 12 * H + LAG


def test_an_answer_fetched_after_now_is_never_served(fake, clock, tmp_path):
    serve_everything(fake)
    make_client(fake, clock, tmp_path).read(["BTCUSDT"], NOW)
    fail_everything(fake)
    earlier = make_client(fake, clock, tmp_path).read(["BTCUSDT"], NOW - 600)
    assert earlier.values == {} and earlier.fear_greed is None


def test_the_api_failing_serves_the_cache_marked_stale(fake, clock, tmp_path, caplog):
    serve_everything(fake)
    client = make_client(fake, clock, tmp_path, price_of=lambda symbol: 90_000.0)
    fresh = client.read(["BTCUSDT"], NOW)
    fail_everything(fake)
    reading = client.read(["BTCUSDT"], NOW + 2 * H)
    assert reading.values["BTCUSDT"]["taker_buy_usd"] == fresh.values["BTCUSDT"]["taker_buy_usd"]
    assert reading.times["BTCUSDT"]["taker_volume"] == NOW  # the time it was fetched, not now
    assert reading.fear_greed == fresh.fear_greed
    # due and failed: everything (the T0+8h rows are published by now); served from the cache
    assert set(reading.stale) == {
        "taker_buy_sell",
        "fear_greed",
        "exchange_balance",
        "open_interest_history",
        "liquidation_history",
    }
    assert "the cached answer is served" in caplog.text


def test_a_restarted_client_serves_the_disk_cache(fake, clock, tmp_path):
    serve_everything(fake)
    fresh = make_client(fake, clock, tmp_path).read(["BTCUSDT"], NOW)
    fail_everything(fake)
    restarted = make_client(fake, clock, tmp_path).read(["BTCUSDT"], NOW + 120)
    assert restarted.values["BTCUSDT"]["open_interest_usd"] == fresh.values["BTCUSDT"]["open_interest_usd"]
    assert "taker_buy_sell" in restarted.stale
    files = sorted(p.name for p in tmp_path.iterdir())
    assert "taker_buy_sell--BTC.json" in files and not any(name.endswith(".tmp") for name in files)


def test_a_malformed_answer_never_replaces_a_good_one(fake, clock, tmp_path):
    serve_everything(fake)
    client = make_client(fake, clock, tmp_path)
    client.read(["BTCUSDT"], NOW)
    fake.inject(*[Fault(body=envelope([TAKER]), path=PATHS["taker_buy_sell"])] * 2)  # a list, not an object
    reading = client.read(["BTCUSDT"], NOW + 120)
    assert reading.values["BTCUSDT"]["taker_buy_usd"] == 1_215_880_000.5
    assert reading.stale == ("taker_buy_sell",)
    assert "taker_buy_sell: data is list, not an object" in client.last_errors["taker_buy_sell"]


def test_a_rate_limit_stops_calls_for_the_backoff(fake, clock, tmp_path):
    serve_everything(fake)
    client = make_client(fake, clock, tmp_path)
    client.read(["BTCUSDT"], NOW)
    fake.inject(Fault(status=429, body=envelope(None, "429", "Too Many Requests")))
    sent = len(fake.calls())
    reading = client.read(["BTCUSDT"], NOW + 120)
    assert len(fake.calls()) == sent + 1  # the 429, then nothing
    assert "taker_buy_sell" in reading.stale
    clock.advance(30)
    client.read(["BTCUSDT"], NOW + 240)
    assert len(fake.calls()) == sent + 1  # 30 s into the 60 s back-off: still nothing
    clock.advance(30)
    client.read(["BTCUSDT"], NOW + 360)
    assert len(fake.calls()) > sent + 1


def test_a_bad_key_never_crashes_and_stops_all_calls(fake, clock, tmp_path, caplog):
    serve_everything(fake)
    client = make_client(fake, clock, tmp_path)
    client.http._key = type(client.http._key)("cg-wrong-key-0000")  # as if the key was revoked
    reading = client.read(["BTCUSDT"], NOW)
    assert reading == IntelReading(values={}, times={})
    assert len(fake.calls()) == 1
    client.read(["BTCUSDT"], NOW + 3 * H)
    assert len(fake.calls()) == 1
    assert caplog.text.count("no longer called") == 1
    assert "cg-wrong-key-0000" not in caplog.text


def test_a_plan_restriction_stops_only_that_endpoint(fake, clock, tmp_path):
    serve_everything(fake)
    startup = {**RULES, "plan": "startup", "requests_per_minute": 80}
    client = make_client(fake, clock, tmp_path, rules=startup)
    fake.inject(Fault(status=403, body=envelope(None, "403", "Upgrade plan"), path=PATHS["liquidations"]))
    reading = client.read(["BTCUSDT"], NOW)
    assert "liq_long_usd" not in reading.values["BTCUSDT"] and "taker_buy_usd" in reading.values["BTCUSDT"]
    client.read(["BTCUSDT"], NOW + 2 * H)
    assert len(fake.calls(PATHS["liquidations"])) == 1


def test_missing_data_gives_absent_fields(fake, clock, tmp_path):
    for endpoint in ("liquidations", "fear_greed", "exchange_balance", "open_interest_history", "liquidation_history"):
        fake.data[PATHS[endpoint]] = []
    fake.data[PATHS["taker_buy_sell"]] = {"symbol": "BTC", "exchange_list": []}
    reading = make_client(fake, clock, tmp_path, price_of=lambda s: 1.0).read(["BTCUSDT"], NOW)
    assert reading == IntelReading(values={}, times={})


def test_an_endpoint_the_api_does_not_know_gives_absent_fields(fake, clock, tmp_path):
    reading = make_client(fake, clock, tmp_path).read(["BTCUSDT"], NOW)  # the fake answers 404 to all
    assert reading == IntelReading(values={}, times={})


def test_absurd_values_are_dropped_and_logged(fake, clock, tmp_path, caplog):
    serve_everything(fake)
    fake.data[PATHS["taker_buy_sell"]] = {**TAKER, "buy_vol_usd": -1.0}
    fake.data[PATHS["fear_greed"]] = {"data_list": [150, 101], "time_list": [T0 - 2 * 86400, T0 - 86400]}
    fake.data[PATHS["open_interest_history"]] = lambda p: ohlc(times := rows_between(p), ["-5"] * len(times))
    reading = make_client(fake, clock, tmp_path).read(["BTCUSDT"], NOW)
    assert "taker_buy_usd" not in reading.values["BTCUSDT"] and "open_interest_usd" not in reading.values["BTCUSDT"]
    assert reading.values["BTCUSDT"]["liq_short_usd"] == 250.5  # the rest is read
    assert reading.fear_greed is None
    assert "outside 0-100" in caplog.text and "below 0" in caplog.text


def test_exchange_netflow_is_the_balance_change_between_readings_in_usd(fake, clock, tmp_path):
    serve_everything(fake)
    client = make_client(fake, clock, tmp_path, price_of=lambda symbol: 90_000.0)
    first = client.read(["BTCUSDT"], NOW)
    assert "exchange_netflow_usd" not in first.values["BTCUSDT"]  # one reading: no change yet
    fake.data[PATHS["exchange_balance"]] = [
        {"exchange_name": "Coinbase", "total_balance": 800_010.5},
        {"exchange_name": "Binance", "total_balance": "549990"},
        {"exchange_name": "Kraken", "total_balance": 1000},  # not in the first reading: left out
    ]
    client.read(["BTCUSDT"], NOW + 1800)
    assert len(fake.calls(PATHS["exchange_balance"])) == 1  # hourly figures: asked once an hour
    second = client.read(["BTCUSDT"], NOW + H)
    assert second.values["BTCUSDT"]["exchange_netflow_usd"] == pytest.approx((10.0 - 10.0) * 90_000.0)
    fake.data[PATHS["exchange_balance"]] = [
        {"exchange_name": "Coinbase", "total_balance": 800_110.5},
        {"exchange_name": "Binance", "total_balance": "549990"},
    ]
    third = client.read(["BTCUSDT"], NOW + 2 * H)
    assert third.values["BTCUSDT"]["exchange_netflow_usd"] == pytest.approx(100.0 * 90_000.0)
    assert third.times["BTCUSDT"]["exchange_netflow"] == NOW + 2 * H


def test_a_cycle_makes_at_most_its_call_budget_and_the_rest_follow(fake, clock, tmp_path):
    serve_everything(fake)
    client = make_client(fake, clock, tmp_path, max_calls_per_read=3)
    client.read(["BTCUSDT", "ETHUSDT"], NOW)
    assert len(fake.calls()) == 3
    client.read(["BTCUSDT", "ETHUSDT"], NOW + 1)
    assert len(fake.calls()) == 6
    reading = client.read(["BTCUSDT", "ETHUSDT"], NOW + 2)
    assert len(fake.calls()) == 7  # 2 taker + 2 liquidation + 2 OI + fear & greed
    assert reading.fear_greed == 31.0 and set(reading.values) == {"BTCUSDT", "ETHUSDT"}
    assert clock.sleeps and all(s == pytest.approx(2.5) for s in clock.sleeps)


def test_an_unreadable_cache_file_is_ignored(fake, clock, tmp_path):
    serve_everything(fake)
    client = make_client(fake, clock, tmp_path)
    client.read(["BTCUSDT"], NOW)
    (tmp_path / "taker_buy_sell--BTC.json").write_text('{"answers": [{"fetched', encoding="utf-8")
    fail_everything(fake)
    reading = client.read(["BTCUSDT"], NOW + 120)
    assert "taker_buy_usd" not in reading.values["BTCUSDT"] and "open_interest_usd" in reading.values["BTCUSDT"]
    cached = json.loads((tmp_path / "open_interest_history--BTCUSDT.json").read_text(encoding="utf-8"))
    assert cached["answers"][-1]["fetched_at"] == NOW


def test_the_registry_builds_from_the_compiled_rules(fake, clock, tmp_path, monkeypatch):
    from engine.language.compiler import compile_ruleset

    result = compile_ruleset(str(Path(__file__).resolve().parents[3] / "rules"))
    plans = result.plans.values() if isinstance(result.plans, dict) else result.plans
    source: Any = next(iter(plans)).venues.intelligence[0]
    assert set(INTEL) == {"coinglass"}
    serve_everything(fake)
    client = build_intel(
        source,
        cache_dir=tmp_path,
        environ={"COINGLASS_API_KEY": fake.api_key, "COINGLASS_BASE_URL": fake.url},
        clock=clock,
        sleep=clock.sleep,
    )
    assert client.read(["BTCUSDT"], NOW).values["BTCUSDT"]["taker_sell_usd"] == 1_167_780_000.25


def test_no_key_in_the_environment_is_a_clear_fatal_error(tmp_path):
    with pytest.raises(VenueFatal, match=r"COINGLASS_API_KEY .* is not set"):
        build_intel(RULES, cache_dir=tmp_path, environ={})
    with pytest.raises(KeyError, match="no market-intelligence client of kind 'glassball'"):
        build_intel({**RULES, "kind": "glassball"}, cache_dir=tmp_path)


def test_the_key_is_in_no_cache_file_or_log(fake, clock, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    serve_everything(fake)
    client = make_client(fake, clock, tmp_path, price_of=lambda s: 2.0)
    client.read(["BTCUSDT"], NOW)
    fail_everything(fake, 401)
    client.read(["BTCUSDT"], NOW + 2 * H)
    for path in tmp_path.iterdir():
        assert fake.api_key not in path.read_text(encoding="utf-8")
    assert fake.api_key not in caplog.text
    assert fake.api_key not in repr(client.http._key) and fake.api_key not in str(client.last_errors)


def test_the_long_short_history_gives_only_final_rows(fake, clock, tmp_path):
    fake.data[PATHS["long_short_ratio"]] = lambda p: long_short_rows(rows_between(p))
    client = make_client(fake, clock, tmp_path)
    rows = client.history("long_short_ratio", "BTCUSDT", NOW)
    assert rows and rows[-1].ts == T0 + 4 * H  # the open T0+8h row is left out
    assert rows[-1].values["top_position_long_short_ratio"] == 1.6
    assert fake.calls(PATHS["long_short_ratio"])[0].params["symbol"] == "BTCUSDT"
    with pytest.raises(ValueError, match="not a history endpoint"):
        client.history("fear_greed", "BTCUSDT", NOW)


def test_standard_plan_reads_five_minute_rows_for_fresh_liquidations(fake, clock, tmp_path):
    serve_everything(fake)
    standard = {**RULES, "plan": "standard", "requests_per_minute": 300}
    client = make_client(fake, clock, tmp_path, rules=standard)
    fake.data[PATHS["liquidation_history"]] = lambda p: liquidation_rows(
        times := list(range(int(p["start_time"]) // 1000, int(p["end_time"]) // 1000 + 1, 300)),
        ["7"] * len(times),
        ["8"] * len(times),
    )
    now = T0 + 10 * H + 123  # the 5-min row of T0+10h-5m is published at T0+10h+60 s
    reading = client.read(["BTCUSDT"], now)
    assert fake.calls(PATHS["liquidations"]) == []
    assert fake.calls(PATHS["liquidation_history"])[0].params["interval"] == "5m"
    assert reading.values["BTCUSDT"]["liq_long_usd"] == 7.0
    assert reading.times["BTCUSDT"]["liquidations"] == T0 + 10 * H + LAG


def test_an_endpoint_stays_stale_until_a_call_succeeds_again(fake, clock, tmp_path):
    serve_everything(fake)
    client = make_client(fake, clock, tmp_path)
    client.read(["BTCUSDT"], NOW)
    fake.inject(*[Fault(status=500, body=b"down", path=PATHS["taker_buy_sell"])] * 2)
    assert client.read(["BTCUSDT"], NOW + 120).stale == ("taker_buy_sell",)
    sent = len(fake.calls(PATHS["taker_buy_sell"]))
    # 30 s later the failed call is not tried again yet; what is served is still the old answer
    assert client.read(["BTCUSDT"], NOW + 150).stale == ("taker_buy_sell",)
    assert len(fake.calls(PATHS["taker_buy_sell"])) == sent
    fresh = client.read(["BTCUSDT"], NOW + 200)
    assert fresh.stale == () and fresh.times["BTCUSDT"]["taker_volume"] == NOW + 200


@pytest.mark.parametrize("price", [None, 0.0, float("nan"), -5.0, "boom"])
def test_no_usable_price_gives_no_net_flow_and_no_crash(fake, clock, tmp_path, price):
    def price_of(symbol: str) -> float | None:
        if price == "boom":
            raise RuntimeError("feed down")
        return price  # type: ignore[return-value]

    serve_everything(fake)
    client = make_client(fake, clock, tmp_path, price_of=price_of)
    client.read(["BTCUSDT"], NOW)
    fake.data[PATHS["exchange_balance"]] = [{"exchange_name": "Coinbase", "total_balance": 900_000}]
    reading = client.read(["BTCUSDT"], NOW + H)
    assert "exchange_netflow_usd" not in reading.values["BTCUSDT"]
    assert "taker_buy_usd" in reading.values["BTCUSDT"]


def test_a_reading_makes_a_snapshot_the_engine_reads_without_complaint(fake, clock, tmp_path):
    from engine.market.snapshot import parse_snapshot

    serve_everything(fake)
    client = make_client(fake, clock, tmp_path, price_of=lambda s: 90_000.0, funding_target_interval_s=3600.0)
    client.read(["BTCUSDT"], NOW)
    fake.data[PATHS["exchange_balance"]] = [{"exchange_name": "Coinbase", "total_balance": 800_000}]
    reading = client.read(["BTCUSDT"], NOW + H)
    symbols = {
        symbol: {**values, **{f"{name}_ts": t for name, t in reading.times[symbol].items()}}
        for symbol, values in reading.values.items()
    }
    line = {"v": 1, "ts": NOW + H, "fear_greed": reading.fear_greed, "fear_greed_ts": reading.fear_greed_ts}
    snapshot, problems = parse_snapshot({**line, "symbols": symbols})
    assert problems == [] and snapshot is not None
    btc = snapshot.symbols["BTCUSDT"]
    assert btc.get("exchange_netflow_usd") == pytest.approx(-0.5 * 90_000.0)
    assert btc.times["open_interest"] == T0 + 8 * H + LAG and snapshot.fear_greed == 31.0
    assert all(t <= NOW + H for t in btc.times.values())
