"""The declared schedules over simulated days: the real Bot (engine/bot/loop.py) on a replay
feed of sparse synthetic snapshots, a ReplayClock at max speed, a SQLite state and the CLI's
host (logs, digest files, pruning). Each task must run at the instants its job declares —
computed here from the rule text, not by the scheduler — and do its work; a task that raises
every time must not stop the loop, and the watchdog must notice it.
"""

from __future__ import annotations

import gzip
import json
import math
import random
import re
import shutil
import sqlite3
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType, SimpleNamespace
from typing import Any

import pytest
import yaml

import engine.bot.loop as loop_module
import engine.bot.tasks as tasks_module
from adapters.feeds.replay import ReplayFeed
from adapters.store.state import StateStore
from engine.bot.clock import ReplayClock
from engine.bot.loop import Bot, Summary
from engine.bot.records import BotRecords
from engine.bot.tasks import TASKS
from engine.bot.tasks.base import Override
from engine.cli import compose
from engine.language.compiler import compile_ruleset
from engine.trading.runner import Runner
from tests.bot.test_loop_cycle import FakeReloader
from tests.lifecycle import market
from tests.lifecycle.helpers import RULES

pytestmark = pytest.mark.slow  # two replays of three days: about 15 s

DAY, HOUR, MIN = 86400.0, 3600.0, 60.0
#: 2025-05-25 05:00 UTC, a Sunday: the first nightly run (07:00) comes two hours in.
START = 1_748_131_200.0 + 5 * HOUR
#: Wednesday 09:00: three nights, one Tuesday.
END = START + 3 * DAY + 4 * HOUR
#: Added to the default schedules so a weekday job is driven too (Tuesday 2025-05-27 only).
WEEKLY = '  - {id: weekly_audit, at: "06:30", weekdays: [tue], tasks: [override_audit]}'
#: The reloader thread is dead (its heartbeat stops) for this stretch of Monday.
DEAD = (START + 1 * DAY + 7 * HOUR, START + 1 * DAY + 8 * HOUR)
#: An operator's REDUCING override set at the start, expiring an hour in (before the first nightly run).
OVERRIDE = Override("op-1", "REDUCING", "operator: quiet hours", START, START + HOUR)
OLD_LOG = "executed_trades.2025-04-01.jsonl.gz"  # a closed day past learning.logs.keep (30d)
RECENT_LOG = "executed_trades.2025-05-20.jsonl.gz"  # within it


# ------------------------------------------------------------------ the market


def sparse_market(path: Path, start: float, end: float, seed: int = 11) -> list[float]:
    """Snapshots 3 to 8 minutes apart, with the trading regimes of tests/lifecycle/market.py;
    returns their times. Sparse, so days replay in seconds; but no gap reaches the watchdog's
    10-minute stuck-order limit: a replayed market order waits for the next snapshot, and the
    watchdog of that cycle (tasks run before the step) would cancel it as stuck."""
    rng = random.Random(seed)
    price = dict(market.PRICES)
    lines, times, ts = [], [], start
    while ts <= end:
        phase = int((ts - start) // 5400) % 2
        drift = 0.0015 if phase == 0 else -0.0015
        symbols = {}
        for name in price:
            o = price[name]
            c = price[name] = o * math.exp(drift + rng.gauss(0, 0.003))
            long_liq, short_liq = (2000.0, 60000.0) if phase == 0 else (60000.0, 2000.0)
            symbols[name] = {
                "price": c,
                "bid": c * 0.9999,
                "ask": c * 1.0001,
                "candles": [[ts - 60, o, max(o, c) * 1.0005, min(o, c) * 0.9995, c, 10.0]],
                "liq_long_usd": long_liq,
                "liq_short_usd": short_liq,
                "funding_rate": 0.0001 if phase == 0 else -0.0001,
                "funding_rate_ts": ts - ts % 3600,
            }
        fear = 10 if phase == 0 else 90
        lines.append(json.dumps({"v": 1, "ts": ts, "fear_greed": fear, "fear_greed_ts": ts, "symbols": symbols}))
        times.append(ts)
        ts += MIN * rng.randint(3, 8)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return times


# ------------------------------------------------------------------ the schedule, from the rule text


def seconds(text: str) -> float:
    number, unit = re.fullmatch(r"(\d+)([smhd])", text).groups()  # type: ignore[union-attr]
    return int(number) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit]


def declared_instants(job: dict, first: float, last: float) -> list[float]:
    """Every instant in [first, last] at which ``job`` (as written in schedules.yaml) is due."""
    if "every" in job:
        every = seconds(job["every"])
        return [k * every for k in range(math.ceil(first / every), math.floor(last / every) + 1)]
    hours, minutes = (int(part) for part in job["at"].split(":"))
    days = job.get("weekdays")
    out = []
    for day in range(math.floor(first / DAY), math.floor(last / DAY) + 1):
        at = day * DAY + hours * HOUR + minutes * MIN
        weekday = datetime.fromtimestamp(at, UTC).strftime("%a").lower()
        if first <= at <= last and (not days or weekday in days):
            out.append(at)
    return out


def expected_runs(job: dict, times: list[float]) -> list[tuple[float, float, int]]:
    """(scheduled, started, missed) of each run: a job runs at the first snapshot at or after a
    declared instant, once for all the instants since the previous snapshot (the earliest is
    the scheduled one, the others are counted as missed)."""
    instants = declared_instants(job, times[0], times[-1])
    runs, i = [], 0
    for ts in times:
        caught = []
        while i < len(instants) and instants[i] <= ts:
            caught.append(instants[i])
            i += 1
        if caught:
            runs.append((caught[0], ts, len(caught) - 1))
    return runs


# ------------------------------------------------------------------ the bot under test


@dataclass
class Run:
    summary: Summary
    store: StateStore
    runner: Runner
    logs: Path
    times: list[float]
    jobs: list[dict]
    watchdog_params: dict
    optimized: list[float] = field(default_factory=list)  # clock times of store.optimize()
    old_log_seen: list[tuple[float, bool]] = field(default_factory=list)  # (step time, OLD_LOG exists)

    def task_runs(self) -> list[dict]:
        """logs/tasks.jsonl with its closed days, oldest first."""
        lines = []
        for path in sorted(self.logs.glob("tasks.*.jsonl.gz")):
            lines += gzip.decompress(path.read_bytes()).decode().splitlines()
        lines += (self.logs / "tasks.jsonl").read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines]

    def runs_of(self, task: str, job: str | None = None) -> list[dict]:
        return [r for r in self.task_runs() if r["task"] == task and (job is None or r["job_id"] == job)]


@pytest.fixture(scope="module")
def rules(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    """The default rules with the weekly job added; the plan and the folder."""
    folder = tmp_path_factory.mktemp("rules") / "rules"
    shutil.copytree(RULES, folder)
    schedules = folder / "schedules.yaml"
    text = schedules.read_text(encoding="utf-8")
    nightly = next(line for line in text.splitlines() if line.startswith("  - {id: nightly,"))
    schedules.write_text(text.replace(nightly, nightly + "\n" + WEEKLY), encoding="utf-8")
    result = compile_ruleset(str(folder), ["paper"])
    assert result.ok, [str(d) for d in result.diagnostics]
    return result.plans["paper"], folder


def run_bot(tmp: Path, rules: tuple[Any, Path]) -> Run:
    """The bot over the sparse days, an operator override and two closed log days set before,
    the reloader dead during ``DEAD``; what it did."""
    the_plan, folder = rules
    times = sparse_market(tmp / "market.jsonl", START, END)
    declared = yaml.safe_load((folder / "schedules.yaml").read_text(encoding="utf-8"))
    logs = tmp / "logs"
    logs.mkdir()
    for name in (OLD_LOG, RECENT_LOG):
        (logs / name).write_bytes(gzip.compress(b""))
    store = StateStore(tmp / "bot.db")
    store.record_bot(BotRecords(overrides_set=(OVERRIDE,)))
    with compose.RunLogs(str(logs), store, keep_s=the_plan.learning.logs_keep_s) as run_logs:
        runner = Runner(the_plan, compose.resumed_paper_broker(the_plan, store), store)
        clock = ReplayClock(None)
        holder: dict[str, Run] = {}

        def on_step() -> None:
            holder["run"].old_log_seen.append((clock.now(), (logs / OLD_LOG).exists()))

        bot = Bot(
            runner,
            ReplayFeed([str(tmp / "market.jsonl")]),
            clock,
            compose.BotHost(run_logs, None),
            group_commits=True,
            on_step=on_step,
        )
        bot.attach(FakeReloader(clock, DEAD))  # type: ignore[arg-type]
        result = Run(Summary(), store, runner, logs, times, declared["jobs"], declared["tasks"]["watchdog"])
        holder["run"] = result
        optimize = store.optimize

        def spy() -> None:
            result.optimized.append(clock.now())
            optimize()

        store.optimize = spy  # type: ignore[method-assign]
        result.summary = bot.run()
    return result


@pytest.fixture(scope="module")
def days(tmp_path_factory: pytest.TempPathFactory, rules: tuple[Any, Path]) -> Run:
    return run_bot(tmp_path_factory.mktemp("days"), rules)


def by_job(run: Run) -> dict[str, dict]:
    return {job["id"]: job for job in run.jobs}


def test_the_days_are_replayed_whole(days):
    assert days.summary.ended and not days.summary.stopped
    assert days.summary.snapshots == days.summary.steps == len(days.times)
    assert days.times[-1] - days.times[0] > 3 * DAY
    assert days.summary.failed_tasks == 0


def test_every_task_runs_at_the_instants_its_job_declares(days):
    recorded = days.task_runs()
    assert recorded == [asdict(r) for r in days.store.task_runs(limit=100_000)], "the log and the state agree"
    checked = set()
    for job in days.jobs:
        expected = expected_runs(job, days.times)
        if job["tasks"] == ["bot_cycle"]:  # the loop's own task: one runner step per due cycle
            assert len(expected) == days.summary.steps
            continue
        for task in job["tasks"]:
            got = [
                (r["scheduled_ts"], r["started_ts"], r["missed"])
                for r in recorded
                if r["job_id"] == job["id"] and r["task"] == task
            ]
            assert got == expected, f"{job['id']}/{task}"
            checked.add((job["id"], task))
    assert ("weekly_audit", "override_audit") in checked
    weekly = [
        datetime.fromtimestamp(r["scheduled_ts"], UTC).strftime("%a %H:%M")
        for r in days.runs_of("override_audit", "weekly_audit")
    ]
    assert weekly == ["Tue 06:30"]
    nightly = [
        datetime.fromtimestamp(r["scheduled_ts"], UTC).strftime("%Y-%m-%d %H:%M") for r in days.runs_of("digest")
    ]
    assert nightly == ["2025-05-25 07:00", "2025-05-26 07:00", "2025-05-27 07:00", "2025-05-28 07:00"]


def day_of(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d")


def test_the_digest_writes_one_page_per_night_with_the_days_trades(days):
    runs = days.runs_of("digest")
    trades = days.store.trades()
    assert len(trades) > 10, "the market must make the rules trade, or the pages say nothing"
    pages = sorted(p.name for p in (days.logs / "digest").iterdir())
    assert pages == [f"{day_of(r['started_ts'])}.md" for r in runs]
    for run in runs:
        now = run["started_ts"]
        text = (days.logs / "digest" / f"{day_of(now)}.md").read_text(encoding="utf-8")
        assert text.startswith(f"# Digest {day_of(now)}\n")
        # the window [now - 24 h, now): what the step at ``now`` closes comes after its tasks
        closed = [t for t in trades if now - DAY <= t.exit_ts < now]
        assert run["summary"].startswith(f"digest/{day_of(now)}.md: {len(closed)} trade(s)")
        if closed:
            wins = sum(1 for t in closed if t.net_pnl > 0)
            assert f"{len(closed)} trade(s), {wins} won" in text
            for symbol in {t.symbol for t in closed}:
                assert f"| {symbol} | {sum(1 for t in closed if t.symbol == symbol)} |" in text
        else:
            assert "No trade closed." in text


def test_maintenance_prunes_the_closed_days_past_retention_and_tidies_the_state(days):
    runs = days.runs_of("maintenance")
    first = runs[0]["started_ts"]
    before = [seen for ts, seen in days.old_log_seen if ts < first]
    after = [seen for ts, seen in days.old_log_seen if ts >= first]
    assert before and all(before), "the old closed day was there until the first maintenance"
    assert after and not any(after), "and gone from the first maintenance on"
    assert runs[0]["summary"].startswith("1 closed log file(s) from before 2025-04-25 due for pruning")
    assert all(r["summary"].startswith("no closed log file from before") for r in runs[1:])
    assert (days.logs / RECENT_LOG).exists(), "a closed day within learning.logs.keep is kept"
    assert days.optimized == [r["started_ts"] for r in runs]


def test_the_watchdog_reduces_on_a_stale_heartbeat_and_lifts_it(days):
    stale_after = 3 * seconds(by_job(days)["bot_cycle"]["every"])  # the rule's default: three bot cycles
    assert "heartbeat_stale_after" not in days.watchdog_params
    alive = [ts for ts in days.times if not DEAD[0] <= ts < DEAD[1]]
    stale = []
    for run in days.runs_of("watchdog"):
        now = run["started_ts"]
        last_beat = max(ts for ts in alive if ts <= now)
        if now - last_beat > stale_after:
            stale.append(now)
            assert run["status"] == "warning" and "heartbeat reloader stale" in run["summary"], run
        else:
            assert "heartbeat" not in run["summary"], run
    assert stale and all(DEAD[0] < ts < DEAD[1] for ts in stale)
    changes = [c for c in days.store.state_changes() if "reloader" in c.reason]
    revived = min(r["started_ts"] for r in days.runs_of("watchdog") if r["started_ts"] >= DEAD[1])
    assert [(c.ts, c.state, c.source) for c in changes] == [
        (stale[0], "REDUCING", "watchdog"),
        (revived, "ACTIVE", "watchdog"),
    ]
    opened = [t for t in days.store.trades() if stale[0] <= t.entry_ts < revived]
    assert not opened, "no entry while the watchdog held trading to exits only"


def test_fee_audit_audits_every_fill_once_against_the_schedule(days):
    runs = days.runs_of("fee_audit")
    audited = [int(re.match(r"(\d+) fill\(s\)", r["summary"]).group(1)) for r in runs]  # type: ignore[union-attr]
    fills = days.runner.broker.fills_since(0.0)
    assert len(fills) > 10
    # a fill made in the step of a cycle comes after that cycle's audit: the next audit has it
    assert sum(audited) == sum(1 for f in fills if f.ts < runs[-1]["started_ts"])
    assert all(r["status"] == "ok" and "as the schedule says" in r["summary"] for r in runs)


def test_reconciliation_and_recovery_record_their_findings(days):
    reconciliation = days.runs_of("portfolio_reconciliation")
    recovery = days.runs_of("recovery_cycle")
    assert reconciliation and recovery
    assert {r["summary"] for r in reconciliation} == {"positions and orders in step with the broker"}
    assert {r["summary"] for r in recovery} == {"nothing to recover"}


def test_an_expired_override_is_lifted_by_the_nightly_run(days):
    expire = days.runs_of("expire_manual_overrides")
    assert expire[0]["summary"] == "1 expired override(s) lifted: op-1"
    assert all(r["summary"] == "no override has expired" for r in expire[1:])
    with sqlite3.connect(days.store.path) as db:
        lifted_ts, reason = db.execute("SELECT lifted_ts, lifted_reason FROM overrides WHERE id = 'op-1'").fetchone()
    assert lifted_ts == expire[0]["started_ts"]
    assert reason.startswith("expired ") and "operator: quiet hours" in reason
    audits = days.runs_of("override_audit", "scheduler")
    held = [r for r in audits if r["started_ts"] < OVERRIDE.until]
    assert held and all(r["summary"].startswith("1 override(s): op-1 REDUCING for") for r in held)
    assert all("op-1" not in r["summary"] for r in audits if r["started_ts"] >= OVERRIDE.until)
    operator = [(c.state, c.source) for c in days.store.state_changes() if "quiet hours" in c.reason]
    assert operator[:2] == [("REDUCING", "operator"), ("ACTIVE", "operator")]


# ------------------------------------------------------------------ a task that always fails


def failing(name: str) -> SimpleNamespace:
    """Task ``name`` as registered, but its run raises every time."""
    module = TASKS[name]

    def run(params: Any, ctx: Any) -> Any:
        raise RuntimeError(f"{name} broke at {ctx.now:.0f}")

    return SimpleNamespace(**{k: getattr(module, k) for k in dir(module) if not k.startswith("__")} | {"run": run})


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory, rules: tuple[Any, Path]) -> Run:
    """The same days with fee_audit raising at every run (the registry swapped, as the loop
    looks tasks up when it runs them)."""
    patch = pytest.MonkeyPatch()
    swapped = MappingProxyType({**TASKS, "fee_audit": failing("fee_audit")})
    patch.setattr(loop_module, "TASKS", swapped)
    patch.setattr(tasks_module, "TASKS", swapped)
    try:
        return run_bot(tmp_path_factory.mktemp("broken"), rules)
    finally:
        patch.undo()


def test_a_task_failing_every_time_does_not_stop_the_loop(broken, days):
    assert broken.summary.ended and broken.summary.steps == len(broken.times)
    fee = broken.runs_of("fee_audit")
    assert fee and broken.summary.failed_tasks == len(fee)
    expected = expected_runs(by_job(broken)["scheduler"], broken.times)
    assert [(r["scheduled_ts"], r["started_ts"], r["missed"]) for r in fee] == expected
    for run in fee:
        assert run["status"] == "failed"
        assert run["error"] == f"RuntimeError: fee_audit broke at {run['started_ts']:.0f}"
        assert run["summary"] == f"raised {run['error']}"
        assert isinstance(run["duration_s"], float) and run["duration_s"] >= 0
    others = [
        (r["job_id"], r["task"], r["scheduled_ts"], r["started_ts"])
        for r in broken.task_runs()
        if r["task"] != "fee_audit"
    ]
    assert others == [
        (r["job_id"], r["task"], r["scheduled_ts"], r["started_ts"])
        for r in days.task_runs()
        if r["task"] != "fee_audit"
    ], "every other task ran when it did without the failures"


def test_the_watchdog_notices_the_repeated_failures(broken):
    limit = broken.watchdog_params["max_consecutive_failures"]
    failed_at = [r["started_ts"] for r in broken.runs_of("fee_audit")]
    watchdog = broken.runs_of("watchdog")
    noticed = [r for r in watchdog if "task fee_audit failed" in r["summary"]]
    # a watchdog run sees the failures recorded before its cycle (a failure of its own cycle is not yet)
    due = [r for r in watchdog if sum(ts < r["started_ts"] for ts in failed_at) >= limit]
    assert noticed == due and noticed
    for run in noticed:
        streak = re.search(r"task fee_audit failed (\d+) times in a row", run["summary"])
        assert streak is not None and int(streak.group(1)) >= limit, run
    assert not [c for c in broken.store.state_changes() if "fee_audit" in c.reason], "a failing audit reduces nothing"
    pages = sorted((broken.logs / "digest").iterdir())
    assert pages and all("fee_audit (scheduler) after" in page.read_text(encoding="utf-8") for page in pages)
