"""The live feed: one snapshot per cycle on the UTC grid, built from the market-data port
and the intelligence port, failures left out and counted, the fatal one ending the feed,
publication times honest, every snapshot recorded."""

from __future__ import annotations

import threading

import pytest

from adapters.feeds.live import KEPT_PROBLEMS, LiveFeed
from adapters.snapshots.daily import DailyRecorder, day_file
from adapters.snapshots.files import read_snapshots
from engine.ports import IntelReading, VenueAnswerMalformed, VenueFatal, VenueRetryable
from tests.feeds.fakes import FakeClock, FakeIntel, FakeMarket, T

START = T + 30.5  # half a minute into a minute


def _feed(clock: FakeClock, market: FakeMarket | None = None, **kwargs) -> tuple[LiveFeed, FakeMarket]:
    market = market or FakeMarket(clock)
    feed = LiveFeed(
        market, ["BTCUSDT", "ETHUSDT"], venue="kraken_futures", every_s=60.0, clock=clock, wait=clock.wait, **kwargs
    )
    return feed, market


def test_the_first_snapshot_comes_at_once_with_every_input_and_its_publication_time():
    clock = FakeClock(START)
    feed, _ = _feed(clock)
    snapshot = feed.next(threading.Event(), 10.0)
    assert snapshot is not None and snapshot.ts == START and clock.waits == []
    btc = snapshot.symbols["BTCUSDT"]
    assert btc.values == {
        "price": 100_000.0,
        "mark": pytest.approx(100_010.0),
        "bid": 99_999.0,
        "ask": 100_001.0,
        "funding_rate": 0.0001,
        "open_interest_usd": 1.0e9,
    }
    assert btc.times["price"] == START - 2.0  # the venue's own stamp of the ticker
    assert btc.times["order_book"] == START - 2.0  # bid/ask of that ticker, the older of it and the book
    assert btc.times["funding_rate"] == START and btc.times["open_interest"] == START
    assert btc.book is not None and btc.book.bids[0] == (99_999.0, 2.0)
    # the last closed candle only: the one opened at T is still forming at T + 30.5
    assert [c.ts for c in btc.candles] == [T - 60.0]
    assert btc.times["candles_1m"] == T
    assert feed.problems == [] and feed.cycles == 1


def test_snapshots_follow_the_cycle_grid_and_a_short_wait_gives_nothing():
    clock = FakeClock(START)
    feed, _ = _feed(clock)
    wake = threading.Event()
    feed.next(wake, 1.0)
    assert feed.next(wake, 10.0) is None  # the next is due at T + 60, not within 10 s
    assert clock.t == START + 10.0
    snapshot = feed.next(wake, 100.0)
    assert snapshot is not None and snapshot.ts == T + 60.0
    assert [c.ts for c in snapshot.symbols["BTCUSDT"].candles] == [T]  # closed since the previous snapshot
    later = feed.next(wake, 1000.0)
    assert later is not None and later.ts == T + 120.0


def test_a_wait_ending_just_before_the_cycle_is_stretched_to_it():
    clock = FakeClock(START)
    feed, _ = _feed(clock)
    wake = threading.Event()
    feed.next(wake, 1.0)
    snapshot = feed.next(wake, (T + 60.0) - START - 0.4)  # the bot's clock says "due" a hair early
    assert snapshot is not None and snapshot.ts == T + 60.0


def test_a_set_wake_returns_at_once():
    clock = FakeClock(START)
    feed, market = _feed(clock)
    wake = threading.Event()
    wake.set()
    assert feed.next(wake, 100.0) is None
    assert market.calls == [] and clock.t == START


def test_a_failing_source_leaves_its_inputs_out_counts_a_problem_and_the_rest_is_kept(caplog):
    clock = FakeClock(START)
    market = FakeMarket(clock)
    market.fail["ticker"] = VenueRetryable(
        "HTTP 429 Too Many Requests", venue="kraken_futures", endpoint="/derivatives/api/v3/tickers", status=429
    )
    feed, _ = _feed(clock, market)
    snapshot = feed.next(threading.Event(), 1.0)
    assert snapshot is not None
    btc = snapshot.symbols["BTCUSDT"]
    assert "price" not in btc.values and "bid" not in btc.values
    assert btc.book is not None and btc.values["funding_rate"] == 0.0001
    problem = feed.problems[0]
    assert (problem.code, problem.is_error) == ("RB611", False)
    assert "kraken_futures /derivatives/api/v3/tickers (BTCUSDT) (HTTP 429)" in problem.message
    assert "Too Many Requests" in problem.message
    assert len(feed.problems) == 2  # one per symbol
    assert "RB611" in caplog.text


def test_a_source_that_answers_again_is_said_once_and_the_missed_candles_are_caught_up(caplog):
    clock = FakeClock(START)
    market = FakeMarket(clock)
    feed, _ = _feed(clock, market)
    wake = threading.Event()
    feed.next(wake, 1.0)
    market.fail["candles"] = VenueAnswerMalformed("truncated JSON", venue="kraken_futures", endpoint="charts")
    missed = feed.next(wake, 100.0)
    assert missed is not None and missed.symbols["BTCUSDT"].candles == ()
    del market.fail["candles"]
    caught_up = feed.next(wake, 100.0)
    assert caught_up is not None
    assert [c.ts for c in caught_up.symbols["BTCUSDT"].candles] == [T, T + 60.0]
    assert "candles BTCUSDT answers again" in caplog.text


def test_a_fatal_venue_error_ends_the_feed_and_is_an_error():
    clock = FakeClock(START)
    market = FakeMarket(clock)
    market.fail["order_book"] = VenueFatal(
        "403 Forbidden: API key lacks permission", venue="kraken_futures", endpoint="orderbook", status=403
    )
    feed, _ = _feed(clock, market)
    assert feed.next(threading.Event(), 100.0) is None
    assert feed.ended and isinstance(feed.fatal, VenueFatal)
    assert [p.code for p in feed.problems if p.is_error] == ["RB613"]
    assert feed.next(threading.Event(), 100.0) is None


def test_an_impossible_value_is_dropped_as_from_a_recorded_line():
    clock = FakeClock(START)
    market = FakeMarket(clock, prices={"BTCUSDT": -5.0, "ETHUSDT": 2_500.0})
    feed, _ = _feed(clock, market)
    snapshot = feed.next(threading.Event(), 1.0)
    assert snapshot is not None and "price" not in snapshot.symbols["BTCUSDT"].values
    assert "RB703" in {p.code for p in feed.problems}
    assert snapshot.symbols["ETHUSDT"].values["price"] == 2_500.0


def test_a_venue_stamp_ahead_of_our_clock_is_not_published_after_the_snapshot():
    clock = FakeClock(START)
    market = FakeMarket(clock, ticker_lag_s=-5.0)  # the venue's clock runs 5 s ahead
    feed, _ = _feed(clock, market)
    snapshot = feed.next(threading.Event(), 1.0)
    assert snapshot is not None and snapshot.symbols["BTCUSDT"].times["price"] == START


def _reading(**extra) -> IntelReading:
    return IntelReading(
        values={"BTCUSDT": {"liq_long_usd": 5e6, "open_interest_usd": 3e10, "taker_buy_usd": 7e6}},
        times={"BTCUSDT": {"liquidations": T - 60.0, "open_interest": T - 60.0}},
        fear_greed=62.0,
        fear_greed_ts=T - 3600.0,
        **extra,
    )


def test_intelligence_fills_what_the_venue_did_not_give_with_its_publication_times():
    clock = FakeClock(START)
    intel = FakeIntel(_reading())
    feed, _ = _feed(clock, intel=intel)
    snapshot = feed.next(threading.Event(), 1.0)
    assert snapshot is not None and intel.asked == [START]
    btc = snapshot.symbols["BTCUSDT"]
    assert btc.values["liq_long_usd"] == 5e6 and btc.times["liquidations"] == T - 60.0
    assert btc.values["open_interest_usd"] == 1.0e9  # the venue's own is kept
    assert "taker_buy_usd" not in btc.values  # no publication time given: of unknown age, left out
    assert (snapshot.fear_greed, snapshot.fear_greed_ts) == (62.0, T - 3600.0)


def test_failing_intelligence_is_a_problem_and_the_venue_data_stays():
    clock = FakeClock(START)
    intel = FakeIntel(fail=VenueRetryable("HTTP 500", venue="coinglass", endpoint="/api/futures/liquidation"))
    feed, _ = _feed(clock, intel=intel)
    snapshot = feed.next(threading.Event(), 1.0)
    assert snapshot is not None and snapshot.fear_greed is None
    assert snapshot.symbols["BTCUSDT"].values["price"] == 100_000.0
    assert [p.code for p in feed.problems] == ["RB611"] and "coinglass" in feed.problems[0].message


def test_nothing_answering_gives_no_snapshot_and_the_next_cycle_tries_again():
    clock = FakeClock(START)
    market = FakeMarket(clock)
    down = VenueRetryable("connection refused", venue="kraken_futures", endpoint="x")
    market.fail.update(dict.fromkeys(("ticker", "order_book", "candles", "funding_rate", "open_interest"), down))
    feed, _ = _feed(clock, market)
    wake = threading.Event()
    assert feed.next(wake, 10.0) is None
    assert any(p.is_error and "no source answered" in p.message for p in feed.problems)
    market.fail.clear()
    snapshot = feed.next(wake, 100.0)
    assert snapshot is not None and snapshot.ts == T + 60.0


def test_problems_are_kept_up_to_a_bound_and_the_rest_counted():
    clock = FakeClock(START)
    market = FakeMarket(clock)
    market.fail["funding_rate"] = VenueRetryable("HTTP 502", venue="kraken_futures", endpoint="tickers")
    feed, _ = _feed(clock, market)
    wake = threading.Event()
    for _ in range(KEPT_PROBLEMS):
        feed.next(wake, 100.0)
    assert len(feed.problems) == KEPT_PROBLEMS and feed.problems_dropped == KEPT_PROBLEMS


def test_every_snapshot_is_recorded_and_reads_back_as_given(tmp_path):
    clock = FakeClock(T + 86_400.0 - 90.0)  # a UTC midnight within the run
    feed, _ = _feed(clock, recorder=DailyRecorder(tmp_path))
    wake = threading.Event()
    given = [feed.next(wake, 100.0) for _ in range(3)]
    assert all(s is not None for s in given)
    first, second = day_file(tmp_path, T), day_file(tmp_path, T + 86_400.0)
    assert sorted(tmp_path.iterdir()) == [first, second]
    read = [s for path in (first, second) for s, _ in read_snapshots(path) if s is not None]
    assert read == given


def test_a_recording_that_cannot_be_written_is_a_problem_not_a_crash(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    clock = FakeClock(START)
    feed, _ = _feed(clock, recorder=DailyRecorder(blocked / "snapshots"))
    snapshot = feed.next(threading.Event(), 1.0)
    assert snapshot is not None
    assert [p.code for p in feed.problems] == ["RB710"] and "could not be recorded" in feed.problems[0].message
