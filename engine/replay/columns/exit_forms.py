"""The exit ladder over many cycles of one open position: the column twin of
engine.trading.exits ``evaluate_exits``, for the dry-run fast path's holding windows
(engine/replay/holding.py).

For a position that stands (no fill, no ladder rung taken) the exit vocabulary is a column
per name over the cycles ahead: the market's columns, the P&L from the price, the age, and
the running peak P&L. Only the timing action is carried from cycle to cycle (it sets the
hold multiplier that stretches the next cycle's optimal hold), so the action chooser's own
``choose_action`` is asked row by row on each row's env — a few closures per row, exact by
construction — and every tier kind's column form (:data:`FORMS`, ``kind → form(tier, cols)
-> fires``) then answers for all the rows at once what its scalar ``evaluate`` answers row
by row. A tier kind without a column form, or a condition (the action chooser's or a tier's,
such as an ``expression`` tier's ``when``) reading a name that has no column, leaves the ladder
to the scalar path (``Ladder.complete``). A form has no "unknown" answer: a row it cannot settle
as a vector (an input absent there, a numeric fault) it settles with the kind's scalar code.
tests/dryrun/test_exit_columns.py proves the walk equal to ``evaluate_exits`` row by row; the
dry-run equality tests prove the whole run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

from engine.replay.columns.gates import ColumnEnv, evaluate_rows
from engine.trading.exits import (
    TIERS,
    action_chooser,
    expression,
    ladder,
    mtf_alignment,
    pnl_pct,
    profit_target,
    roi,
    signal_reversal,
    stop_loss,
    time_exit,
    timing_intelligence,
    trailing_stop,
)
from engine.trading.exits.base import Tier

#: The exit vocabulary's booleans, 0/1 in the columns (NaN where absent).
BOOL_NAMES = frozenset({"momentum_continuing", "momentum_reversed"})
#: The names exit_env adds to the market's (engine.trading.exits ``exit_env``).
EXIT_NAMES = frozenset(
    {
        "pnl_pct",
        "peak_pnl_pct",
        "hold_s",
        "min_hold_s",
        "leverage",
        "optimal_hold_s",
        "alignment",
        "alignment_at_entry",
        "alignment_delta",
        "ema_trend",
        *BOOL_NAMES,
    }
)


@dataclass(frozen=True)
class ExitColumns:
    """The column twin of engine.trading.exits.base.ExitContext: one entry per row (a cycle
    where the position has a price)."""

    position: Any
    now: np.ndarray
    pnl_pct: np.ndarray
    hold_s: np.ndarray
    env: ColumnEnv  # the exit vocabulary; NaN where the scalar env lacks the name
    action: np.ndarray  # object: the timing action per row (HOLD without a timing tier)

    def column(self, name: str) -> np.ndarray:
        """A name every exit env may lack, NaN where it does."""
        found = self.env.get(name)
        return np.full(len(self.now), np.nan) if found is None else found


ExitForm = Callable[[Tier[Any], ExitColumns], np.ndarray]


def stop(tier: Tier[stop_loss.Params], cols: ExitColumns) -> np.ndarray:
    return cols.pnl_pct <= -tier.params.loss_pct


def timing(tier: Tier[timing_intelligence.Params], cols: ExitColumns) -> np.ndarray:
    return among(cols.action, tier.params.closing_actions)


def alignment(tier: Tier[mtf_alignment.Params], cols: ExitColumns) -> np.ndarray:
    """An absent alignment (NaN) compares False, as the scalar ``is not None`` test skips it."""
    p = tier.params
    with np.errstate(invalid="ignore"):
        fires = (cols.column("alignment") < p.min_alignment) | (cols.column("alignment_delta") < p.min_delta)
    if p.exit_on_momentum_reversal:
        fires |= cols.column("momentum_reversed") == 1.0
    return fires


def reversal(tier: Tier[signal_reversal.Params], cols: ExitColumns) -> np.ndarray:
    against = -cols.position.sign
    if cols.position.trend_at_entry == against:
        return np.zeros(len(cols.now), dtype=bool)
    return cols.column("ema_trend") == against


def profit(tier: Tier[profit_target.Params], cols: ExitColumns) -> np.ndarray:
    fires = np.zeros(len(cols.now), dtype=bool)
    for target in tier.params.targets:
        fires |= (cols.hold_s >= target.after) & (cols.pnl_pct > target.pnl_pct)
    return fires


def time_limit(tier: Tier[time_exit.Params], cols: ExitColumns) -> np.ndarray:
    fires = np.zeros(len(cols.now), dtype=bool)
    for rule in tier.params.rules:
        fires |= (cols.hold_s >= rule.after) & (cols.pnl_pct < rule.below_pnl_pct)
    return fires


def rungs(tier: Tier[ladder.Params], cols: ExitColumns) -> np.ndarray:
    p = tier.params
    accelerated = among(cols.action, p.accelerate_on)
    fires = np.zeros(len(cols.now), dtype=bool)
    for i, rung in enumerate(p.rungs):
        if i not in cols.position.ladder_done:
            fires |= (cols.pnl_pct > rung.pnl_pct) & (accelerated | (cols.hold_s >= rung.after))
    return fires & ~among(cols.action, p.suppress_on)


def minimal_roi(tier: Tier[roi.Params], cols: ExitColumns) -> np.ndarray:
    """Per row, the entry in force at the row's age (``Params.active_index``, as evaluate asks)."""
    p = tier.params
    index = p.active_index(cols.hold_s)
    targets = np.array([t.pnl_pct for t in p.tiers])[np.maximum(index, 0)]
    return (index >= 0) & (cols.pnl_pct > targets)


def trailing(tier: Tier[trailing_stop.Params], cols: ExitColumns) -> np.ndarray:
    """The peak column is the scalar env's: this row's P&L included (exit_env_columns)."""
    p = tier.params
    peak = cols.env.get("peak_pnl_pct")
    assert peak is not None  # exit_env_columns always sets it
    return (cols.pnl_pct <= peak - p.distance_pct) & p.active(peak)


def condition(tier: Tier[expression.Params], cols: ExitColumns) -> np.ndarray:
    """The condition as a vector on the rows where every input it reads has a value; every
    other row (an input absent there, or a numeric fault anywhere in the vector) the scalar
    way, ``expression.holds`` on the row's env, so the failure policy is the kind's own. The
    ladder is complete only when every name it reads has a column (``Ladder``)."""
    compiled = tier.expressions[expression.EXPRESSION_NAME]
    n = len(cols.now)
    fires, unknown = evaluate_rows(compiled, cols.env, np.ones(n, dtype=bool))
    fires = fires.astype(bool)
    if unknown.any():
        names = sorted(compiled.names)
        columns = {name: cols.env.get(name) for name in names}
        for r in np.flatnonzero(unknown).tolist():
            env = {}
            for name, column in columns.items():
                if column is not None and column[r] == column[r]:  # NaN: absent from the scalar env
                    value = column[r].item()
                    env[name] = bool(value) if name in BOOL_NAMES else value
            fires[r], _ = expression.holds(tier, env)
    return fires


def among(actions: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    """Per row: the timing action is one of ``names``."""
    return np.array([a in names for a in actions.tolist()], dtype=bool)


FORMS: Mapping[str, ExitForm] = MappingProxyType(
    {
        stop_loss.KIND: stop,
        timing_intelligence.KIND: timing,
        mtf_alignment.KIND: alignment,
        signal_reversal.KIND: reversal,
        profit_target.KIND: profit,
        time_exit.KIND: time_limit,
        ladder.KIND: rungs,
        roi.KIND: minimal_roi,
        trailing_stop.KIND: trailing,
        expression.KIND: condition,
    }
)


@dataclass(frozen=True)
class Walk:
    """The ladder over a position's rows ahead, as the runner's exit checks meet them one by
    one while the position stands."""

    fires: np.ndarray  # some tier (not held back by the grace window) fires at the row
    peak: np.ndarray  # the position's peak P&L after the row's exit check
    multiplier: np.ndarray  # its hold multiplier after the row's exit check


class Ladder:
    """The plan's exit ladder over the rows of one position (see the module docstring).
    ``names``: the market vocabulary's columns; ``complete`` is False when a tier kind has no
    column form, or the action chooser or a tier ranked in ``priority`` has an expression
    reading a name with no column (say a component's export): the caller then asks the scalar
    ladder row by row."""

    def __init__(self, plan: Any, names: Iterable[str]):
        self.plan = plan
        self.chooser = action_chooser(plan.exits.tiers)
        by_id = {tier.id: tier for tier in reversed(plan.exits.tiers)}  # as evaluate_exits resolves ids
        self.tiers = tuple(by_id[t] for t in plan.exits.priority if t in by_id)
        self.exempt = frozenset(plan.risk.grace_windows.exempt_tiers)
        readable = set(names) | EXIT_NAMES
        asked = (*self.tiers, self.chooser) if self.chooser else self.tiers
        read = set().union(*(e.names for t in asked for e in t.expressions.values()))
        self.complete = all(t.kind in FORMS for t in self.tiers) and read <= readable

    def walk(self, position: Any, now: np.ndarray, market: Mapping[str, np.ndarray]) -> Walk:
        """The ladder at each row (``market``: the symbol's market columns there, a price at
        every row), the position's peak P&L and hold multiplier carried from row to row."""
        plan, n = self.plan, len(now)
        env = exit_env_columns(plan, position, market, now)
        hold = env["hold_s"]
        optimal = plan.exits.optimal_hold_s(position.symbol, position.direction)
        if self.chooser is None:
            action = np.full(n, "HOLD", dtype=object)
            before = after = np.full(n, position.hold_multiplier)
        else:
            action, before, after = self._actions(self.chooser, position, env, optimal)
        env["optimal_hold_s"] = optimal * before
        cols = ExitColumns(position, now, env["pnl_pct"], hold, _column_env(env), action)
        protected = (now < position.grace_until) | (hold < plan.exits.min_hold_s)
        fires = np.zeros(n, dtype=bool)
        for tier in self.tiers:
            fired = FORMS[tier.kind](tier, cols)
            fires |= fired if tier.id in self.exempt else fired & ~protected
        return Walk(fires, env["peak_pnl_pct"], after)

    @staticmethod
    def _actions(
        chooser: Tier[Any], position: Any, env: Mapping[str, np.ndarray], optimal: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(action, multiplier before, multiplier after) per row: the chooser kind's own
        ``choose_action`` on each row's exit env (built from the columns, absent names left
        out), the multiplier it sets carried to the next row."""
        kind = TIERS[chooser.kind]
        names = list(env)
        values = [
            [bool(v) if v == v else v for v in env[k].tolist()] if k in BOOL_NAMES else env[k].tolist() for k in names
        ]
        n = len(values[0])
        action = np.empty(n, dtype=object)
        before, after = np.empty(n), np.empty(n)
        multiplier = position.hold_multiplier
        for r, row in enumerate(zip(*values)):
            cycle = {k: v for k, v in zip(names, row) if v == v}
            cycle["optimal_hold_s"] = optimal * multiplier
            action[r], _ = kind.choose_action(chooser, cycle)
            before[r] = multiplier
            after[r] = multiplier = kind.hold_multiplier(chooser, action[r])
        return action, before, after


def _column_env(env: Mapping[str, np.ndarray]) -> ColumnEnv:
    def made(value: np.ndarray) -> Callable[[], np.ndarray]:
        return lambda: value

    return ColumnEnv({name: made(value) for name, value in env.items()})


def exit_env_columns(
    plan: Any, position: Any, market: Mapping[str, np.ndarray], now: np.ndarray
) -> dict[str, np.ndarray]:
    """engine.trading.exits ``exit_env`` per row, NaN where it lacks a name (booleans as 0/1),
    but ``optimal_hold_s``: it moves with the hold multiplier (Ladder.walk)."""
    pnl = pnl_pct(plan, position, market["price"])
    n = len(now)
    env = dict(market)
    env.update(
        pnl_pct=pnl,
        peak_pnl_pct=np.fmax.accumulate(np.concatenate(([position.peak_pnl_pct], pnl)))[1:],
        hold_s=now - position.opened_at,
        min_hold_s=np.full(n, plan.exits.min_hold_s),
        leverage=np.full(n, float(position.leverage)),
    )
    alignment = market["mtf_long" if position.direction == "LONG" else "mtf_short"]
    env["alignment"] = alignment
    at_entry = position.alignment_at_entry
    # as exit_env: the entry's alignment only beside a current one
    env["alignment_at_entry"] = np.where(np.isnan(alignment), np.nan, np.nan if at_entry is None else at_entry)
    env["alignment_delta"] = alignment - env["alignment_at_entry"]
    spread = market["ema_spread_pct"]
    trend = np.sign(spread)  # NaN stays NaN: no trend
    env["ema_trend"] = trend
    absent = np.isnan(trend)
    env["momentum_continuing"] = np.where(absent, np.nan, trend == position.sign)
    reversed_ = (trend == -position.sign) & (position.trend_at_entry != -position.sign)
    env["momentum_reversed"] = np.where(absent, np.nan, reversed_)
    return env
