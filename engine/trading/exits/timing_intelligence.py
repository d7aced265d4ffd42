"""Timing intelligence (seed "Position Timing Intelligence"): the first action whose
condition holds (FORCE_EXIT, TAKE_PROFIT, EXIT_NOW, EXIT_SOONER, HOLD_EXTENDED, else the
default HOLD). Closing actions close the position; every action sets the hold multiplier
the next cycle's optimal hold time is stretched by (HOLD_EXTENDED 1.5x: hold 50 % longer).

This kind picks the cycle's timing action before any tier is asked (``CHOOSES_ACTION``): the
ladder reads it, and it sets the next cycle's hold multiplier. A closing action whose condition
holds once the position is old enough (``… or hold_s > optimal_hold_s * 2``) is a forced exit:
``hold_limit`` tells the checks by when it closes every position.

Failure policy: a condition whose input is missing does not hold (the action cannot be
judged, e.g. while the multi-timeframe alignment warms up); a condition that faults
numerically counts as holding when its action closes the position (exits fail safe).
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.common.errors import RuleNumericError, RuleRuntimeError
from engine.language.expr.bounds import bounds, names_in, parse
from engine.language.schemagen.dsl import TIMING_ACTIONS, Schema, arr, element, expression, mapping, num, obj, text
from engine.trading.exits.base import ALWAYS_IN_ENV, ExitContext, ExitSignal, HoldLimit, HoldTimes, Tier, fire

if TYPE_CHECKING:
    from engine.language.kinds.base import BuildContext, Doc

KIND = "timing_intelligence"
SUMMARY = "Hold / extend / exit actions from alignment, momentum, P&L and hold time."
REASONS = ("TIMING_FORCE_EXIT", "TIMING_TAKE_PROFIT", "TIMING_EXIT_NOW", "TIMING_EXIT_SOONER")
CHOOSES_ACTION = True  # evaluate_exits asks choose_action / hold_multiplier before any tier


@dataclass(frozen=True, slots=True, kw_only=True)
class Action:
    action: str  # one of TIMING_ACTIONS
    when: str  # the condition's source; compiled into Tier.expressions under expression_name


@dataclass(frozen=True, slots=True, kw_only=True)
class Params:
    actions: tuple[Action, ...]  # checked top-down; the first whose condition holds wins
    default_action: str  # when none holds
    hold_multipliers: Mapping[str, float]  # action → multiplier of the optimal hold time
    closing_actions: tuple[str, ...]  # actions that close the position now


def schema() -> Schema:
    return element(
        KIND,
        SUMMARY,
        {
            "actions": arr(
                "Actions checked top-down; the first whose condition holds wins.",
                obj(
                    "An action.",
                    {
                        "action": text("Action.", enum=TIMING_ACTIONS),
                        "when": expression("Condition over the exit vocabulary."),
                    },
                ),
                min_items=1,
            ),
            "default_action": text("Action when none holds.", enum=TIMING_ACTIONS),
            "hold_multipliers": mapping(
                "Multiplier of the optimal hold time per action.",
                num("Multiplier.", "x", minimum=0, maximum=10),
                keys=TIMING_ACTIONS,
            ),
            "closing_actions": arr(
                "Actions that close the position now.", text("Action.", enum=TIMING_ACTIONS), unique=True
            ),
        },
    )


def compile_params(raw: Mapping[str, Any]) -> Params:
    return Params(
        actions=tuple(Action(action=a["action"], when=a["when"]) for a in raw["actions"]),
        default_action=raw["default_action"],
        hold_multipliers=raw["hold_multipliers"],
        closing_actions=tuple(raw["closing_actions"]),
    )


def check(params: Params, doc: Doc, path: tuple[Any, ...], ctx: BuildContext) -> None:
    """Nothing beyond the schema and the expressions' own checks."""


def closing_actions(params: Params) -> tuple[str, ...]:
    """The actions on which this tier closes the whole position."""
    return params.closing_actions


def hold_limit(params: Params, hold: HoldTimes) -> HoldLimit | None:
    """The earliest age by which a closing action always fires: its condition is ``… or
    hold_s > X`` (or ``>=``, or ``X < hold_s``) with X bounded from the hold times, the
    parts before that one read only inputs that are always there (a missing one stops the
    condition), and every action checked before it closes too (an earlier non-closing
    action that holds would win). None when no action is sure to."""
    multipliers = [1.0, *params.hold_multipliers.values()]  # a position's multiplier is one of these
    shortest, longest = hold.optimal_hold_s
    ranges = {
        "optimal_hold_s": (shortest * min(multipliers), longest * max(multipliers)),
        "min_hold_s": (hold.min_hold_s, hold.min_hold_s),
    }
    best: HoldLimit | None = None
    for index, entry in enumerate(params.actions):
        if entry.action not in params.closing_actions:
            break
        found = _forced_at(parse(entry.when), ranges)
        if found is not None and (best is None or found[0] < best.age_s):
            best = HoldLimit(
                age_s=found[0],
                inclusive=found[1],
                where=("actions", index, "when"),
                what=f"{entry.action} when {found[2]}",
            )
    return best


def _forced_at(condition: ast.expr, ranges: Mapping[str, tuple[float, float]]) -> tuple[float, bool, str] | None:
    """(latest age, inclusive, the part's text) of a ``hold_s`` threshold the condition holds beyond."""
    parts = condition.values if isinstance(condition, ast.BoolOp) and isinstance(condition.op, ast.Or) else [condition]
    for part in parts:
        if isinstance(part, ast.Compare) and len(part.ops) == 1:
            left, op, right = part.left, part.ops[0], part.comparators[0]
            if _is_hold(right) and isinstance(op, (ast.Lt, ast.LtE)):
                left, right, op = right, left, ast.Gt() if isinstance(op, ast.Lt) else ast.GtE()
            if _is_hold(left) and isinstance(op, (ast.Gt, ast.GtE)):
                threshold = bounds(right, ranges)
                if threshold is not None and threshold[1] - threshold[1] == 0:
                    return threshold[1], isinstance(op, ast.GtE), ast.unparse(part)
        if not names_in(part) <= ALWAYS_IN_ENV:
            return None  # an input it reads may be missing: the parts after it may never be judged
    return None


def _is_hold(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id == "hold_s"


def expression_name(index: int, action: Action) -> str:
    return f"{index}:{action.action}"


def expressions(params: Params) -> dict[str, tuple[Any, ...]]:
    """Each action's condition, compiled against the exit vocabulary."""
    return {expression_name(j, a): ("actions", j, "when") for j, a in enumerate(params.actions)}


def choose_action(tier: Tier[Params], env: Mapping[str, Any]) -> tuple[str, str]:
    """(action, note): the first action whose condition holds under the failure policy."""
    closing = tier.params.closing_actions
    for index, entry in enumerate(tier.params.actions):
        condition = tier.expressions[expression_name(index, entry)]
        try:
            if condition(env):
                return entry.action, ""
        except RuleNumericError as error:
            if entry.action in closing:
                return entry.action, f"fault: {error}"[:120]
        except RuleRuntimeError:
            continue
    return tier.params.default_action, ""


def hold_multiplier(tier: Tier[Params], action: str) -> float:
    return tier.params.hold_multipliers.get(action, 1.0)


def evaluate(tier: Tier[Params], ctx: ExitContext) -> ExitSignal | None:
    if ctx.timing_action in tier.params.closing_actions:
        return fire(tier, f"TIMING_{ctx.timing_action}", pnl_pct=ctx.pnl_pct, hold_s=ctx.hold_s)
    return None


def explain(signal: ExitSignal) -> str:
    action = signal.reason.removeprefix("TIMING_")
    detail = signal.detail
    return f"{signal.tier}: timing action {action} closes the position (P&L {detail['pnl_pct']:+.4g} %)"
