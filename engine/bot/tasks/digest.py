"""Task ``digest`` (seed: nightly "Digest generation" and "Unified nightly digest", one task):
a Markdown page a person reads over coffee, ``digest/<YYYY-MM-DD>.md`` in the logs folder
(the day of the run, UTC).

It covers the last ``window`` (a day): the closed trades (count, win rate, net P&L, fees, by
symbol), the trading-state changes with their reasons, the reloads and their outcomes, the
failed task runs, the positions still open and the equity. It reads the records the bot keeps:
a state change is a mapping with ``ts``, ``state``, ``reason`` and ``source``; a reload one
with ``ts``, ``old_version``, ``new_version`` (empty when refused), ``errors`` and ``duration_s``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from engine.bot.tasks.base import OutFile, TaskContext, TaskOutcome
from engine.bot.tasks.common import task_schema
from engine.common.times import readable_utc
from engine.language.durations import format_duration
from engine.language.schemagen.dsl import Schema, duration

if TYPE_CHECKING:
    from engine.language.kinds.base import BuildContext, Doc
    from engine.language.kinds.schedules import Job

NAME = "digest"
SUMMARY = "Writes `digest/<day>.md`: trades, state changes, reloads, task failures, positions and equity."
READS = (
    "trades_since",
    "state_changes",
    "reloads",
    "recent_runs",
    "open_positions",
    "equity_usd",
    "trading_state",
)
EFFECTS = ("OutFile digest/<YYYY-MM-DD>.md",)


@dataclass(frozen=True, slots=True, kw_only=True)
class Params:
    window_s: float = 86400.0


def schema() -> Schema:
    return task_schema(SUMMARY, {"window": duration("The stretch the digest covers.", default="24h", positive=True)})


def compile_params(raw: Mapping[str, Any], jobs: Sequence[Job]) -> Params:
    return Params(window_s=raw.get("window", 86400.0))


def check(params: Params, doc: Doc, path: tuple[Any, ...], ctx: BuildContext, jobs: Sequence[Job]) -> None:
    """None."""


def _when(record: Mapping[str, Any]) -> str:
    ts = record.get("ts")
    return readable_utc(ts) if isinstance(ts, int | float) else "?"


def trade_lines(trades: Sequence[Any]) -> list[str]:
    """The trades section: totals, then one table row per symbol."""
    if not trades:
        return ["No trade closed."]
    wins = sum(1 for t in trades if t.net_pnl > 0)
    net, fees = sum(t.net_pnl for t in trades), sum(t.fees for t in trades)
    lines = [
        f"{len(trades)} trade(s), {wins} won ({wins / len(trades):.0%}), net P&L {net:+.2f} USD, fees {fees:.2f} USD.",
        "",
        "| symbol | trades | won | net P&L (USD) | fees (USD) |",
        "|---|---:|---:|---:|---:|",
    ]
    for symbol in sorted({t.symbol for t in trades}):
        mine = [t for t in trades if t.symbol == symbol]
        won = sum(1 for t in mine if t.net_pnl > 0)
        lines.append(
            f"| {symbol} | {len(mine)} | {won} | {sum(t.net_pnl for t in mine):+.2f} | {sum(t.fees for t in mine):.2f} |"
        )
    return lines


def render(params: Params, ctx: TaskContext) -> tuple[str, dict[str, Any]]:
    """The page's text and the figures the outcome reports."""
    since = ctx.now - params.window_s
    trades = sorted(ctx.trades_since(since), key=lambda t: (t.exit_ts, t.id))
    changes = [c for c in ctx.state_changes if c.get("ts", since) >= since]
    reloads = [r for r in ctx.reloads if r.get("ts", since) >= since]
    failures = [r for r in ctx.recent_runs if r.status == "failed" and r.started_ts >= since]
    day = datetime.fromtimestamp(ctx.now, UTC).strftime("%Y-%m-%d")
    state, reason = ctx.trading_state
    lines = [
        f"# Digest {day}",
        "",
        f"From {readable_utc(since)} to {readable_utc(ctx.now)} ({format_duration(params.window_s)}). "
        f"Equity {ctx.equity_usd:.2f} USD; trading {state}" + (f" ({reason})." if reason else "."),
        "",
        "## Trades",
        "",
        *trade_lines(trades),
        "",
        "## Trading state",
        "",
    ]
    lines += [
        f"- {_when(c)}: {c.get('state', '?')} — {c.get('reason', '')} ({c.get('source', '?')})" for c in changes
    ] or ["No change."]
    lines += ["", "## Reloads", ""]
    for r in reloads:
        if r.get("new_version"):
            outcome = f"{r.get('old_version', '?')} → {r['new_version']}"
        else:
            outcome = f"refused, {len(r.get('errors') or ())} error(s); {r.get('old_version', '?')} kept"
        lines.append(f"- {_when(r)}: {outcome} in {float(r.get('duration_s', 0.0)):.3f} s")
    if not reloads:
        lines.append("No reload.")
    lines += ["", "## Task failures", ""]
    lines += [
        f"- {readable_utc(r.started_ts)}: {r.task} ({r.job_id}) after {r.duration_s:.3f} s: {r.error or r.summary}"
        for r in failures
    ] or ["None."]
    lines += ["", "## Open positions", ""]
    lines += [
        f"- {p.symbol} {p.direction} {p.quantity:g} at {p.entry_price:g} since {readable_utc(p.opened_at)}"
        for p in sorted(ctx.open_positions, key=lambda p: (p.symbol, p.id))
    ] or ["None."]
    figures = {
        "day": day,
        "trades": len(trades),
        "net_pnl": round(sum(t.net_pnl for t in trades), 10),
        "state_changes": len(changes),
        "reloads": len(reloads),
        "task_failures": len(failures),
        "open_positions": len(ctx.open_positions),
        "equity_usd": ctx.equity_usd,
    }
    return "\n".join(lines) + "\n", figures


def run(params: Params, ctx: TaskContext) -> TaskOutcome:
    text, figures = render(params, ctx)
    path = f"digest/{figures['day']}.md"
    return TaskOutcome(
        "ok",
        f"{path}: {figures['trades']} trade(s), net {figures['net_pnl']:+.2f} USD, "
        f"{figures['task_failures']} task failure(s)",
        details=figures | {"path": path},
        files=(OutFile(path, text),),
    )
