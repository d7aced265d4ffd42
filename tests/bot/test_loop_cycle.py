"""The bot's loop (engine/bot/loop.py) cycle by cycle: what the tasks of a cycle see and what
the cycle trades under, on a replay feed with a real SQLite state and the CLI's host."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

from adapters.feeds.replay import ReplayFeed
from adapters.paper.broker import PaperBroker
from adapters.store.state import StateStore
from engine.bot.clock import ReplayClock
from engine.bot.loop import Bot
from engine.bot.records import BotRecords
from engine.bot.tasks.base import Override
from engine.cli import compose
from engine.language.compiler import compile_ruleset
from engine.replay.dryrun import dry_run, fingerprint
from engine.replay.memstate import MemoryState
from engine.trading.runner import Runner
from tests.lifecycle import market
from tests.lifecycle.helpers import RULES


class FakeReloader:
    """Stands in for the reloader thread: never has a reload, alive except during ``dead``
    (the loop beats ``reloader`` only while it is alive)."""

    def __init__(self, clock: ReplayClock, dead: tuple[float, float] | None) -> None:
        self.clock, self.dead = clock, dead

    def take(self) -> None:
        return None

    def is_alive(self) -> bool:
        return self.dead is None or not self.dead[0] <= self.clock.now() < self.dead[1]


def default_plan() -> Any:
    return compile_ruleset(str(RULES), ["paper"]).plans["paper"]


def write(path: Path, snapshots: list[dict]) -> Path:
    path.write_text("".join(json.dumps(s) + "\n" for s in snapshots), encoding="utf-8")
    return path


def run_replay(
    tmp: Path,
    the_plan: Any,
    path: Path,
    *,
    dead: tuple[float, float] | None = None,
    overrides: tuple[Override, ...] = (),
) -> StateStore:
    """The bot over the file at max speed, as `rulebot run --paper` wires it (a live reloader
    stands in for the thread, dead during ``dead``), ``overrides`` set before; its state."""
    store = StateStore(tmp / "bot.db")
    store.record_bot(BotRecords(overrides_set=overrides))
    with compose.RunLogs(str(tmp / "logs"), store, keep_s=the_plan.learning.logs_keep_s) as run_logs:
        runner = Runner(the_plan, compose.resumed_paper_broker(the_plan, store), store)
        clock = ReplayClock(None)
        bot = Bot(runner, ReplayFeed([str(path)]), clock, compose.BotHost(run_logs, None), group_commits=True)
        bot.attach(FakeReloader(clock, dead))  # type: ignore[arg-type]
        assert bot.run().ended
    return store


def test_a_replay_of_snapshots_five_minutes_apart_trades_as_dry_run(tmp_path):
    """The watchdog must see the loop and a live reloader beating in every cycle: beaten after
    the tasks, a 5-minute recording looked stale (older than three 60 s cycles) at every run
    and the bot traded exits only — unlike dry-run on the same file."""
    the_plan = default_plan()
    path = write(tmp_path / "five.jsonl", market.snapshots(1440)[::5])
    expected, _, _ = dry_run(
        the_plan, compose.read_snapshots([path], []), broker=PaperBroker.for_plan(the_plan), store=MemoryState()
    )
    assert len(expected["trades"]) > 10
    store = run_replay(tmp_path, the_plan, path)
    assert not [c for c in store.state_changes() if c.source == "watchdog"]
    assert fingerprint([t.as_dict() for t in store.trades()]) == expected["fingerprint"]


def test_a_state_a_task_lifts_no_longer_holds_the_cycle_that_lifts_it(tmp_path):
    """The watchdog reduces while the reloader's heartbeat is stale and lifts it at its first
    run that finds it beating again: that cycle already trades ACTIVE, and the change is
    recorded at it (not one cycle later, as when the lifted override still held the cycle)."""
    the_plan = default_plan()
    t0 = market.T0
    dead = (t0 + 60 * 60, t0 + 75 * 60)
    path = write(tmp_path / "market.jsonl", market.snapshots(120))
    store = run_replay(tmp_path, the_plan, path, dead=dead)
    changes = [(c.ts - t0, c.state, c.source) for c in store.state_changes() if c.source == "watchdog"]
    # the last beat at 59 min is stale (over three 60 s cycles) at the 5-minute run at 65 min
    assert changes == [(65 * 60, "REDUCING", "watchdog"), (75 * 60, "ACTIVE", "watchdog")]


def test_the_nightly_run_lifts_an_operator_override_past_its_expiry(tmp_path):
    """Set at 00:00 until 01:00: it stops holding at 01:00, and the 07:00 nightly run records
    it lifted (the task was handed only the overrides still in force, so it never did)."""
    t0 = market.T0  # 00:00 UTC
    reduce = Override("op-1", "REDUCING", "operator: quiet hours", t0, t0 + 3600)
    path = write(tmp_path / "market.jsonl", market.snapshots(8 * 60))
    store = run_replay(tmp_path, default_plan(), path, overrides=(reduce,))
    with sqlite3.connect(tmp_path / "bot.db") as db:
        lifted = db.execute("SELECT lifted_ts, lifted_reason FROM overrides WHERE id = 'op-1'").fetchone()
    assert lifted == (t0 + 7 * 3600, "expired 6h ago (REDUCING: operator: quiet hours)")
    nightly = [r for r in store.task_runs(limit=10_000) if r.task == "expire_manual_overrides"]
    assert [(r.started_ts - t0, r.summary) for r in nightly] == [(7 * 3600, "1 expired override(s) lifted: op-1")]
    operator = [(c.ts - t0, c.state) for c in store.state_changes() if c.source == "operator"]
    assert operator == [(0, "REDUCING"), (3600, "ACTIVE")]


def rules_with(tmp: Path, *edits: tuple[str, str, str]) -> Any:
    """The default paper plan from a copy of rules/ where each ``(file, old, new)`` replaced text."""
    folder = tmp / "rules"
    shutil.copytree(RULES, folder)
    for name, old, new in edits:
        text = (folder / name).read_text(encoding="utf-8")
        assert old in text, (name, old)
        (folder / name).write_text(text.replace(old, new), encoding="utf-8")
    result = compile_ruleset(str(folder), ["paper"])
    assert result.ok, [str(d) for d in result.diagnostics]
    return result.plans["paper"]


def test_back_to_back_digests_count_every_trade_once(tmp_path):
    """Hourly digests of one hour each: a trade closed in the step of a digest's cycle (after
    its tasks) is in the next digest, so together they count every trade closed between the
    first and the last digest once (they missed those closed on the hour)."""
    the_plan = rules_with(
        tmp_path,
        (
            "schedules.yaml",
            "  - {id: nightly,",
            "  - {id: hourly_digest, every: 1h, tasks: [digest]}\n  - {id: nightly,",
        ),
        ("schedules.yaml", "digest: {window: 24h}", "digest: {window: 1h}"),
    )
    path = write(tmp_path / "market.jsonl", market.snapshots(8 * 60))
    store = run_replay(tmp_path, the_plan, path)
    digests = [r for r in store.task_runs(limit=10_000) if r.job_id == "hourly_digest"]
    assert len(digests) == 8
    counted = [int(r.summary.split(": ")[1].split(" ")[0]) for r in digests]
    first, last = digests[0].started_ts, digests[-1].started_ts
    closed = [t for t in store.trades() if first <= t.exit_ts < last]
    assert any(t.exit_ts % 3600 == 0 for t in closed), "some trade must close in a digest's cycle"
    assert sum(counted[1:]) == len(closed)


class SilentFeed:
    """A real-time feed that never delivers; it stops the bot after ``turns`` waits."""

    realtime, name, problems, problems_dropped, ended = True, "tail:silent.jsonl", [], 0, False

    def __init__(self, turns: int) -> None:
        self.turns = turns
        self.bot: Any = None

    def next(self, wake: Any, timeout_s: float | None) -> None:
        self.turns -= 1
        if self.turns <= 0:
            self.bot.stop()

    def close(self) -> None:
        pass


class SteppingClock:
    """Real-time stand-in: every reading is a minute after the last (no waiting)."""

    realtime, speed = True, 1.0

    def __init__(self, start: float) -> None:
        self.ts = start

    def now(self) -> float:
        self.ts += 60.0
        return self.ts


def test_a_feed_that_never_delivers_goes_stale_and_trading_reduces(tmp_path):
    """With no snapshot ever, there is no beat of the feed's own: it counts from when the bot
    started listening, so the watchdog finds it stale (three cycles) as it would a feed that
    stopped."""
    the_plan = default_plan()
    store = StateStore(tmp_path / "bot.db")
    with compose.RunLogs(str(tmp_path / "logs"), store, keep_s=the_plan.learning.logs_keep_s) as run_logs:
        runner = Runner(the_plan, compose.resumed_paper_broker(the_plan, store), store)
        feed = SilentFeed(turns=40)
        bot = Bot(runner, feed, SteppingClock(market.T0), compose.BotHost(run_logs, None))  # type: ignore[arg-type]
        feed.bot = bot
        bot.run()
    reduced = [c for c in store.state_changes() if c.source == "watchdog"]
    assert reduced and reduced[0].state == "REDUCING" and "feed" in reduced[0].reason
    assert store.trades() == [] and runner.cursor is None
