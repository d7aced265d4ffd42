"""Expression exit: closes the whole position while a condition over the exit vocabulary
(docs/reference/vocabulary.md#exit) holds, with a reason of the rule author's choosing.

``reason`` is a lower_snake_case identifier (default ``expression``); the reason code recorded
(on the exit decision and the trade's ``exit_reason``) is that identifier upper-cased, in line
with every other exit reason: ``reason: funding_flip`` closes with ``FUNDING_FLIP``, no
``reason`` with ``EXPRESSION``.

Failure policy (as the timing tier's closing actions): a condition that faults numerically
(``RuleNumericError``: a division by zero, a NaN or infinite input, ``log`` of 0 …) counts as
holding, since closing is the safe answer of an exit, and the signal carries a ``note`` saying
so; a condition whose input is missing (``MissingInputError``, any other ``RuleRuntimeError``)
cannot be judged and does not fire. Evaluation goes left to right, so a missing name stops the
whole condition where it is reached (``alignment < 0.2 or pnl_pct < -1`` does not fire while
``alignment`` is unknown).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.common.errors import RuleNumericError, RuleRuntimeError
from engine.language.schemagen.dsl import Schema, element, expression, identifier
from engine.trading.exits.base import ExitContext, ExitSignal, Tier, fire

if TYPE_CHECKING:
    from engine.language.kinds.base import BuildContext, Doc

KIND = "expression"
SUMMARY = "Closes while a condition over the exit vocabulary holds, with a reason of your choosing."
REASONS = ("EXPRESSION", "<REASON>")  # <REASON>: the tier's ``reason`` upper-cased
DEFAULT_REASON = "expression"
EXPRESSION_NAME = "when"  # the condition's name in Tier.expressions


@dataclass(frozen=True, slots=True, kw_only=True)
class Params:
    when: str  # the condition's source; compiled into Tier.expressions["when"]
    reason: str  # the reason code recorded: the YAML identifier upper-cased


def schema() -> Schema:
    return element(
        KIND,
        SUMMARY,
        {
            "when": expression(
                "Condition over the exit vocabulary; the position closes while it holds. A numeric fault "
                "closes it too (exits fail safe); a missing input does not."
            ),
            "reason": identifier("Reason of the exit; recorded upper-cased (`funding_flip` → `FUNDING_FLIP`).")
            | {"default": DEFAULT_REASON},
        },
    )


def compile_params(raw: Mapping[str, Any]) -> Params:
    return Params(when=raw["when"], reason=str(raw["reason"]).upper())


def check(params: Params, doc: Doc, path: tuple[Any, ...], ctx: BuildContext) -> None:
    """Nothing beyond the schema and the expression's own checks."""


def expressions(params: Params) -> dict[str, tuple[Any, ...]]:
    """The condition, compiled against the exit vocabulary."""
    return {EXPRESSION_NAME: ("when",)}


def holds(tier: Tier[Params], env: Mapping[str, Any]) -> tuple[bool, str]:
    """(whether the condition holds under the failure policy, a note when a fault decided)."""
    condition = tier.expressions[EXPRESSION_NAME]
    try:
        return bool(condition(env)), ""
    except RuleNumericError as error:
        return True, f"fault: {error}"[:120]
    except RuleRuntimeError:
        return False, ""


def evaluate(tier: Tier[Params], ctx: ExitContext) -> ExitSignal | None:
    fired, note = holds(tier, ctx.env)
    if not fired:
        return None
    if note:
        return fire(tier, tier.params.reason, pnl_pct=ctx.pnl_pct, when=tier.params.when, note=note)
    return fire(tier, tier.params.reason, pnl_pct=ctx.pnl_pct, when=tier.params.when)


def explain(signal: ExitSignal) -> str:
    detail = signal.detail
    if "note" in detail:
        return (
            f"{signal.tier}: `{detail['when']}` could not be evaluated ({detail['note']}); "
            f"the position closes (P&L {detail['pnl_pct']:+.4g} %)"
        )
    return f"{signal.tier}: `{detail['when']}` holds (P&L {detail['pnl_pct']:+.4g} %)"
