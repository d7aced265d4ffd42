"""`rulebot explain`: replay snapshots up to a time and show one signal record as a table."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from engine.common.times import iso_utc
from engine.trading import gates
from engine.trading.pipeline import EntryPipeline
from engine.trading.signals import components
from engine.trading.signals.record import SignalRecord


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
    rows = [("component", "weight", "direction", "conf", "contrib", "reasons", "why [inputs]")]
    for c in record.components:
        values = " ".join(f"{k}={_fmt(v)}" for k, v in c.inputs.items())
        inputs = components.explain(c.kind, c.answer) + (f"  [{values}]" if values else "")
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
    lines = [f"{record.symbol} at {iso_utc(record.ts)}  (rule set {record.version}, profile {record.profile})", ""]
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
            detail = gates.explain(result)
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
