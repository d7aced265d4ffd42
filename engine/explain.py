"""`rulebot explain`: replay snapshots up to a time and show one signal record as a table."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Iterable

from engine.signals.engine import SignalEngine
from engine.signals.record import SignalRecord


def parse_time(text: str) -> float:
    """Epoch seconds from epoch seconds or ISO 8601 (UTC when no zone is given)."""
    try:
        return float(text)
    except ValueError:
        pass
    moment = datetime.fromisoformat(text.strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def replay(plan, snapshots: Iterable, until: float | None) -> tuple[SignalEngine, float | None]:
    """Feed snapshots with ts ≤ ``until`` into a fresh engine; returns it and the last ts fed."""
    engine = SignalEngine(plan)
    last = None
    for snapshot in snapshots:
        if until is not None and snapshot.ts > until:
            break
        engine.update(snapshot)
        last = snapshot.ts
    return engine, last


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def render_text(record: SignalRecord) -> str:
    rows = [("component", "weight", "direction", "conf", "contrib", "reasons", "inputs")]
    for c in record.components:
        inputs = " ".join(f"{k}={_fmt(v)}" for k, v in c.inputs.items())
        rows.append((c.id, f"{c.weight:.2f}", c.direction, f"{c.confidence:.2f}", f"{c.contribution:+.3f}",
                     ",".join(c.reasons), inputs))
    widths = [max(len(r[i]) for r in rows) for i in range(6)]
    lines = [f"{record.symbol} at {iso(record.ts)}  (rule set {record.version}, profile {record.profile})", ""]
    for row in rows:
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:6])) + "  " + row[6])
    lines += ["", f"votes: LONG {record.long_votes}, SHORT {record.short_votes} → {record.direction}; "
                  f"aligned {record.aligned_count}, confidence {record.confidence:.3f}, "
                  f"conviction {record.conviction} (size {record.size_multiplier:g}x)"]
    return "\n".join(lines)


def render_json(records: list[SignalRecord]) -> str:
    return json.dumps([r.as_dict() for r in records], indent=2, ensure_ascii=False)
