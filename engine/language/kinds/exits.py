"""Rule kind ``exits``: the exit tiers of open positions and their priority.

Each tier's parameters, schema and own checks belong to its kind module in
engine/trading/exits/ (looked up at call time in ``engine.trading.exits.TIERS``). What stays
here needs the whole file: unique ids, the priority list, entries another tier always
pre-empts (from the kinds' declared ``triggers``), the age by which every position is closed
(``hold_limit`` and the full exits' ``triggers``) and the rungs it leaves no time for, and the
missing stop (``STOP_LOSS_FIELD``).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.language.diagnostics import Severity
from engine.language.durations import format_duration
from engine.language.kinds.base import BuildContext, Doc, check_unique_ids, index_of
from engine.language.schemagen.dsl import (
    Schema,
    arr,
    document,
    duration,
    identifier,
    kinds,
    learnable,
    mapping,
    obj,
    text,
)
from engine.trading import exits as tier_kinds
from engine.trading.exits.base import HoldLimit, HoldTimes, Tier, Trigger

KIND = "exits"
CODES = {
    "RB340": "priority names a tier that does not exist",
    "RB341": "a tier is missing from the priority list",
    "RB342": "an exit target or rule can never fire: another one always fires first",
    "RB343": "ladder rungs close more than the whole position",
    "RB344": "signal reversal: fast EMA is not faster than the slow EMA",
    "RB346": "no stop_loss tier (a live profile must have one)",
    "RB347": "a partial exit (ladder rung) waits longer than any position is held: a forced or time exit "
    "closes every position first",
    "RB348": "roi: the first entry is not in force from entry (its `after` is not 0)",
    "RB349": "roi: the entries' `after` ages are not strictly ascending",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Stop:
    """A tier that closes at a fixed loss (its kind declares ``STOP_LOSS_FIELD``)."""

    tier: Tier[Any]
    loss_pct: float  # positive: closes at P&L ≤ −loss_pct
    field: str  # the tier's field holding it (for diagnostics)


@dataclass(frozen=True, slots=True, kw_only=True)
class Spec:
    pnl_basis: str
    min_hold_s: float
    optimal_hold_default_s: float
    optimal_hold_by_position: Mapping[str, float]  # "SYMBOL:DIRECTION" → seconds
    priority: tuple[str, ...]
    tiers: tuple[Tier[Any], ...]

    def optimal_hold_s(self, symbol: str, direction: str) -> float:
        return self.optimal_hold_by_position.get(f"{symbol}:{direction}", self.optimal_hold_default_s)

    def tier(self, tier_id: str) -> Tier[Any] | None:
        return next((t for t in self.tiers if t.id == tier_id), None)

    def stops(self) -> tuple[Stop, ...]:
        """Every stop tier, in file order."""
        found = []
        for tier in self.tiers:
            field = tier_kinds.capability(tier.kind, "STOP_LOSS_FIELD")
            if field is not None:
                found.append(Stop(tier=tier, loss_pct=getattr(tier.params, field), field=field))
        return tuple(found)

    def stop_loss_pct(self) -> float | None:
        """The tightest stop (sizing bounds the loss by it), or None without a stop tier."""
        stops = self.stops()
        return min(s.loss_pct for s in stops) if stops else None

    def hold_times(self) -> HoldTimes:
        optimal = [self.optimal_hold_default_s, *self.optimal_hold_by_position.values()]
        return HoldTimes(min_hold_s=self.min_hold_s, optimal_hold_s=(min(optimal), max(optimal)))

    def hold_limit(self, excluding: tuple[str, ...] = ()) -> tuple[Tier[Any], HoldLimit] | None:
        """The earliest age by which the tiers (but those named in ``excluding``) close every
        position whatever its P&L, with the tier that does it: a tier's own forced exit
        (``hold_limit``), or the full exits' ``triggers`` together (one closing below a P&L,
        another above a lower one, both old enough). None when no age is sure to close."""
        found: list[tuple[Tier[Any], HoldLimit]] = []
        hold = self.hold_times()
        running = [t for t in self.tiers if t.id in self.priority and t.id not in excluding]
        for tier in running:
            declared = tier_kinds.capability(tier.kind, "hold_limit")
            limit = declared(tier.params, hold) if declared is not None else None
            if limit is not None:
                found.append((tier, limit))
        covered = _covering_age([(tier, t) for tier in running for t in _triggers(tier) if t.full])
        if covered is not None:
            found.append(covered)
        return min(found, key=lambda f: (f[1].age_s, not f[1].inclusive)) if found else None

    def ask(self, capability: str) -> Any:
        """The answer of ``capability(params)`` of the first tier whose kind declares it (e.g.
        ``ema_cross``: the market features it reads), or None when no tier's kind does."""
        for tier in self.tiers:
            answer = tier_kinds.capability(tier.kind, capability)
            if answer is not None:
                return answer(tier.params)
        return None


def build(doc: Doc, ctx: BuildContext) -> Spec:
    f = doc.frozen
    tiers = []
    for index, raw in enumerate(f["tiers"]):
        module = tier_kinds.TIERS[raw["kind"]]
        params = module.compile_params(raw)
        expressions = {
            name: ctx.expression(doc, ("tiers", index, *where), "exit")
            for name, where in module.expressions(params).items()
        }
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
        tier_kinds.TIERS[tier.kind].check(tier.params, doc, path, ctx)
        _check_under_stop(spec, tier, doc, path, ctx)
        _check_behind_full_exits(spec, tier, doc, path, ctx)
    _check_after_hold_limit(spec, doc, ctx)
    if not spec.stops():
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


def _triggers(tier: Tier[Any]) -> tuple[Trigger, ...]:
    declared = tier_kinds.capability(tier.kind, "triggers")
    return tuple(declared(tier.params)) if declared is not None else ()


def _ranked_before(spec: Spec, first: str, second: str) -> bool:
    order = list(spec.priority)
    return first in order and second in order and order.index(first) < order.index(second)


def _check_under_stop(spec: Spec, tier: Tier[Any], doc: Doc, path: tuple[Any, ...], ctx: BuildContext) -> None:
    """RB342: an entry that fires only below a P&L the stop (ranked first) already closes at."""
    stops = spec.stops()
    if not stops or not _ranked_before(spec, stops[0].tier.id, tier.id):
        return
    stop = min(s.loss_pct for s in stops)
    for trigger in _triggers(tier):
        if not trigger.above and trigger.pnl_pct <= -stop:
            ctx.report(
                doc,
                path + trigger.path,
                "RB342",
                f"{trigger.noun} {trigger.index + 1} can never fire: the stop loss closes at -{stop:g} % first",
                suggestion=f"use a {trigger.field} above -{stop:g}",
            )


def _check_behind_full_exits(spec: Spec, tier: Tier[Any], doc: Doc, path: tuple[Any, ...], ctx: BuildContext) -> None:
    """RB342: a partial close whose age and P&L a full exit of a tier ranked first always
    reaches as early (that exit closes the whole position before it)."""
    partial = [t for t in _triggers(tier) if t.above and not t.full]
    if not partial:
        return
    for other in spec.tiers:
        full = [t for t in _triggers(other) if t.above and t.full]
        if not full or not _ranked_before(spec, other.id, tier.id):
            continue
        for trigger in partial:
            for target in full:
                if target.after_s <= trigger.after_s and target.pnl_pct <= trigger.pnl_pct:
                    ctx.report(
                        doc,
                        path + trigger.path,
                        "RB342",
                        f"{trigger.noun} {trigger.index + 1} can never fire: {other.kind.replace('_', ' ')} "
                        f"{other.id} (+{target.pnl_pct:g} %) closes the whole position first",
                    )
                    break


def _covering_age(entries: list[tuple[Tier[Any], Trigger]]) -> tuple[Tier[Any], HoldLimit] | None:
    """The earliest age at which the full exits old enough cover every P&L: one fires below
    b, another above a < b (so any P&L is below b or above a); named by the later of the two."""
    for age in sorted({t.after_s for _, t in entries}):
        ready = [(tier, t) for tier, t in entries if t.after_s <= age]
        below = max((e for e in ready if not e[1].above), key=lambda e: e[1].pnl_pct, default=None)
        above = min((e for e in ready if e[1].above), key=lambda e: e[1].pnl_pct, default=None)
        if below is not None and above is not None and above[1].pnl_pct < below[1].pnl_pct:
            tier, last = max((below, above), key=lambda e: e[1].after_s)
            return tier, HoldLimit(
                age_s=age,
                inclusive=True,
                where=last.path,
                what=(
                    f"{below[0].id} closing below {below[1].pnl_pct:+g} % and "
                    f"{above[0].id} above {above[1].pnl_pct:+g} % from {format_duration(age)}"
                ),
            )
    return None


def _waivable(spec: Spec, trigger: Trigger) -> bool:
    """Whether a timing action that leaves the position open can waive the entry's age."""
    chooser = tier_kinds.action_chooser(spec.tiers)
    if chooser is None:
        return "HOLD" in trigger.waived_on  # without a timing tier every cycle's action is HOLD
    declared = tier_kinds.capability(chooser.kind, "closing_actions")
    closing = declared(chooser.params) if declared is not None else ()
    return any(action not in closing for action in trigger.waived_on)


def _check_after_hold_limit(spec: Spec, doc: Doc, ctx: BuildContext) -> None:
    """RB347: a partial exit whose age comes only after every position is closed (full exits
    win over partial ones in the same cycle) never fires."""
    limit = spec.hold_limit()
    if limit is None:
        return
    closer, hold = limit
    for tier in spec.tiers:
        for trigger in _triggers(tier):
            if trigger.full or not hold.closes_before(trigger.after_s) or _waivable(spec, trigger):
                continue
            path = ("tiers", index_of(doc, ("tiers",), tier.id), *trigger.path, "after")
            ctx.report(
                doc,
                path,
                "RB347",
                f"{trigger.noun} {trigger.index + 1} waits {format_duration(trigger.after_s)}, but every position "
                f"is closed by {format_duration(hold.age_s)} ({closer.id}: {hold.what}): it can never fire",
                suggestion=f"give it an `after` {'below' if hold.inclusive else 'at most'} "
                f"{format_duration(hold.age_s)}, or let positions be held longer",
            )


def schema() -> Schema:
    """The JSON Schema of an `exits` rule file (written to schemas/exits.schema.json); each
    tier variant is its kind module's ``schema()``, in registry order."""
    variants = {kind: module.schema() for kind, module in tier_kinds.TIERS.items()}
    tier, defs = kinds("One exit tier.", variants)
    return document(
        "exits",
        "exits",
        "Exit tiers for open positions (seed: Trade Monitoring & Exit Decisions).",
        {
            "pnl_basis": text(
                "`price`: pnl_pct is the price move; `margin`: the move times leverage.", enum=["price", "margin"]
            ),
            "min_hold": duration("No early exit before this age (the stop always applies)."),
            "optimal_hold": obj(
                "Optimal hold time; learned per symbol/direction.",
                {
                    "default": learnable(duration("Optimal hold of a symbol/direction with no entry below.")),
                    "by_position": mapping(
                        "Optimal hold per `SYMBOL:DIRECTION` (e.g. `BTCUSDT:LONG`); the hold-time "
                        "learner moves these within their bounds.",
                        learnable(duration("Optimal hold of this symbol and direction.")),
                        key_pattern=r"^[A-Z0-9]{2,20}:(LONG|SHORT)$",
                    )
                    | {"default": {}},
                },
            ),
            "priority": arr(
                "Tier ids, first wins when several fire in one cycle.", identifier("Tier id."), min_items=1, unique=True
            ),
            "tiers": arr("The exit tiers.", tier, min_items=1, max_items=32),
        },
        defs=defs,
    )
