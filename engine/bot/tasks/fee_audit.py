"""Task ``fee_audit`` (seed: scheduler "Fee audit", every 10 minutes): the fees the broker
charged against the declared fee schedule.

Each fill since the last audit (or within ``lookback`` on the first run) should have paid its
notional (quantity × price) times the execution venue's maker or taker rate of
``venues.yaml`` (a liquidation is charged as a taker fill, as the paper broker does). A fill
whose fee deviates by more than ``tolerance_pct`` of the expected fee is named in a warning:
a changed fee tier or a wrong schedule eats the edge the fee gate counted on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.bot.tasks.base import TaskContext, TaskOutcome
from engine.bot.tasks.common import last_run_ts, task_schema
from engine.language.schemagen.dsl import Schema, duration, num

if TYPE_CHECKING:
    from engine.language.kinds.base import BuildContext, Doc
    from engine.language.kinds.schedules import Job

NAME = "fee_audit"
SUMMARY = "Fees paid on the fills since the last audit against the venue's declared maker/taker rates."
READS = ("fills_since", "recent_runs (the last audit)", "plan.venues (the execution venue's fee rates)")
EFFECTS = ("warning naming each fill whose fee deviates",)
#: A fee this close to zero is zero (an expected fee of 0 with a maker rate of 0).
EPSILON = 1e-12
#: A deviation exactly at the tolerance is tolerated; this much relative slack keeps the float
#: rounding of a fee (0.55 against 0.5 is 10.000000000000009 %) on the tolerated side.
ROUNDING = 1e-9


@dataclass(frozen=True, slots=True, kw_only=True)
class Params:
    tolerance_pct: float = 10.0
    lookback_s: float = 600.0


def schema() -> Schema:
    return task_schema(
        SUMMARY,
        {
            "tolerance_pct": num(
                "A fill's fee may differ from the schedule's by this much of the expected fee.",
                "%",
                minimum=0,
                default=10,
            ),
            "lookback": duration("On the first audit, the fills of this last stretch are audited.", default="10m"),
        },
    )


def compile_params(raw: Mapping[str, Any], jobs: Sequence[Job]) -> Params:
    return Params(tolerance_pct=raw.get("tolerance_pct", 10.0), lookback_s=raw.get("lookback", 600.0))


def check(params: Params, doc: Doc, path: tuple[Any, ...], ctx: BuildContext, jobs: Sequence[Job]) -> None:
    """None: the schema bounds both values."""


def expected_fee(fill: Any, maker_pct: float, taker_pct: float) -> float:
    """What the schedule charges ``fill``: its notional times the maker rate for a maker fill,
    the taker rate otherwise (taker and liquidation), as the paper broker charges."""
    rate = maker_pct if fill.liquidity == "maker" else taker_pct
    return float(fill.quantity * fill.price * rate / 100)


def deviation_pct(paid: float, expected: float) -> float:
    """How far ``paid`` is from ``expected``, in % of the expected fee (inf when only one is 0)."""
    if abs(expected) < EPSILON:
        return 0.0 if abs(paid) < EPSILON else float("inf")
    return abs(paid - expected) / abs(expected) * 100


def run(params: Params, ctx: TaskContext) -> TaskOutcome:
    venue = ctx.plan.venues.exchange(ctx.plan.venues.execution_venue)
    last = last_run_ts(ctx, NAME)
    since = last if last is not None else ctx.now - params.lookback_s
    fills = list(ctx.fills_since(since))
    paid = sum(f.fee for f in fills)
    expected = sum(expected_fee(f, venue.maker_fee_pct, venue.taker_fee_pct) for f in fills)
    off = []
    for fill in fills:
        want = expected_fee(fill, venue.maker_fee_pct, venue.taker_fee_pct)
        deviation = deviation_pct(fill.fee, want)
        if deviation > params.tolerance_pct * (1 + ROUNDING):
            off.append(
                {
                    "fill_id": fill.fill_id,
                    "symbol": fill.symbol,
                    "liquidity": fill.liquidity,
                    "paid": fill.fee,
                    "expected": round(want, 10),
                    "deviation_pct": None if deviation == float("inf") else round(deviation, 3),
                }
            )
    details = {
        "venue": venue.id,
        "since": since,
        "fills": len(fills),
        "paid": round(paid, 10),
        "expected": round(expected, 10),
        "deviating": off,
    }
    if not off:
        return TaskOutcome(
            "ok", f"{len(fills)} fill(s): fees {paid:.4f} as the schedule says ({expected:.4f})", details=details
        )
    named = ", ".join(f"{o['fill_id']} ({o['symbol']} {o['liquidity']})" for o in off)
    return TaskOutcome(
        "warning",
        f"{len(off)} of {len(fills)} fill(s) paid fees off the {venue.id} schedule by more than "
        f"{params.tolerance_pct:g} %: {named}",
        details=details,
    )
