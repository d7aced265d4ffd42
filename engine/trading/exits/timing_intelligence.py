"""Timing intelligence (seed "Position Timing Intelligence"): the first action whose
condition holds (FORCE_EXIT, TAKE_PROFIT, EXIT_NOW, EXIT_SOONER, HOLD_EXTENDED, else the
default HOLD). Closing actions close the position; every action sets the hold multiplier
the next cycle's optimal hold time is stretched by (HOLD_EXTENDED 1.5x: hold 50 % longer).

This kind picks the cycle's timing action before any tier is asked (``CHOOSES_ACTION``): the
ladder reads it, and it sets the next cycle's hold multiplier.

Failure policy: a condition whose input is missing does not hold (the action cannot be
judged, e.g. while the multi-timeframe alignment warms up); a condition that faults
numerically counts as holding when its action closes the position (exits fail safe).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.common.errors import RuleNumericError, RuleRuntimeError
from engine.language.schemagen.dsl import TIMING_ACTIONS, Schema, arr, element, expression, mapping, num, obj, text
from engine.trading.exits.base import ExitContext, ExitSignal, Tier, fire

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
