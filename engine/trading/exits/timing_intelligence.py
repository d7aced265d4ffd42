"""Timing intelligence (seed "Position Timing Intelligence"): the first action whose
condition holds (FORCE_EXIT, TAKE_PROFIT, EXIT_NOW, EXIT_SOONER, HOLD_EXTENDED, else the
default HOLD). Closing actions close the position; every action sets the hold multiplier
the next cycle's optimal hold time is stretched by (HOLD_EXTENDED 1.5x: hold 50 % longer).

Failure policy: a condition whose input is missing does not hold (the action cannot be
judged, e.g. while the multi-timeframe alignment warms up); a condition that faults
numerically counts as holding when its action closes the position (exits fail safe).
"""

from __future__ import annotations

from engine.language.diagnostics import RuleNumericError, RuleRuntimeError
from engine.trading.exits.base import fire

KIND = "timing_intelligence"
REASONS = ("TIMING_FORCE_EXIT", "TIMING_TAKE_PROFIT", "TIMING_EXIT_NOW", "TIMING_EXIT_SOONER")


def choose_action(tier, env) -> tuple[str, str]:
    """(action, note): the first action whose condition holds under the failure policy."""
    closing = tier.params["closing_actions"]
    for index, entry in enumerate(tier.params["actions"]):
        expression = tier.expressions[f"{index}:{entry['action']}"]
        try:
            if expression(env):
                return entry["action"], ""
        except RuleNumericError as error:
            if entry["action"] in closing:
                return entry["action"], f"fault: {error}"[:120]
        except RuleRuntimeError:
            continue
    return tier.params["default_action"], ""


def hold_multiplier(tier, action: str) -> float:
    return tier.params["hold_multipliers"].get(action, 1.0)


def evaluate(tier, ctx):
    if ctx.timing_action in tier.params["closing_actions"]:
        return fire(tier, f"TIMING_{ctx.timing_action}", pnl_pct=ctx.pnl_pct, hold_s=ctx.hold_s)
    return None
