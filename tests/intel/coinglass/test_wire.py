"""Parsing of CoinGlass answers in their documented and observed shapes (reference §3.3-§3.4)."""

from __future__ import annotations

import math

import pytest

from adapters.intel.coinglass import wire
from engine.ports import VenueAnswerMalformed
from tests.intel.coinglass.documented import (
    BALANCES,
    COIN_LIST,
    T0,
    TAKER,
    H,
    fear_greed_documented,
    fear_greed_observed,
    liquidation_rows,
    long_short_rows,
    ohlc,
)

WINDOW = (T0 - 48 * H, T0 + H)


def test_taker_volume_reads_the_totals_of_the_documented_object():
    problems: list[str] = []
    volume = wire.taker_volume(TAKER, problems)
    assert volume == wire.TakerVolume(1_215_880_000.5, 1_167_780_000.25)
    assert problems == []


def test_taker_volume_without_totals_sums_the_exchanges():
    body = {k: v for k, v in TAKER.items() if k not in ("buy_vol_usd", "sell_vol_usd")}
    assert wire.taker_volume(body, []) == wire.TakerVolume(900_000_000.0, 864_000_000.0)


@pytest.mark.parametrize(
    ("data", "why"),
    [
        ([TAKER], "not an object"),
        ({**TAKER, "buy_vol_usd": "lots"}, "buy_vol_usd is not a number"),
        ({**TAKER, "buy_vol_usd": {"v": 1}}, "buy_vol_usd is dict"),
        ({"exchange_list": "Binance"}, "exchange_list is str"),
    ],
)
def test_taker_volume_refuses_other_shapes_naming_endpoint_and_why(data, why):
    with pytest.raises(VenueAnswerMalformed) as raised:
        wire.taker_volume(data, [])
    assert raised.value.endpoint == "taker_buy_sell" and raised.value.venue == "coinglass"
    assert "taker_buy_sell" in str(raised.value) and why in str(raised.value)


def test_absurd_taker_volumes_are_dropped_with_a_problem():
    problems: list[str] = []
    volume = wire.taker_volume({**TAKER, "buy_vol_usd": -5.0, "sell_vol_usd": math.nan}, problems)
    assert volume == wire.TakerVolume(None, None)
    assert any("below 0" in p for p in problems) and any("not finite" in p for p in problems)


def test_null_and_empty_string_are_missing_not_errors():
    volume = wire.taker_volume({"buy_vol_usd": None, "sell_vol_usd": ""}, [])
    assert volume == wire.TakerVolume(None, None)


def test_coin_list_gives_each_coins_last_hour_case_insensitively():
    by_coin = wire.coin_liquidations([*COIN_LIST, {"symbol": "sol", "long_liquidation_usd_1h": "12.5"}], [])
    assert by_coin["BTC"] == wire.CoinLiquidations(1_000_000.0, 500_000.0)
    assert by_coin["ETH"] == wire.CoinLiquidations(250_000.0, 750_000.0)
    assert by_coin["SOL"] == wire.CoinLiquidations(12.5, None)


def test_coin_list_entry_without_symbol_is_malformed():
    with pytest.raises(VenueAnswerMalformed, match="liquidations: an entry has no symbol"):
        wire.coin_liquidations([{"long_liquidation_usd_1h": 1}], [])


def test_fear_greed_documented_variant_list_of_one_object_times_in_seconds():
    points = wire.fear_greed(fear_greed_documented(), [])
    assert [(p.ts, p.value) for p in points] == [(T0 - 2 * 86400, 30.0), (T0 - 86400, 31.0), (T0, 32.0)]


def test_fear_greed_observed_variant_object_times_in_ms():
    points = wire.fear_greed(fear_greed_observed(), [])
    assert [(p.ts, p.value) for p in points] == [(T0 - 2 * 86400, 40.0), (T0 - 86400, 41.0), (T0, 42.0)]


def test_fear_greed_rows_out_of_order_are_sorted():
    body = fear_greed_observed()
    body["data_list"].reverse()
    body["time_list"].reverse()
    points = wire.fear_greed(body, [])
    assert [(p.ts, p.value) for p in points] == [(T0 - 2 * 86400, 40.0), (T0 - 86400, 41.0), (T0, 42.0)]


def test_fear_greed_placeholder_values_outside_0_100_are_dropped():
    body = fear_greed_documented()
    body[0]["data_list"] = [4611285.1141, -1, 55]
    problems: list[str] = []
    assert [p.value for p in wire.fear_greed(body, problems)] == [55.0]
    assert len(problems) == 2 and all("outside 0-100" in p for p in problems)


def test_fear_greed_empty_list_is_no_data():
    assert wire.fear_greed([], []) == ()


@pytest.mark.parametrize(
    ("data", "why"),
    [
        ([fear_greed_observed(), fear_greed_observed()], "a list of 2 entries"),
        ({"data_list": [1, 2], "time_list": [T0]}, "2 values but time_list 1"),
        ({"data_list": [1]}, "time_list is NoneType"),
        ({"data_list": [1], "time_list": ["soon"]}, "time_list is not a time"),
        ("fear", "data is str"),
    ],
)
def test_fear_greed_other_shapes_are_malformed(data, why):
    with pytest.raises(VenueAnswerMalformed, match="fear_greed") as raised:
        wire.fear_greed(data, [])
    assert why in str(raised.value)


def test_exchange_balances_documented_shape_numbers_or_strings():
    balances = wire.exchange_balances(BALANCES, [])
    assert balances == (
        wire.ExchangeBalance("Binance", 550_000.0, 100.0),
        wire.ExchangeBalance("Coinbase", 800_000.5, -1200.25),
    )


def test_exchange_balance_negative_total_is_dropped_and_a_nameless_entry_malformed():
    problems: list[str] = []
    assert wire.exchange_balances([{"exchange_name": "X", "total_balance": -1}], problems) == ()
    assert problems
    with pytest.raises(VenueAnswerMalformed, match="exchange_balance: an entry has no exchange_name"):
        wire.exchange_balances([{"total_balance": 1}], [])


def test_ohlc_history_strings_and_the_observed_float_close_either_order():
    times = [T0 - 8 * H, T0 - 4 * H, T0]
    rows = ohlc(list(reversed(times)), ["0.0102", 0.0101, "-0.0050"])  # DESC, a float close
    parsed = wire.history("funding_history", rows, WINDOW, [])
    assert [r.ts for r in parsed] == times
    assert [r.values["close"] for r in parsed] == [-0.005, 0.0101, 0.0102]


def test_history_rows_outside_the_asked_window_are_dropped():
    problems: list[str] = []
    rows = ohlc([2_644_845_344, T0], ["5e9", "6e9"])  # the docs' year-2053 example time
    parsed = wire.history("open_interest_history", rows, WINDOW, problems)
    assert [r.ts for r in parsed] == [T0]
    assert any("outside the asked window" in p for p in problems)


def test_open_interest_of_zero_or_less_is_dropped():
    problems: list[str] = []
    parsed = wire.history("open_interest_history", ohlc([T0 - 4 * H, T0], ["0", "-3"]), WINDOW, problems)
    assert all("close" not in r.values for r in parsed) and len(problems) == 2


def test_liquidation_history_strings():
    rows = liquidation_rows([T0 - 4 * H, T0], ["1200.5", "0"], ["300", "45.25"])
    parsed = wire.history("liquidation_history", rows, WINDOW, [])
    assert parsed[0].values == {"long_liquidation_usd": 1200.5, "short_liquidation_usd": 300.0}
    assert parsed[1].values == {"long_liquidation_usd": 0.0, "short_liquidation_usd": 45.25}


def test_long_short_history_numbers():
    parsed = wire.history("long_short_ratio", long_short_rows([T0]), WINDOW, [])
    assert parsed[0].values == {
        "top_position_long_percent": 61.5,
        "top_position_short_percent": 38.5,
        "top_position_long_short_ratio": 1.6,
    }


@pytest.mark.parametrize(
    ("data", "why"),
    [
        ({"time": T0 * 1000}, "data is dict"),
        (["row"], "a row is str"),
        ([{"close": "1"}], "time is missing"),
        ([{"time": T0 * 1000, "close": "1,5"}], "close is not a number"),
        ([{"time": True, "close": "1"}], "time is missing or not a time"),
    ],
)
def test_history_other_shapes_are_malformed(data, why):
    with pytest.raises(VenueAnswerMalformed, match="open_interest_history") as raised:
        wire.history("open_interest_history", data, WINDOW, [])
    assert why in str(raised.value)


def test_a_row_is_published_at_its_interval_end_plus_the_lag_never_at_its_stamp():
    rows = wire.history("open_interest_history", ohlc([T0 - 4 * H, T0], ["1e9", "2e9"]), WINDOW, [])
    interval, lag = 4 * H, 60
    assert wire.latest(rows, T0 + 59, interval, lag) is None  # the first row: T0-4h+4h+60 s
    assert wire.latest(rows, T0 + 60, interval, lag) == rows[0]
    assert wire.latest(rows, T0 + 4 * H + 59, interval, lag) == rows[0]  # not the row stamped T0
    assert wire.latest(rows, T0 + 4 * H + 60, interval, lag) == rows[1]


def test_times_in_seconds_and_milliseconds_are_both_read():
    assert wire.epoch_s(1636588800, "fear_greed", "t") == 1636588800.0
    assert wire.epoch_s(1636588800000, "fear_greed", "t") == 1636588800.0
    assert wire.epoch_s("1636588800000", "fear_greed", "t") == 1636588800.0
