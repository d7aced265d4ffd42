"""`rulebot status [--state DIR] [--format text|json]`: what a bot is doing, read from its
state without disturbing it.

``<state>/bot.db`` is opened read-only (adapters/store/reader.py): no lock is taken, nothing
written, checkpointed or created, and the running bot never waits for it. Whether the bot runs
is read from its lock file (the holder's pid alive on this host), not by taking the lock.
The JSON form has the text's content under stable keys; times are epoch seconds. Heartbeat
ages and the schedule's "in" are measured on the bot's own clock at its last cycle (a replay's
simulated time, real time otherwise), so a replayed state reads as it did then; the last
cycle's own age and an override's time left are measured on the machine's clock.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import click

from engine.cli import compose
from engine.cli.control import DB
from engine.cli.exit_codes import EXIT_OK
from engine.cli.options import state_folder
from engine.common.errors import RulebotError


@click.command()
@state_folder("The bot's state folder (the one given to `rulebot run --state`).")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="Output format."
)
def status(state_dir: str, fmt: str) -> None:
    """Show the bot's version, last reload, trading state, positions, heartbeats and schedule."""
    report = gather(Path(state_dir), time.time())
    click.echo(json.dumps(report, indent=2, sort_keys=True) if fmt == "json" else render(report))
    sys.exit(EXIT_OK)


def gather(state: Path, now: float) -> dict[str, Any]:
    """Everything status shows, JSON-ready; StateError (RB800) when ``state`` holds no bot.db."""
    from engine.bot import states
    from engine.bot.control import current_state, differs, recorded_conditions

    db = state / DB
    if not db.is_file():
        raise NoState(
            f"no bot state at {db}: give --state the folder a bot runs with (`rulebot run --state DIR`), or start one"
        )
    reader = compose.state_reader(db)
    holder = compose.lock_holder(db)
    running = {
        "running": bool(holder.get("alive")),
        "pid": holder.get("pid"),
        "command": holder.get("command"),
        "since": holder.get("since"),
    }
    report: dict[str, Any] = {"state": str(state), "now": now, "bot": running}
    positions = reader.open_positions()
    if not reader.has_bot_tables:  # a state no bot has run on yet (paper, or older)
        report.update(_empty(), positions=[_position(p, {}) for p in positions])
        report["note"] = f"{db} has no running-bot tables yet (schema version {reader.version}); no bot ran on it"
        return report
    status_row = reader.bot_status()
    prices = dict(status_row.prices) if status_row else {}
    changes = reader.state_changes()
    state_now, reason, source = current_state(changes)
    active = reader.active_overrides(now)
    # what holds now: an override may have expired since the bot (or a command) recorded the state
    effective = states.resolve([*states.held(active), *recorded_conditions(changes)])
    reloads = reader.reloads(limit=1)
    market = [c for c in changes if c.source == "market_data"]
    beats = reader.heartbeats()
    last_runs = reader.last_runs()
    last_cycle = status_row.last_cycle_ts if status_row else None
    clock = now if last_cycle is None else last_cycle  # the bot's clock when it last ran a cycle
    report.update(
        version=None
        if status_row is None
        else {
            "live": status_row.live_version,
            "since": status_row.live_since,
            "pid": status_row.pid,
            "last_cycle_ts": last_cycle,
            "last_cycle_age_s": None if last_cycle is None else max(0.0, now - last_cycle),
        },
        last_reload=None if not reloads else _reload(reloads[-1]),
        trading={
            "state": state_now,
            "reason": reason,
            "source": source,
            "since": changes[-1].ts if changes else None,
            "pending": None
            if not differs(effective, (state_now, reason, source))
            else {"state": effective[0], "reason": effective[1], "source": effective[2]},
        },
        overrides=[
            {
                "id": o.id,
                "state": o.state,
                "reason": o.reason,
                "source": o.source,
                "set_ts": o.set_ts,
                "until": o.until,
                "left_s": None if o.until is None else max(0.0, o.until - now),
            }
            for o in active
        ],
        positions=[_position(p, prices) for p in positions],
        heartbeats=[{"name": name, "ts": ts, "age_s": max(0.0, clock - ts)} for name, ts in sorted(beats.items())],
        market_data=None
        if not market
        else {"state": market[-1].state, "reason": market[-1].reason, "ts": market[-1].ts},
        schedule=[
            {"job_id": e.job_id, "next_ts": e.next_ts, "in_s": e.next_ts - clock, "last_ts": e.last_ts}
            for e in reader.schedule()
        ],
        tasks=[
            {
                "task": run.task,
                "job_id": run.job_id,
                "status": run.status,
                "summary": run.summary,
                "started_ts": run.started_ts,
                "duration_s": run.duration_s,
                "error": run.error,
            }
            for _, run in sorted(last_runs.items())
        ],
    )
    return report


class NoState(RulebotError):
    """There is no state database where --state points: nothing to show (RB800)."""

    code = "RB800"


def _empty() -> dict[str, Any]:
    return {
        "version": None,
        "last_reload": None,
        "trading": {"state": "ACTIVE", "reason": "", "source": "", "since": None, "pending": None},
        "overrides": [],
        "heartbeats": [],
        "market_data": None,
        "schedule": [],
        "tasks": [],
    }


def _reload(reload: Any) -> dict[str, Any]:
    return {
        "ts": reload.ts,
        "old_version": reload.old_version,
        "new_version": reload.new_version,
        "outcome": reload.outcome,
        "errors": list(reload.errors),
        "duration_s": reload.duration_s,
        "reason": reload.reason,
    }


def _position(position: Any, prices: dict[str, float]) -> dict[str, Any]:
    """A position with its unrealised P&L at the bot's last price (None without one)."""
    price = prices.get(position.symbol)
    sign = 1 if position.direction == "LONG" else -1
    pnl = None if price is None else sign * (price - position.entry_price) * position.quantity
    pct = None if price is None else sign * (price / position.entry_price - 1) * 100
    return {
        "id": position.id,
        "symbol": position.symbol,
        "direction": position.direction,
        "quantity": position.quantity,
        "entry_price": position.entry_price,
        "leverage": position.leverage,
        "opened_at": position.opened_at,
        "price": price,
        "unrealized_pnl_usd": pnl,
        "unrealized_pnl_pct": pct,
    }


def _ago(seconds: float) -> str:
    seconds = abs(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f}{unit}"
    return f"{seconds:.0f}s"


def _when(ts: float | None) -> str:
    from engine.common.times import iso_utc

    return "never" if ts is None else iso_utc(ts)


def _cycle(version: dict[str, Any]) -> str:
    if version["last_cycle_ts"] is None:
        return "never"
    return f"{_when(version['last_cycle_ts'])} ({_ago(version['last_cycle_age_s'])} ago)"


def render(report: dict[str, Any]) -> str:
    """The text form: one section per subject, a person's reading order."""
    bot = report["bot"]
    lines = [
        f"state     {report['state']}",
        "bot       " + (f"running (pid {bot['pid']}, since {bot['since']})" if bot["running"] else "not running"),
    ]
    if "note" in report:
        lines.append(f"note      {report['note']}")
    version = report["version"]
    lines.append(
        "version   none live yet"
        if version is None
        else f"version   {version['live']} live since {_when(version['since'])}; last cycle {_cycle(version)}"
    )
    reload = report["last_reload"]
    if reload is not None:
        lines.append(
            f"reload    {_when(reload['ts'])}: {reload['outcome']} "
            f"({reload['old_version']} -> {reload['new_version'] or 'kept ' + reload['old_version']}, "
            f"{reload['duration_s']:.3f} s){': ' + reload['reason'] if reload['reason'] else ''}"
        )
        lines += [f"            {error}" for error in reload["errors"]]
    trading = report["trading"]
    since = "" if trading["since"] is None else f" since {_when(trading['since'])}"
    why = f": {trading['reason']} ({trading['source']})" if trading["reason"] else ""
    lines.append(f"trading   {trading['state']}{why}{since}")
    if trading["pending"] is not None:
        pending = trading["pending"]
        held = f": {pending['reason']} ({pending['source']})" if pending["reason"] else ""
        lines.append(f"  pending {pending['state']}{held}: an override ended; recorded at the bot's next cycle")
    for o in report["overrides"]:
        left = "until resumed" if o["left_s"] is None else f"{_ago(o['left_s'])} left"
        lines.append(f"  override {o['state']} by {o['source']}: {o['reason']} ({left}; id {o['id']})")
    if report["market_data"] is not None:
        m = report["market_data"]
        lines.append(f"data      {m['state']} at {_when(m['ts'])}: {m['reason'] or 'sane'}")
    lines.append(f"positions {len(report['positions'])}")
    for p in report["positions"]:
        pnl = (
            "P&L unknown (no price yet)"
            if p["price"] is None
            else f"at {p['price']:g}, P&L {p['unrealized_pnl_usd']:+.2f} USD ({p['unrealized_pnl_pct']:+.2f} %)"
        )
        lines.append(f"  {p['symbol']} {p['direction']} {p['quantity']:g} @ {p['entry_price']:g} {pnl}")
    if report["heartbeats"]:
        lines.append(
            "heartbeats (at the last cycle) "
            + ", ".join(f"{b['name']} {_ago(b['age_s'])} ago" for b in report["heartbeats"])
        )
    for e in report["schedule"]:
        due = f"in {_ago(e['in_s'])}" if e["in_s"] >= 0 else f"{_ago(e['in_s'])} overdue"
        lines.append(f"  job {e['job_id']}: next {_when(e['next_ts'])} ({due}), last {_when(e['last_ts'])}")
    for t in report["tasks"]:
        error = f" [{t['error']}]" if t["error"] else ""
        lines.append(f"  task {t['task']}: {t['status']} at {_when(t['started_ts'])}: {t['summary']}{error}")
    return "\n".join(lines)
