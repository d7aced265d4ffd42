"""The exit ladder as columns: the cycles where it surely leaves an open position alone,
for the dry-run fast path (engine/dryrun.py).

At a cycle where :func:`engine.exits.evaluate_exits` fires no tier, picks a timing action
that keeps the hold multiplier, and the P&L makes no new peak, the runner's exit check
changes nothing. :func:`quiet` finds those cycles for many at once: the exit vocabulary
is built as columns exactly as ``exit_env`` builds it, the timing action is chosen as
``choose_action`` does, and each tier kind module answers ``fires(tier, xc)`` — a superset
of the rows where its ``evaluate`` fires. A row any of this cannot settle (an input
missing where an expression reads it, a fault) is not quiet: the runner is stepped there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.gates.columns import ColumnEnv, evaluate


@dataclass(frozen=True)
class ExitColumns:
    """What a tier's column form reads: one entry per row (a cycle) for one position."""

    position: Any
    pnl_pct: np.ndarray
    hold_s: np.ndarray
    env: ColumnEnv
    action: np.ndarray            # object: this cycle's timing action (HOLD without a timing tier)

    def column(self, name: str) -> np.ndarray:
        """A float column of the exit vocabulary, NaN where the scalar env lacks the key."""
        value = self.env.get(name)
        return np.full(len(self.pnl_pct), np.nan) if value is None else value


def pnl_columns(plan, position, price: np.ndarray) -> np.ndarray:
    """``engine.exits.pnl_pct`` per row (the same float operations)."""
    move = position.sign * (price - position.entry_price) / position.entry_price * 100.0
    return move * position.leverage if plan.exits.pnl_basis == "margin" else move


def exit_env_columns(plan, position, market: dict, pnl: np.ndarray, hold_s: np.ndarray) -> ColumnEnv:
    """``engine.exits.exit_env`` as columns over the rows (``market``: name → column)."""
    n = len(pnl)
    columns: dict[str, Any] = dict(market)
    columns.update(pnl_pct=pnl, peak_pnl_pct=np.maximum(position.peak_pnl_pct, pnl), hold_s=hold_s,
                   min_hold_s=np.full(n, plan.exits.min_hold_s), leverage=np.full(n, position.leverage),
                   optimal_hold_s=np.full(n, plan.exits.optimal_hold_s(position.symbol, position.direction)
                                          * position.hold_multiplier))
    alignment = market.get("mtf_long" if position.direction == "LONG" else "mtf_short", np.full(n, np.nan))
    columns["alignment"] = alignment
    absent = np.full(n, np.nan)
    columns["alignment_at_entry"] = absent if position.alignment_at_entry is None else \
        np.where(np.isnan(alignment), np.nan, position.alignment_at_entry)
    columns["alignment_delta"] = absent if position.alignment_at_entry is None else \
        alignment - position.alignment_at_entry
    spread = market.get("ema_spread_pct", absent)
    trend = np.where(np.isnan(spread), np.nan, np.sign(spread))
    sign = position.sign
    columns["ema_trend"] = trend
    columns["momentum_continuing"] = np.where(np.isnan(trend), np.nan, trend == sign)
    columns["momentum_reversed"] = np.where(np.isnan(trend), np.nan,
                                            (trend == -sign) & (position.trend_at_entry != -sign))
    return ColumnEnv({name: (lambda value=value: np.asarray(value)) for name, value in columns.items()})


def timing_columns(tier, env: ColumnEnv, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(action, unknown) per row, as ``timing_intelligence.choose_action`` picks it."""
    action = np.full(n, tier.params["default_action"], dtype=object)
    chosen, unknown = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    for index, entry in enumerate(tier.params["actions"]):
        live = ~chosen & ~unknown
        holds, unsure = evaluate(tier.expressions[f"{index}:{entry['action']}"], env, live)
        hit = live & ~unsure & holds
        action[hit] = entry["action"]
        chosen |= hit
        unknown |= unsure
    return action, unknown


def quiet(plan, position, market: dict, price: np.ndarray, now: np.ndarray) -> np.ndarray:
    """bool per row: the exit check surely leaves ``position`` as it is (no tier fires, the
    hold multiplier stays, no new P&L peak). ``market``/``price``/``now`` are the rows' columns."""
    from engine.exits import TIERS

    n = len(now)
    pnl = pnl_columns(plan, position, price)
    hold_s = now - position.opened_at
    env = exit_env_columns(plan, position, market, pnl, hold_s)
    timing = plan.exits.of_kind("timing_intelligence")
    action, unknown = np.full(n, "HOLD", dtype=object), np.zeros(n, dtype=bool)
    multiplier = np.full(n, position.hold_multiplier)
    if timing:
        action, unknown = timing_columns(timing[0], env, n)
        multipliers = timing[0].params["hold_multipliers"]
        multiplier = np.array([multipliers.get(a, 1.0) for a in action.tolist()], dtype=float)
    xc = ExitColumns(position, pnl, hold_s, env, action)
    protected = (now < position.grace_until) | (hold_s < plan.exits.min_hold_s)
    exempt = plan.risk.grace_windows.exempt_tiers
    fires = np.zeros(n, dtype=bool)
    for tier in plan.exits.tiers:
        tier_fires = TIERS[tier.kind].fires(tier, xc)
        fires |= tier_fires if tier.id in exempt else tier_fires & ~protected
    with np.errstate(invalid="ignore"):
        return ~unknown & ~fires & (multiplier == position.hold_multiplier) & (pnl <= position.peak_pnl_pct)
