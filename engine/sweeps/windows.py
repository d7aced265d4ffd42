"""The time windows a sweep replays each variant over, and how their results merge.

Without walk-forward a variant is one replay of the whole span. With ``walk_forward: {steps:
K}`` the span is cut into K + 1 equal windows and every variant is replayed over each window
on its own: starting flat with the starting balance, reading ``warmup`` of snapshots before
the window to warm its features (nothing is traded there), exactly as the promotion gate
replays its held-out window. Each (variant, window) is a task of its own, so the work splits
by variant and by time; a window's result depends only on its own inputs, so the merge is the
same whatever ran where or in which order (tests/sweeps compare a split run with one that
replays every window in one process).

Step j (1 … K) fits on window j − 1 and scores on window j: a variant's in-sample figures are
the means over the fit windows, its out-of-sample figures the means over the score windows,
and its out-of-sample equity curve the score windows' curves chained (each starts where the
one before ended). :func:`selections` is the walk-forward proper: at each step the variant
best in the fit window, and what it did in the window after.

A long single replay is never cut mid-way: a position, the equity and the features' state
cross any cut, and handing them over makes the pieces sequential again (the runner is the one
place state changes).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from engine.sweeps.spec import Spec

_EDGE = 1e-3  # a window ends this much before the next begins: a snapshot at the edge is the next one's


@dataclass(frozen=True, slots=True)
class Window:
    index: int | None  # None: the whole span (no walk-forward)
    start: float | None  # first traded time (None: the files' first snapshot)
    end: float | None  # last traded time (None: the files' last snapshot)
    warm_from: float | None  # first snapshot read (None: from the files' beginning)

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "start": self.start, "end": self.end, "warm_from": self.warm_from}


def windows(spec: Spec, start: float | None, end: float | None) -> tuple[Window, ...]:
    """The replays of one variant. ``start``/``end``: the sweep's span (the ``--from``/``--to``
    window, else the snapshots' first and last times), needed with walk-forward only."""
    walk = spec.walk_forward
    if walk is None:
        return (Window(None, start, end, None),)
    if start is None or end is None or not end > start:
        raise ValueError("walk-forward needs a span with a start before its end")
    count = walk.steps + 1
    edges = [start + (end - start) * k / count for k in range(count + 1)]
    return tuple(
        Window(k, edges[k], edges[k + 1] - (_EDGE if k + 1 < count else 0.0), edges[k] - walk.warmup_s)
        for k in range(count)
    )


def merged(lines: Iterable[Mapping[str, Any]], spec: Spec, count: int) -> list[dict[str, Any]]:
    """One row per variant whose ``count`` windows all have a result line (the others are not
    finished): its status, values, version, fingerprint, metrics (in sample), ``oos_metrics``
    (walk-forward) and equity curve."""
    by_variant: dict[str, dict[Any, Mapping[str, Any]]] = {}
    for line in lines:
        by_variant.setdefault(line["variant"], {})[line.get("window")] = line
    rows = []
    for variant, parts in sorted(by_variant.items()):
        if len(parts) == count:
            rows.append(_row(variant, [parts[k] for k in sorted(parts, key=_order)], spec))
    return rows


def _order(key: Any) -> int:
    return -1 if key is None else int(key)


def _row(variant: str, parts: Sequence[Mapping[str, Any]], spec: Spec) -> dict[str, Any]:
    first = parts[0]
    row: dict[str, Any] = {"variant": variant, "values": first.get("values", {})}
    failed = [e for p in parts if p.get("status") == "failed" for e in p.get("errors", ())]
    if failed or any(p.get("status") not in ("ok", "invalid") for p in parts):
        return {**row, "status": "failed", "errors": failed or ["a window gave no result"]}
    if any(p["status"] == "invalid" for p in parts):
        return {**row, "status": "invalid", "errors": list(first.get("errors", ()))}
    row.update(status="ok", version=first.get("version"))
    if spec.walk_forward is None:
        return {**row, "fingerprint": first.get("fingerprint"), "metrics": first.get("metrics", {}),
                "equity": first.get("equity", [])}  # fmt: skip
    joined = "|".join(str(p.get("fingerprint")) for p in parts)
    row["fingerprint"] = hashlib.sha256(joined.encode()).hexdigest()[:16]
    row["metrics"] = _means(p.get("metrics", {}) for p in parts[:-1])
    row["oos_metrics"] = _means(p.get("metrics", {}) for p in parts[1:])
    row["window_metrics"] = [p.get("metrics", {}).get(spec.metric) for p in parts]
    row["equity"] = chained([p.get("equity", []) for p in parts[1:]])
    return row


def _means(metrics: Iterable[Mapping[str, Any]]) -> dict[str, float]:
    """Each metric's mean over the windows (a metric some window lacks is left out)."""
    table = list(metrics)
    names = set.intersection(*(set(m) for m in table)) if table else set()
    out = {}
    for name in sorted(names):
        values = [m[name] for m in table]
        if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            out[name] = math.fsum(values) / len(values)
    return out


def chained(curves: Sequence[Sequence[Sequence[float]]]) -> list[list[float]]:
    """Equity curves of consecutive windows as one: each is scaled to start where the one
    before ended (every window starts with the same balance; returns compound)."""
    out: list[list[float]] = []
    for curve in curves:
        if not curve:
            continue
        if not out or not curve[0][1]:
            out.extend([float(ts), float(equity)] for ts, equity in curve)
            continue
        level, first = out[-1][1], float(curve[0][1])
        out.extend([float(ts), level * (float(equity) / first)] for ts, equity in curve)
    return out


@dataclass(frozen=True, slots=True)
class Selection:
    step: int  # 1 … K
    variant: str  # best in the fit window (ties: the lower id)
    fit: float  # its metric in the fit window
    score: float | None  # its metric in the score window


def selections(rows: Sequence[Mapping[str, Any]], spec: Spec) -> list[Selection]:
    """At each walk-forward step, the variant best in the fit window and its out-of-sample result."""
    if spec.walk_forward is None:
        return []
    sign = 1.0 if spec.goal == "max" else -1.0
    out = []
    for step in range(1, spec.walk_forward.steps + 1):
        usable = [r for r in rows if r.get("status") == "ok" and _finite(r["window_metrics"][step - 1])]
        if not usable:
            continue
        best = min(usable, key=lambda r: (-sign * r["window_metrics"][step - 1], r["variant"]))
        score = best["window_metrics"][step]
        out.append(
            Selection(step, best["variant"], best["window_metrics"][step - 1], score if _finite(score) else None)
        )
    return out


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
