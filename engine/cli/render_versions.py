"""How `rulebot versions` and `rulebot diff` look: the history table, a diff as text, and a
diff as JSON (the text's content under stable keys; times as the files and the store hold
them)."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from engine.common.times import iso_utc
from engine.versions.diff import Change, Side, VersionDiff
from engine.versions.model import VersionRecord

WIDTH = 60  # a value longer than this is cut in the text form


def _table(rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]


def history_text(history: Iterable[VersionRecord]) -> str:
    rows = [("seq", "time", "version", "parent", "author", "promotion", "message")]
    for e in history:
        rows.append(
            (
                str(e.seq),
                iso_utc(e.created_at),
                e.version_id,
                e.parent or "-",
                e.author,
                e.promotion or "-",
                e.message,
            )
        )
    if len(rows) == 1:
        return "no versions recorded yet"
    return "\n".join(_table(rows))


def value_text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, separators=(",", ":"))
    return text if len(text) <= WIDTH else text[: WIDTH - 1] + "…"


def _pct(pct: float | None) -> str:
    return "" if pct is None else f" ({pct:+.2f}%)"


def _change_lines(change: Change) -> list[str]:
    if change.kind == "added":
        what = f"added: {value_text(change.new)}"
    elif change.kind == "removed":
        what = f"removed (was {value_text(change.old)})"
    else:
        what = f"{value_text(change.old)} → {value_text(change.new)}{_pct(change.change_pct)}"
    lines = [f"  {change.path}: {what}  [{change.author}]"]
    if change.reason:
        lines.append(f"      reason: {change.reason}")
    if change.window is not None:
        lines.append(f"      data: {change.window[0]} → {change.window[1]}")
    return lines


def _side(name: str, side: Side) -> str:
    about = f"{name}: {side.version}"
    if side.label != side.version:
        about += f" ({side.label})"
    if side.record is not None:
        about += f", {side.record.author} at {iso_utc(side.record.created_at)}"
        if side.record.message:
            about += f": {side.record.message}"
    return about


def diff_text(diff: VersionDiff) -> str:
    lines = [
        f"diff {diff.a.version} → {diff.b.version} (profile {diff.profile})",
        "  " + _side("A", diff.a),
        "  " + _side("B", diff.b),
        "",
    ]
    if diff.a.version == diff.b.version:
        lines.append("the same version: nothing changed")
    elif not diff.changes:
        lines.append(f"no parameter of profile {diff.profile} changed")
    else:
        lines.append(f"{len(diff.changes)} parameter change(s):")
        for change in diff.changes:
            lines.extend(_change_lines(change))
    for label, overlays in (("added", diff.overlays_added), ("removed", diff.overlays_removed)):
        for o in overlays:
            lines.append(
                f"learned overlay {label}: #{o['index'] + 1} {o['learner']} (created {o['created']}, "
                f"on {o['base_version']}, {o['values']} value(s)): {o['message']}"
            )
    if diff.behaviour is not None:
        lines += ["", *behaviour_lines(diff.behaviour)]
    return "\n".join(lines)


def _number(value: float) -> str:
    if isinstance(value, int) or (isinstance(value, float) and math.isfinite(value) and value.is_integer()):
        return str(int(value))
    return f"{value:.4f}".rstrip("0").rstrip(".")


def behaviour_lines(b: Mapping[str, Any]) -> list[str]:
    lines = [
        f"replay: {b['cycles'][0]} cycles; A {b['fingerprints'][0]}, B {b['fingerprints'][1]}",
        f"decisions that flip: {b['decisions_flipped']}",
    ]
    for f in b["flips"][:20]:
        lines.append(f"  {iso_utc(f['ts'])} {f['symbol']}: {f['a']} → {f['b']} ({f['change']})")
    if b["decisions_flipped"] > 20:
        lines.append(f"  … {b['decisions_flipped'] - 20} more (--format json lists up to {len(b['flips'])})")
    for label, trades in (("trades added", b["trades_added"]), ("trades removed", b["trades_removed"])):
        lines.append(f"{label}: {len(trades)}")
        for t in trades[:20]:
            lines.append(
                f"  {t['symbol']} {t['direction']} {iso_utc(t['entry_ts'])} → {iso_utc(t['exit_ts'])} "
                f"{t['exit_reason']} net {_number(t['net_pnl'])} USD"
            )
    lines.append(f"exits changed: {len(b['exits_changed'])}")
    for pair in b["exits_changed"][:20]:
        a, n = pair["a"], pair["b"]
        lines.append(
            f"  {a['symbol']} {a['direction']} {iso_utc(a['entry_ts'])}: {a['exit_reason']} at {iso_utc(a['exit_ts'])}"
            f" → {n['exit_reason']} at {iso_utc(n['exit_ts'])}"
        )
    lines.append("metrics (A → B, delta):")
    for key, m in b["metrics"].items():
        lines.append(
            f"  {key}: {_number(m['a'])} → {_number(m['b'])} ({'+' if m['delta'] >= 0 else ''}{_number(m['delta'])})"
        )
    return lines


def _side_json(side: Side) -> dict[str, Any]:
    return {
        "label": side.label,
        "version": side.version,
        "author": side.author,
        "entry": None if side.record is None else side.record.as_dict(),
    }


def diff_json(diff: VersionDiff) -> dict[str, Any]:
    return {
        "a": _side_json(diff.a),
        "b": _side_json(diff.b),
        "profile": diff.profile,
        "changes": [c.as_dict() for c in diff.changes],
        "learned_overlays": {"added": list(diff.overlays_added), "removed": list(diff.overlays_removed)},
        "replay": None if diff.behaviour is None else dict(diff.behaviour),
    }
