"""`rulebot explain`: replay snapshots up to a time and show one signal record as a table."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from engine.market.snapshot import implausible_time, plausible_time
from engine.trading.pipeline import EntryPipeline
from engine.trading.signals.record import SignalRecord


def parse_time(text: str) -> float:
    """Epoch seconds from epoch seconds or ISO 8601 (UTC when no zone is given); ValueError
    for anything else, ``nan`` and ``inf`` included (no window can start at them), and for a
    time outside the range of market data (engine.market.snapshot.TIME_RANGE): no snapshot can be
    there, and milliseconds taken for seconds would put the window in the year 57000."""
    seconds = _seconds(text)
    if not plausible_time(seconds):
        why, hint = implausible_time(seconds)
        raise ValueError(f"{why}{'; ' + hint if hint else ''}")
    return seconds


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        pass
    else:
        if not math.isfinite(value):
            raise ValueError(f"{text!r} is not a finite number of seconds")
        return value
    moment = datetime.fromisoformat(text.strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def replay(plan, snapshots: Iterable, until: float | None) -> tuple[EntryPipeline, float | None]:
    """Feed snapshots with ts ≤ ``until`` into a fresh pipeline; returns it and the last ts fed."""
    engine = EntryPipeline(plan)
    last = None
    for snapshot in snapshots:
        if until is not None and snapshot.ts > until:
            break
        engine.update(snapshot)
        last = snapshot.ts
    return engine, last


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def render_text(record: SignalRecord) -> str:
    rows = [("component", "weight", "direction", "conf", "contrib", "reasons", "inputs")]
    for c in record.components:
        inputs = " ".join(f"{k}={_fmt(v)}" for k, v in c.inputs.items())
        rows.append(
            (
                c.id,
                f"{c.weight:.2f}",
                c.direction,
                f"{c.confidence:.2f}",
                f"{c.contribution:+.3f}",
                ",".join(c.reasons),
                inputs,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(6)]
    lines = [f"{record.symbol} at {iso(record.ts)}  (rule set {record.version}, profile {record.profile})", ""]
    for row in rows:
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:6])) + "  " + row[6])
    lines += [
        "",
        f"votes: LONG {record.long_votes}, SHORT {record.short_votes} → {record.direction}; "
        f"aligned {record.aligned_count}, confidence {record.confidence:.3f}, "
        f"conviction {record.conviction} (size {record.size_multiplier:g}x)",
    ]
    return "\n".join(lines)


def render_decision(decision) -> str:
    """The gate chain: each multiplier, the first blocker, the final size."""
    lines = ["", "gate chain:"]
    if decision.chain is None:
        lines.append("  (not run: the signal is NEUTRAL)")
    else:
        for result in decision.chain.trail:
            mark = "BLOCK" if result.blocked else f"x{result.multiplier:.2f}"
            detail = " ".join(f"{k}={_fmt(v)}" for k, v in result.inputs.items())
            lines.append(f"  {result.id:<14} {mark:<6} {result.reason:<28} {detail}")
        lines.append(f"  product of multipliers: {decision.chain.multiplier:.3f}")
    failed = [c for c in decision.checks if c.passed is False]
    lines.append("requirements: " + ("all hold" if not failed else ", ".join(f"{c.id} → {c.reason}" for c in failed)))
    sizing = decision.sizing
    if sizing is not None:
        lines.append(
            f"size: {sizing.contracts:g} contracts of {sizing.venue_symbol or '?'} "
            f"(notional {sizing.notional_usd:,.2f} USD, leverage {sizing.leverage:g}x, "
            f"multiplier {sizing.multiplier:.3f}) {'' if sizing.ok else '→ ' + sizing.reason}"
        )
    verdict = "TRADE" if decision.outcome == "TRADE" else f"NO_TRADE, first blocker {decision.first_blocker}"
    lines.append(f"decision: {verdict}")
    if decision.intent is not None:
        i = decision.intent
        lines.append(
            f"order: {i.side} {i.contracts:g} {i.venue_symbol} {i.order_type} at ~{i.price:g}, "
            f"leverage {i.leverage:g}x, stop {_fmt(i.stop_price)}, grace {i.grace_window_s:g}s, "
            f"client id {i.client_order_id}"
        )
    return "\n".join(lines)


def render_json(decisions) -> str:
    return json.dumps([d.as_dict() for d in decisions], indent=2, ensure_ascii=False)
