"""What a sweep's variants gave, ranked: the rows `rulebot sweep` writes and prints.

A row per variant (its values, its status — ``ok``, ``invalid`` with the findings that made
it so, or ``failed`` with why — and for a replayed one its rule-set version, fingerprint and
metrics). Ranking is by the spec's metric, best first, ties broken by the variant id, so the
same results always rank the same way, whatever order the executor finished them in.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from engine.sweeps.spec import Spec


def ranked(rows: Iterable[Mapping[str, Any]], spec: Spec) -> list[dict[str, Any]]:
    """The replayed rows best first (rank 1, 2, … by the in-sample metric; with walk-forward
    also ``oos_rank`` by the out-of-sample one), then the others by variant id (no rank)."""
    replayed = [dict(r) for r in rows if r.get("status") == "ok"]
    if spec.walk_forward is not None:
        for position, row in enumerate(sorted(replayed, key=_key(spec, "oos_metrics")), 1):
            row["oos_rank"] = position
    replayed.sort(key=_key(spec, "metrics"))
    for position, row in enumerate(replayed, 1):
        row["rank"] = position
    others = sorted((dict(r) for r in rows if r.get("status") != "ok"), key=lambda r: r["variant"])
    return replayed + others


def _key(spec: Spec, field: str) -> Callable[[Mapping[str, Any]], tuple]:
    """Best first by ``row[field][spec.metric]``; a missing or non-finite value last; ties by id."""
    sign = -1.0 if spec.goal == "max" else 1.0

    def key(row: Mapping[str, Any]) -> tuple:
        value = (row.get(field) or {}).get(spec.metric)
        if isinstance(value, int | float) and math.isfinite(value):
            return (0, sign * float(value), row["variant"])
        return (1, 0.0, row["variant"])

    return key


def table(rows: Iterable[Mapping[str, Any]], spec: Spec) -> list[dict[str, Any]]:
    """One flat record per ranked row: rank (and out-of-sample rank), variant, status, each
    parameter, the metric (and its out-of-sample mean), the other metrics, fingerprint,
    version and the problems of a row that did not replay."""
    out = []
    walk = spec.walk_forward is not None
    for row in rows:
        values = row.get("values", {})
        metrics = row.get("metrics", {})
        record: dict[str, Any] = {"rank": row.get("rank")}
        if walk:
            record["oos_rank"] = row.get("oos_rank")
        record.update(variant=row["variant"], status=row["status"])
        record.update({p.path: values.get(p.path) for p in spec.parameters})
        record[spec.metric] = metrics.get(spec.metric)
        if walk:
            record[f"oos_{spec.metric}"] = (row.get("oos_metrics") or {}).get(spec.metric)
        record.update({k: v for k, v in sorted(metrics.items()) if k != spec.metric})
        record["fingerprint"] = row.get("fingerprint")
        record["version"] = row.get("version")
        record["problems"] = "; ".join(row.get("errors", ())) or None
        out.append(record)
    return out
