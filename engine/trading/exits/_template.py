"""Template of an exit tier kind: copy this file to engine/trading/exits/<your_kind>.py.

This example closes a position once it is older than ``max_age``, whatever its P&L. To make
your own kind:

1. set ``KIND`` (the YAML ``kind:``), ``SUMMARY`` (one sentence, it becomes the schema's
   description) and ``REASONS`` (every reason code ``evaluate`` can give);
2. declare the parameters in ``Params`` and their JSON schema in ``schema()``, and read them
   once in ``compile_params`` (durations arrive in seconds, learnable values as their value);
3. write ``check`` (RB3xx diagnostics about the parameters alone; a one-line no-op if none),
   ``evaluate`` (pure: it sees only the tier and the ExitContext) and ``explain``;
4. declare the optional capabilities your kind has (engine/trading/exits/base.py lists them:
   ``triggers``, ``STOP_LOSS_FIELD``, ``CHOOSES_ACTION``, ...);
5. add the module to ``TIERS`` in engine/trading/exits/__init__.py (one line), run
   ``python -m engine.language.schemagen`` and ``python -m engine.docgen``, and add tests.

Optional: a column form for the dry-run fast path, one function plus one line in
engine/replay/columns/exit_forms.py (``FORMS``). Without one the fast path asks the scalar
ladder row by row while a position is open — slower, never different.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.language.durations import format_duration
from engine.language.schemagen.dsl import Schema, duration, element
from engine.trading.exits.base import ExitContext, ExitSignal, Tier, fire

if TYPE_CHECKING:  # the rule language imports the tier kinds, not the other way round
    from engine.language.kinds.base import BuildContext, Doc

# Change: the YAML `kind:` of your tier, one sentence on what it does, and every reason code
# evaluate() can give.
KIND = "template_tier"
SUMMARY = "Closes a position once it is older than a maximum age."
REASONS = ("MAX_AGE",)


@dataclass(frozen=True, slots=True, kw_only=True)
class Params:
    """Change: your parameters, typed (nested parts as their own frozen dataclasses, lists as tuples)."""

    max_age: float  # seconds


def schema() -> Schema:
    """Change: one schema entry per ``Params`` field (engine.language.schemagen.dsl helpers)."""
    return element(KIND, SUMMARY, {"max_age": duration("Age at which the position closes.", positive=True)})


def compile_params(raw: Mapping[str, Any]) -> Params:
    """``raw`` is the schema-checked, frozen tier (``id`` and ``kind`` included)."""
    return Params(max_age=raw["max_age"])


def check(params: Params, doc: Doc, path: tuple[Any, ...], ctx: BuildContext) -> None:
    """Change: report problems of the parameters with ``ctx.report(doc, path + (field,), code, message)``."""


def expressions(params: Params) -> dict[str, tuple[Any, ...]]:
    """Change if your tier holds expressions: name → path inside the tier; each is compiled
    against the exit vocabulary into ``tier.expressions[name]``."""
    return {}


def evaluate(tier: Tier[Params], ctx: ExitContext) -> ExitSignal | None:
    """Change: the tier's answer for one position this cycle; None when it does not fire."""
    if ctx.hold_s >= tier.params.max_age:
        return fire(tier, "MAX_AGE", hold_s=ctx.hold_s, max_age_s=tier.params.max_age)
    return None


def explain(signal: ExitSignal) -> str:
    """Change: one line about the answer, for a person reading the decision."""
    return f"{signal.tier}: the position is older than {format_duration(signal.detail['max_age_s'])}"
