"""Rule kind ``exits``: the exit tiers of open positions and their priority."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.language.diagnostics import Severity
from engine.language.durations import format_duration
from engine.language.kinds.base import BuildContext, Doc, check_unique_ids, index_of

KIND = "exits"
CODES = {
    "RB340": "priority names a tier that does not exist",
    "RB341": "a tier is missing from the priority list",
    "RB342": "an exit target or rule can never fire: another one always fires first",
    "RB343": "ladder rungs close more than the whole position",
    "RB344": "signal reversal: fast EMA is not faster than the slow EMA",
    "RB346": "no stop_loss tier (a live profile must have one)",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Tier:
    id: str
    kind: str
    params: Mapping[str, Any]
    expressions: Mapping[str, Any]  # timing actions: action name → CompiledExpression


@dataclass(frozen=True, slots=True, kw_only=True)
class Spec:
    pnl_basis: str
    min_hold_s: float
    optimal_hold_default_s: float
    optimal_hold_by_position: Mapping[str, float]  # "SYMBOL:DIRECTION" → seconds
    priority: tuple[str, ...]
    tiers: tuple[Tier, ...]

    def optimal_hold_s(self, symbol: str, direction: str) -> float:
        return self.optimal_hold_by_position.get(f"{symbol}:{direction}", self.optimal_hold_default_s)

    def tier(self, tier_id: str) -> Tier | None:
        return next((t for t in self.tiers if t.id == tier_id), None)

    def of_kind(self, kind: str) -> tuple[Tier, ...]:
        return tuple(t for t in self.tiers if t.kind == kind)


def build(doc: Doc, ctx: BuildContext) -> Spec:
    f = doc.frozen
    tiers = []
    for index, raw in enumerate(f["tiers"]):
        expressions = {}
        for j, action in enumerate(raw.get("actions", ())):
            expressions[f"{j}:{action['action']}"] = ctx.expression(doc, ("tiers", index, "actions", j, "when"), "exit")
        params = {k: v for k, v in raw.items() if k not in ("id", "kind")}
        tiers.append(Tier(id=raw["id"], kind=raw["kind"], params=params, expressions=expressions))
    return Spec(
        pnl_basis=f["pnl_basis"],
        min_hold_s=f["min_hold"],
        optimal_hold_default_s=f["optimal_hold"]["default"],
        optimal_hold_by_position=f["optimal_hold"]["by_position"],
        priority=tuple(f["priority"]),
        tiers=tuple(tiers),
    )


def check(spec: Spec, doc: Doc, ctx: BuildContext) -> None:
    check_unique_ids(doc, ("tiers",), ctx, "exit tier")
    _check_priority(spec, doc, ctx)
    for tier in spec.tiers:
        path = ("tiers", index_of(doc, ("tiers",), tier.id))
        if tier.kind == "profit_target":
            _check_shadowed(tier.params["targets"], "pnl_pct", +1, doc, path + ("targets",), ctx)
        elif tier.kind == "time_exit":
            _check_shadowed(tier.params["rules"], "below_pnl_pct", -1, doc, path + ("rules",), ctx)
            _check_under_stop(spec, tier, doc, path, ctx)
        elif tier.kind == "ladder":
            _check_ladder(spec, tier, doc, path, ctx)
        elif tier.kind == "signal_reversal" and tier.params["fast_ema"] >= tier.params["slow_ema"]:
            ctx.report(doc, path + ("fast_ema",), "RB344", "fast_ema must be smaller than slow_ema")
    if not spec.of_kind("stop_loss"):
        severity = Severity.ERROR if ctx.profile == "live" else Severity.WARNING
        ctx.report(
            doc,
            ("tiers",),
            "RB346",
            "no stop_loss tier: nothing limits a losing position",
            key=True,
            severity=severity,
            suggestion="add a tier of kind stop_loss",
        )


def _check_priority(spec: Spec, doc: Doc, ctx: BuildContext) -> None:
    ids = [t.id for t in spec.tiers]
    for j, name in enumerate(spec.priority):
        if name not in ids:
            close = difflib.get_close_matches(name, ids, n=1)
            ctx.report(
                doc,
                ("priority", j),
                "RB340",
                f"priority names '{name}', which is not a tier",
                suggestion=f"did you mean '{close[0]}'?" if close else "",
            )
    for tier_id in ids:
        if tier_id not in spec.priority:
            ctx.report(
                doc,
                ("priority",),
                "RB341",
                f"tier '{tier_id}' is missing from the priority list",
                key=True,
                suggestion=f"add '{tier_id}' to priority",
            )


def _check_shadowed(entries, field: str, sign: int, doc: Doc, path: tuple, ctx: BuildContext) -> None:
    """An entry fires at (age ≥ after, pnl beyond field); another with an earlier-or-equal age
    and an easier-or-equal P&L condition always fires first (sign +1: pnl above, -1: below)."""
    for j, entry in enumerate(entries):
        for i, other in enumerate(entries):
            if i == j or (i > j and other == entry):
                continue
            if other["after"] <= entry["after"] and sign * other[field] <= sign * entry[field]:
                ctx.report(
                    doc,
                    path + (j,),
                    "RB342",
                    f"entry {j + 1} can never fire: entry {i + 1} (after {format_duration(other['after'])}, "
                    f"{field} {other[field]:g}) always fires first",
                    severity=Severity.ERROR,
                    suggestion="remove it, or give it an earlier time or an easier P&L condition",
                )
                break


def _stop_loss_pct(spec: Spec) -> float | None:
    stops = [t.params["loss_pct"] for t in spec.of_kind("stop_loss")]
    return min(stops) if stops else None


def _ranked_before(spec: Spec, first: str, second: str) -> bool:
    order = list(spec.priority)
    return first in order and second in order and order.index(first) < order.index(second)


def _check_under_stop(spec: Spec, tier: Tier, doc: Doc, path: tuple, ctx: BuildContext) -> None:
    stop = _stop_loss_pct(spec)
    stop_tier = next(iter(spec.of_kind("stop_loss")), None)
    if stop is None or not _ranked_before(spec, stop_tier.id, tier.id):
        return
    for j, rule in enumerate(tier.params["rules"]):
        if rule["below_pnl_pct"] <= -stop:
            ctx.report(
                doc,
                path + ("rules", j),
                "RB342",
                f"rule {j + 1} can never fire: the stop loss closes at -{stop:g} % first",
                suggestion=f"use a below_pnl_pct above -{stop:g}",
            )


def _check_ladder(spec: Spec, tier: Tier, doc: Doc, path: tuple, ctx: BuildContext) -> None:
    rungs = tier.params["rungs"]
    total = sum(r["fraction"] for r in rungs)
    if total > 1 + 1e-9:
        ctx.report(doc, path + ("rungs",), "RB343", f"rungs close {total:g} of the position; at most 1", key=True)
    for target_tier in spec.of_kind("profit_target"):
        if not _ranked_before(spec, target_tier.id, tier.id):
            continue
        for j, rung in enumerate(rungs):
            for target in target_tier.params["targets"]:
                if target["after"] <= rung["after"] and target["pnl_pct"] <= rung["pnl_pct"]:
                    ctx.report(
                        doc,
                        path + ("rungs", j),
                        "RB342",
                        f"rung {j + 1} can never fire: profit target {target_tier.id} "
                        f"(+{target['pnl_pct']:g} %) closes the whole position first",
                    )
                    break
