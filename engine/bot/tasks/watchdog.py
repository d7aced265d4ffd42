"""Task ``watchdog`` (seed: "Self-Governance — Watchdog", every 5 minutes): the bot's own health.

It notices what the trading code cannot see from inside a cycle: a subsystem that stopped
beating, an order that never settles, the disk filling up, logs growing faster than expected
and a task that keeps failing. Stale heartbeats and a repeatedly failing ``bot_cycle`` mean the
bot may be trading on old data, so trading moves to REDUCING (exits only) until a later run
finds it healthy and lifts the state it set; a stuck order is cancelled; the rest is a warning
a person reads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.bot.tasks.base import BOT_CYCLE, Action, CancelOrder, SetTradingState, TaskContext, TaskOutcome
from engine.bot.tasks.common import age, cycle_interval, lift, task_schema
from engine.language.durations import format_duration
from engine.language.schemagen.dsl import Schema, duration, num

if TYPE_CHECKING:
    from engine.language.kinds.base import BuildContext, Doc
    from engine.language.kinds.schedules import Job

NAME = "watchdog"
SUMMARY = "Stale heartbeats, stuck orders, low disk, fast-growing logs and tasks failing in a row."
READS = (
    "heartbeats",
    "pending_orders",
    "market_ts",
    "disk_free_bytes",
    "log_sizes",
    "log_sizes_day_ago",
    "recent_runs",
)
EFFECTS = (
    "warning naming each problem",
    "SetTradingState REDUCING (stale heartbeats, failing bot_cycle)",
    "SetTradingState ACTIVE (lifts its own)",
    "CancelOrder (stuck orders)",
)
GB = 1e9
MB = 1e6
#: Without ``heartbeat_stale_after`` a beat is stale after this many bot cycles.
CYCLES_BEFORE_STALE = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class Params:
    heartbeat_stale_after_s: float = CYCLES_BEFORE_STALE * 60.0
    stuck_order_after_s: float = 600.0
    min_disk_free_gb: float = 1.0
    max_log_growth_mb_per_day: float = 200.0
    max_consecutive_failures: int = 3


def schema() -> Schema:
    return task_schema(
        SUMMARY,
        {
            "heartbeat_stale_after": duration(
                "A subsystem whose last beat is older than this is stale (default: three bot cycles).",
                positive=True,
            ),
            "stuck_order_after": duration("An order pending longer than this is stuck and cancelled.", default="10m"),
            "min_disk_free_gb": num("Warn below this much free disk.", "GB", minimum=0, default=1),
            "max_log_growth_mb_per_day": num(
                "Warn when the logs folder grew more than this over the last day.", "MB", minimum=0, default=200
            ),
            "max_consecutive_failures": num(
                "Warn when a task failed this many times in a row.", "runs", minimum=1, integer=True, default=3
            ),
        },
    )


def compile_params(raw: Mapping[str, Any], jobs: Sequence[Job]) -> Params:
    stale = raw.get("heartbeat_stale_after")
    return Params(
        heartbeat_stale_after_s=stale if stale is not None else CYCLES_BEFORE_STALE * cycle_interval(jobs),
        stuck_order_after_s=raw.get("stuck_order_after", 600.0),
        min_disk_free_gb=raw.get("min_disk_free_gb", 1.0),
        max_log_growth_mb_per_day=raw.get("max_log_growth_mb_per_day", 200.0),
        max_consecutive_failures=raw.get("max_consecutive_failures", 3),
    )


def check(params: Params, doc: Doc, path: tuple[Any, ...], ctx: BuildContext, jobs: Sequence[Job]) -> None:
    """A beat is due once a cycle: a staleness limit within one cycle would call every
    subsystem stale between two cycles and keep trading reduced for nothing."""
    cycle = cycle_interval(jobs)
    if params.heartbeat_stale_after_s <= cycle:
        ctx.report(
            doc,
            path + ("heartbeat_stale_after",),
            "RB354",
            f"watchdog: heartbeat_stale_after {format_duration(params.heartbeat_stale_after_s)} is not longer "
            f"than the bot cycle ({format_duration(cycle)}): every heartbeat would be stale between two cycles",
            suggestion=f"use at least {format_duration(CYCLES_BEFORE_STALE * cycle)} (three cycles)",
        )


def failing_streaks(ctx: TaskContext) -> dict[str, int]:
    """Per task, how many of its latest runs failed in a row (0 when the last one did not)."""
    streaks: dict[str, int] = {}
    for run_ in ctx.recent_runs:  # oldest first: a success resets the streak
        streaks[run_.task] = streaks.get(run_.task, 0) + 1 if run_.status == "failed" else 0
    return streaks


def run(params: Params, ctx: TaskContext) -> TaskOutcome:
    problems: list[str] = []
    actions: list[Action] = []
    stale = {
        name: ctx.now - beat
        for name, beat in sorted(ctx.heartbeats.items())
        if ctx.now - beat > params.heartbeat_stale_after_s
    }
    problems += [f"heartbeat {name} stale: last beat {age(late)} ago" for name, late in stale.items()]
    # an order can only fill on market data: it is stuck when the market went on without it
    # for stuck_order_after (a replay's gap, or a silent feed, does not age it)
    market = ctx.now if ctx.market_ts is None else min(ctx.now, ctx.market_ts)
    stuck = {
        cid: market - sent
        for cid, sent in sorted(ctx.pending_orders.items())
        if market - sent > params.stuck_order_after_s
    }
    for cid, pending in stuck.items():
        problems.append(f"order {cid} stuck: pending for {age(pending)}")
        actions.append(CancelOrder(cid, f"watchdog: pending for {age(pending)}, longer than the stuck-order limit"))
    free_gb = ctx.disk_free_bytes / GB
    if free_gb < params.min_disk_free_gb:
        problems.append(f"disk: {free_gb:.2f} GB free, below {params.min_disk_free_gb:g} GB")
    growth_mb = None
    if ctx.log_sizes_day_ago:
        growth_mb = (sum(ctx.log_sizes.values()) - sum(ctx.log_sizes_day_ago.values())) / MB
        if growth_mb > params.max_log_growth_mb_per_day:
            problems.append(f"logs grew {growth_mb:.1f} MB in a day, above {params.max_log_growth_mb_per_day:g} MB")
    failing = {
        task: count for task, count in sorted(failing_streaks(ctx).items()) if count >= params.max_consecutive_failures
    }
    problems += [f"task {task} failed {count} times in a row" for task, count in failing.items()]

    reducing = [f"stale heartbeat(s): {', '.join(stale)}"] if stale else []
    if BOT_CYCLE in failing:
        reducing.append(f"{BOT_CYCLE} failed {failing[BOT_CYCLE]} times in a row")
    if reducing:
        actions.insert(0, SetTradingState("REDUCING", "watchdog: " + "; ".join(reducing), NAME))
    else:
        actions[:0] = lift(ctx, NAME, "watchdog: heartbeats fresh and bot_cycle running")
    details = {
        "stale_heartbeats": {name: round(late, 3) for name, late in stale.items()},
        "stuck_orders": {cid: round(pending, 3) for cid, pending in stuck.items()},
        "disk_free_gb": round(free_gb, 3),
        "log_growth_mb_per_day": None if growth_mb is None else round(growth_mb, 3),
        "failing_tasks": failing,
    }
    if not problems:
        return TaskOutcome("ok", "healthy", details=details, actions=tuple(actions))
    summary = f"{len(problems)} problem(s): " + "; ".join(problems)
    return TaskOutcome("warning", summary, details=details | {"problems": problems}, actions=tuple(actions))
