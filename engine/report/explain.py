"""`rulebot explain`: replay snapshots up to a time and show one signal record as a table.

Two replays give the same pipeline state at the instant explained: :func:`replay` feeds the
snapshots one by one through the incremental features (any file), :func:`replay_recording`
computes them as columns over a dense recording (the dry-run fast path's ColumnSignals) and
puts the cursor on the instant, much faster. tests/report/test_explain_paths.py proves the
decisions identical.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.common.times import iso_utc
from engine.market.sanity import MarketScreen
from engine.trading import gates
from engine.trading.pipeline import EntryPipeline
from engine.trading.signals import components
from engine.trading.signals.record import SignalRecord


@dataclass(frozen=True)
class Replayed:
    """A pipeline brought to the instant explained."""

    pipeline: EntryPipeline
    last: float | None  # the time of the last snapshot replayed (None: none was at or before the instant)
    present: tuple[str, ...]  # the rule set's symbols the replayed snapshots hold, in the rule set's order
    refused: Mapping[str, tuple] = field(default_factory=dict)  # symbol → the last snapshot's refusals
    data_alarm: str = ""  # why the sanity layer froze entries (REDUCING) at the instant, or ""


def replay(plan, snapshots: Iterable, until: float | None) -> Replayed:
    """Feed snapshots with ts ≤ ``until`` into a fresh pipeline, one by one, through the
    market-data sanity layer as a run does (engine/market/sanity.py)."""
    engine, screen = EntryPipeline(plan), MarketScreen.for_plan(plan)
    last, seen, screened = None, set(), None
    for snapshot in snapshots:
        if until is not None and snapshot.ts > until:
            break
        screened = screen.screen(snapshot)
        engine.update(screened.snapshot)
        seen.update(snapshot.symbols)
        last = snapshot.ts
    present = tuple(s for s in plan.ruleset.names() if s in seen)
    refused = {s: screened.refused(s) for s in present} if screened is not None else {}
    return Replayed(engine, last, present, refused, screen.alarm)


def replay_recording(plan, recording, until: float | None) -> Replayed:
    """The same state from the recording's columns, the cursor on the last cycle at or before
    ``until``. NotReplayable (engine.replay.recording) when the plan needs the scalar path or
    the sanity layer could refuse a value of the recording (the scalar replay screens it)."""
    from engine.replay.columns.correlation import correlation_cursor
    from engine.replay.columns.sanity import check_sane
    from engine.replay.columns.signals import ColumnSignals

    check_sane(recording, plan.requirements.market_data)  # the whole file, as the scalar replay's reader
    i = len(recording) - 1 if until is None else int(np.searchsorted(recording.ts, until, side="right")) - 1
    # the cycles after the instant change nothing before it (every column is causal): not computed
    recording = recording.head(i + 1) if i >= 0 else recording
    signals = ColumnSignals(plan, recording)
    engine = EntryPipeline(plan, signals=signals, correlation=correlation_cursor(plan, signals, recording))
    if i < 0:
        return Replayed(engine, None, ())
    signals.seek(i)
    present = tuple(s for s in plan.ruleset.names() if s in recording.symbols)  # dense: in every snapshot
    return Replayed(engine, float(recording.ts[i]), present)


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
    verdict = "TRADE" if decision.outcome == "TRADE" else f"NO_TRADE, first blocker {_blocker(decision)}"
    lines.append(f"decision: {verdict}")
    if decision.intent is not None:
        i = decision.intent
        lines.append(
            f"order: {i.side} {i.contracts:g} {i.venue_symbol} {i.order_type} at ~{i.price:g}, "
            f"leverage {i.leverage:g}x, stop {_fmt(i.stop_price)}, grace {i.grace_window_s:g}s, "
            f"client id {i.client_order_id}"
        )
    return "\n".join(lines)


def _blocker(decision) -> str:
    """The first blocker, with its check's detail when the check that blocked has one (what
    data was missing or refused)."""
    for check in decision.checks:
        if check.passed is False:
            if check.reason == decision.first_blocker and check.detail:
                return f"{check.reason}: {check.detail}"
            break
    return str(decision.first_blocker)


def render_json(decisions) -> str:
    return json.dumps([d.as_dict() for d in decisions], indent=2, ensure_ascii=False)
