"""The running bot on the live feed (as `rulebot run --paper --feed live` wires it, with an
in-test venue and one clock for both): each bot cycle steps the snapshot made for it, every
snapshot is recorded for dry-run, and a venue's fatal error ends the run."""

from __future__ import annotations

import threading

from adapters.feeds.live import LiveFeed
from adapters.snapshots.daily import DailyRecorder
from adapters.snapshots.files import read_snapshots
from adapters.store.state import StateStore
from engine.bot.loop import Bot
from engine.cli import compose
from engine.ports import VenueFatal
from engine.trading.runner import Runner
from tests.bot.test_loop_cycle import FakeReloader, default_plan
from tests.feeds.fakes import FakeClock, FakeMarket, T


class BotClock:
    """The bot's real-time clock reading the feed's fake clock (whose waits move it)."""

    realtime, speed = True, 1.0

    def __init__(self, fake: FakeClock) -> None:
        self.fake = fake

    def now(self) -> float:
        return self.fake.t


class EndAfter(FakeMarket):
    """Answers ``good`` tickers, then refuses for good (a revoked key)."""

    good: int = 0

    def ticker(self, symbol: str):
        if self.good <= 0:
            raise VenueFatal("403 Forbidden: account blocked", venue="kraken_futures", endpoint="tickers", status=403)
        self.good -= 1
        return super().ticker(symbol)


def test_each_cycle_steps_its_snapshot_all_are_recorded_and_a_fatal_error_ends_the_run(tmp_path):
    the_plan = default_plan()
    clock = FakeClock(T + 5.0)
    market = EndAfter(clock, prices={"BTCUSDT": 100_000.0, "ETHUSDT": 2_500.0})
    market.good = 2 * 4  # four snapshots of two symbols
    recorded = tmp_path / "logs" / "snapshots"
    feed = LiveFeed(
        market,
        ["BTCUSDT", "ETHUSDT"],
        venue="kraken_futures",
        every_s=compose.bot_cycle_s(the_plan),
        recorder=DailyRecorder(recorded),
        clock=clock,
        wait=clock.wait,
    )
    store = StateStore(tmp_path / "bot.db")
    with compose.RunLogs(str(tmp_path / "logs"), store, keep_s=the_plan.learning.logs_keep_s) as run_logs:
        runner = Runner(the_plan, compose.resumed_paper_broker(the_plan, store), store)
        bot = Bot(runner, feed, BotClock(clock), compose.BotHost(run_logs, None))  # type: ignore[arg-type]
        bot.attach(FakeReloader(clock, None))  # type: ignore[arg-type]
        stopper = threading.Timer(600.0, bot.stop)  # a safety net only: the fatal error ends the run
        stopper.start()
        try:
            summary = bot.run()
        finally:
            stopper.cancel()
    assert summary.ended and not summary.stopped
    assert summary.snapshots == 4 and summary.steps == 4
    assert runner.cursor == T + 180.0  # the first at once (T + 5), then one per minute of the grid
    assert isinstance(feed.fatal, VenueFatal) and any(p.code == "RB613" for p in feed.problems)
    [day] = sorted(recorded.iterdir())
    read = [s for s, _ in read_snapshots(day) if s is not None]
    assert [s.ts for s in read] == [T + 5.0, T + 60.0, T + 120.0, T + 180.0]
