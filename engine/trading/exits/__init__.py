"""The exit ladder: every tier of exits.yaml evaluated for one open position per cycle.

Order of work (docs/exits.md):
1. the exit vocabulary is built (P&L on the declared basis, hold time, alignment, momentum);
2. the timing tier (if any) picks this cycle's action first — the ladder reads it;
3. every tier is asked; a tier outside ``grace_windows.exempt_tiers`` stays silent while the
   position is inside its grace window or younger than ``min_hold``;
4. among the full exits that fired, the first in ``priority`` wins; partial ladder closes
   apply only when no full exit fired.
Pure: the position, the market values and the clock are passed in.

The tier kinds: one module per kind (engine/trading/exits/<kind>.py, shape in ``base``; copy
``_template.py`` for a new one), listed by hand in :data:`TIERS`. Everything else looks a kind
up at call time through this package (``exits.TIERS[kind]``, :func:`capability`), never by a
copied name, so a test can swap the registry. Each kind may have a column (fast-path) form in
engine/replay/columns/exit_forms.py: while a position is open the dry-run fast path walks the
ladder over the cycles ahead as columns (engine/replay/holding.py), or asks
:func:`evaluate_exits` cycle by cycle when a kind has none.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from engine.language.registry import registry
from engine.trading.exits import (
    expression,
    ladder,
    mtf_alignment,
    profit_target,
    roi,
    signal_reversal,
    stop_loss,
    time_exit,
    timing_intelligence,
    trailing_stop,
)
from engine.trading.exits.base import ExitContext, ExitSignal, Tier

REQUIRED = (
    "SUMMARY",
    "REASONS",
    "Params",
    "schema",
    "compile_params",
    "check",
    "expressions",
    "evaluate",
    "explain",
)
# in this order in schemas/exits.schema.json
TIERS = registry(
    "exit tiers",
    (
        stop_loss,
        timing_intelligence,
        mtf_alignment,
        signal_reversal,
        profit_target,
        time_exit,
        ladder,
        roi,
        trailing_stop,
        expression,
    ),
    REQUIRED,
)


def capability(kind: str, name: str) -> Any:
    """What the kind's module declares as ``name`` (base lists the optional ones), or None."""
    return getattr(TIERS[kind], name, None)


def protective(kind: str) -> bool:
    """A stop tier (it declares ``STOP_LOSS_FIELD``): it closes positions even while trading is
    HALTED, so a halted bot never leaves a position without its stop."""
    return capability(kind, "STOP_LOSS_FIELD") is not None


def explain(signal: ExitSignal) -> str:
    """The line a person reads about one tier's answer."""
    text: str = TIERS[signal.kind].explain(signal)
    return text


def action_chooser(tiers: tuple[Tier[Any], ...]) -> Tier[Any] | None:
    """The first tier whose kind picks the cycle's timing action (``CHOOSES_ACTION``)."""
    return next((tier for tier in tiers if capability(tier.kind, "CHOOSES_ACTION")), None)


@dataclass(frozen=True, slots=True)
class ExitEvaluation:
    pnl_pct: float
    timing_action: str
    hold_multiplier: float  # for the next cycle
    fired: tuple[ExitSignal, ...]  # every tier that fired, in priority order
    chosen: ExitSignal | None  # the full exit to execute, or None
    partial: ExitSignal | None  # ladder rungs to take (only when no full exit)
    protected: bool  # inside grace window or minimum hold

    def as_dict(self) -> dict[str, Any]:
        return {
            "pnl_pct": self.pnl_pct,
            "timing_action": self.timing_action,
            "hold_multiplier": self.hold_multiplier,
            "protected": self.protected,
            "fired": [s.as_dict() for s in self.fired],
            "chosen": self.chosen.as_dict() if self.chosen else None,
            "partial": self.partial.as_dict() if self.partial else None,
        }


def pnl_pct(plan: Any, position: Any, price: Any) -> Any:
    """The P&L at ``price`` on the plan's basis — a float, or a numpy column of them for a
    column of prices (engine/replay/columns/exit_forms.py): the same operations either way."""
    # (price − entry) / entry: exact at round moves, so a threshold compares as declared
    move = position.sign * (price - position.entry_price) / position.entry_price * 100.0
    return move * position.leverage if plan.exits.pnl_basis == "margin" else move


def _trend(market: Mapping[str, Any]) -> int | None:
    spread = market.get("ema_spread_pct")
    if spread is None:
        return None
    return 1 if spread > 0 else -1 if spread < 0 else 0


def exit_env(plan: Any, position: Any, market: Mapping[str, Any], price: float, now: float) -> dict[str, Any]:
    """The exit vocabulary for one position (absent values stay absent)."""
    pnl = pnl_pct(plan, position, price)
    env = dict(market)
    env.update(
        pnl_pct=pnl,
        peak_pnl_pct=max(position.peak_pnl_pct, pnl),
        hold_s=now - position.opened_at,
        min_hold_s=plan.exits.min_hold_s,
        leverage=position.leverage,
        optimal_hold_s=plan.exits.optimal_hold_s(position.symbol, position.direction) * position.hold_multiplier,
    )
    alignment = market.get("mtf_long" if position.direction == "LONG" else "mtf_short")
    if alignment is not None:
        env["alignment"] = alignment
        if position.alignment_at_entry is not None:
            env["alignment_at_entry"] = position.alignment_at_entry
            env["alignment_delta"] = alignment - position.alignment_at_entry
    trend = _trend(market)
    if trend is not None:
        env["ema_trend"] = trend
        env["momentum_continuing"] = trend == position.sign
        # reversed: it points against the position now and did not when the position opened
        # (a position opened against the trend is not "reversed" by that same trend)
        env["momentum_reversed"] = trend == -position.sign and position.trend_at_entry != -position.sign
    return env


def evaluate_exits(plan: Any, position: Any, market: Mapping[str, Any], price: float, now: float) -> ExitEvaluation:
    env = exit_env(plan, position, market, price, now)
    chooser = action_chooser(plan.exits.tiers)
    action, multiplier = "HOLD", position.hold_multiplier
    if chooser is not None:
        module = TIERS[chooser.kind]
        action, _ = module.choose_action(chooser, env)
        multiplier = module.hold_multiplier(chooser, action)
    ctx = ExitContext(position, now, price, env["pnl_pct"], env["hold_s"], MappingProxyType(env), action)
    exempt = plan.risk.grace_windows.exempt_tiers
    protected = now < position.grace_until or ctx.hold_s < plan.exits.min_hold_s
    # one pass over the tiers instead of a plan.exits.tier() scan per priority entry;
    # reversed, so a (never valid) duplicate id resolves to the first tier, as tier() does
    by_id = {tier.id: tier for tier in reversed(plan.exits.tiers)}
    fired = []
    for tier_id in plan.exits.priority:
        tier = by_id.get(tier_id)
        if tier is None or (protected and tier.id not in exempt):
            continue
        signal = TIERS[tier.kind].evaluate(tier, ctx)
        if signal is not None:
            fired.append(signal)
    chosen = next((s for s in fired if s.full), None)
    partial = None if chosen else next((s for s in fired if not s.full), None)
    return ExitEvaluation(ctx.pnl_pct, action, multiplier, tuple(fired), chosen, partial, protected)


__all__ = [
    "REQUIRED",
    "TIERS",
    "ExitEvaluation",
    "action_chooser",
    "capability",
    "evaluate_exits",
    "exit_env",
    "explain",
    "pnl_pct",
    "protective",
]
