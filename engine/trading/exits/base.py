"""What an exit tier sees and what it answers, and the parts several tier kinds share.

Every exit tier kind module (engine/trading/exits/<kind>.py; copy ``_template.py``) has the same
shape, checked by the registry in engine/trading/exits/__init__.py:

* ``KIND`` (the YAML ``kind:``), ``SUMMARY`` (one sentence: the schema element's description),
  ``REASONS`` (the reason codes it can give);
* ``Params``: its frozen, typed parameters, compiled once into the plan by
  ``compile_params(raw)`` from the schema-checked document; ``schema()`` is their JSON schema;
* ``check(params, doc, path, ctx)``: its semantic checks (RB3xx); ``expressions(params)``: the
  expressions it evaluates (name → path inside the tier), which the rule-file kind compiles
  into ``Tier.expressions``;
* ``evaluate(tier, ctx) -> ExitSignal | None`` (pure) and ``explain(signal) -> str`` (the line
  a person reads about its answer).

What the rest of the engine needs to know about a tier is declared as data, never asked by
kind name. Optional, each only where it applies:

* ``triggers(params) -> tuple[Trigger, ...]``: its entries that fire on P&L beyond a threshold
  once the position is old enough; engine/language/kinds/exits.py uses them to find entries
  another tier always pre-empts (RB342), the age by which full exits close every position
  whatever its P&L, and rungs that age is never reached for (RB347);
* ``hold_limit(params, hold) -> HoldLimit | None``: the age by which the tier closes every
  position whatever its P&L (a forced exit), given the exit file's hold times (``HoldTimes``):
  grace windows longer than that (RB390, engine/language/crosscheck.py) and rungs after it
  (RB347) are errors;
* ``closing_actions(params)``: with ``CHOOSES_ACTION``, the timing actions on which the tier
  itself closes the whole position (a ``Trigger.waived_on`` action among them waives nothing);
* ``STOP_LOSS_FIELD``: the ``Params`` field holding the loss (in %) at which the tier closes.
  It makes the tier a stop: sizing, the liquidation buffer (RB345), "no stop" (RB346), and a
  protective exit, the only kind that still closes positions while trading is HALTED
  (engine/bot/states.py, the runner's ``_check_exits``);
* ``CHOOSES_ACTION = True`` with ``choose_action(tier, env)`` and ``hold_multiplier(tier,
  action)``: the tier picks the cycle's timing action before any tier is asked;
* ``ema_cross(params)`` / ``alignment_timeframes(params)``: the market-feature windows the tier
  reads (engine/trading/signals/market.py builds the features with them).

A column (fast-path) form is optional (engine/replay/columns/exit_forms.py ``FORMS``): while
a position is open the fast path walks the ladder over the cycles ahead as columns, and asks
``evaluate_exits`` cycle by cycle when a tier's kind has none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from engine.language.diagnostics import Severity
from engine.language.durations import format_duration
from engine.language.schemagen.dsl import Schema, learnable, num

if TYPE_CHECKING:  # the rule language imports the tier kinds, not the other way round
    from engine.language.kinds.base import BuildContext, Doc

P = TypeVar("P")


@dataclass(frozen=True, slots=True, kw_only=True)
class Tier(Generic[P]):
    """One compiled exit tier: its kind's ``Params`` and compiled expressions."""

    id: str
    kind: str
    params: P
    expressions: Mapping[str, Any]  # name (from the kind's ``expressions``) → CompiledExpression


@dataclass(frozen=True, slots=True)
class ExitContext:
    position: Any  # positions.OpenPosition
    now: float
    price: float
    pnl_pct: float  # on the plan's pnl_basis
    hold_s: float
    env: Mapping[str, Any]  # the exit vocabulary (docs/reference/vocabulary.md)
    timing_action: str  # this cycle's timing action (HOLD when there is no timing tier)


@dataclass(frozen=True, slots=True)
class ExitSignal:
    tier: str  # tier id
    kind: str
    reason: str  # STOP_LOSS, TAKE_PROFIT, TIME_LIMIT, …
    fraction: float = 1.0  # of the INITIAL quantity; 1.0 closes what is left
    rungs: tuple[int, ...] = ()  # ladder rungs this signal takes
    detail: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    closes_rest: bool = False  # a partial close that takes what is left (no rounding remnant)

    @property
    def full(self) -> bool:
        return self.fraction >= 1.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "tier": self.tier,
            "kind": self.kind,
            "reason": self.reason,
            "fraction": self.fraction,
            "rungs": list(self.rungs),
            "detail": dict(self.detail),
        }


def fire(tier: Tier[Any], reason: str, **detail: Any) -> ExitSignal:
    """A full exit of ``tier`` with ``reason``; ``detail`` goes into the decision record."""
    return ExitSignal(tier.id, tier.kind, reason, 1.0, (), MappingProxyType(detail))


def describe_detail(signal: ExitSignal) -> str:
    """``name=value`` for every detail the tier recorded (floats to 6 significant digits): the
    plain explanation a kind gives when it has nothing more specific to say."""
    return " ".join(f"{name}={_show(value)}" for name, value in signal.detail.items())


def _show(value: Any) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def pnl_schema(description: str) -> Schema:
    """A P&L threshold in percent (learnable), as profit targets, time exits and rungs use it."""
    return learnable(num(description, "%", minimum=-100, maximum=1000))


# ------------------------------------------------------------------ triggers (RB342)


@dataclass(frozen=True, slots=True, kw_only=True)
class Trigger:
    """One entry of a tier that fires once the position is ``after_s`` old and its P&L is
    beyond ``pnl_pct``: what the checks need to see that one entry always pre-empts another."""

    list_field: str  # the tier's list holding the entry ("targets", "rules", "rungs")
    index: int  # its position in that list
    noun: str  # how a message names one entry ("rule", "rung")
    field: str  # the entry's P&L field ("pnl_pct", "below_pnl_pct")
    after_s: float
    pnl_pct: float
    above: bool  # fires when P&L exceeds pnl_pct; False: when it falls below
    full: bool  # closes the whole position (False: a part of it)
    waived_on: tuple[str, ...] = ()  # timing actions on which the entry fires at any age

    @property
    def path(self) -> tuple[str, int]:
        """Where the entry is, inside its tier."""
        return (self.list_field, self.index)


# ------------------------------------------------------------------ hold limits (RB347, RB390)

# The exit vocabulary names engine.trading.exits.exit_env always sets (the others, such as
# alignment, may be absent: a condition reading one may not be judged at all).
ALWAYS_IN_ENV = frozenset({"pnl_pct", "peak_pnl_pct", "hold_s", "min_hold_s", "leverage", "optimal_hold_s"})


@dataclass(frozen=True, slots=True, kw_only=True)
class HoldTimes:
    """The exit file's hold times a tier's ``hold_limit`` may depend on, in seconds."""

    min_hold_s: float
    optimal_hold_s: tuple[float, float]  # (shortest, longest) over every symbol and direction


@dataclass(frozen=True, slots=True, kw_only=True)
class HoldLimit:
    """The age by which a tier has closed every position, whatever its P&L."""

    age_s: float
    inclusive: bool  # closes at age ≥ age_s (False: only once the age exceeds it)
    where: tuple[Any, ...]  # the entry inside the tier that closes (for diagnostics)
    what: str  # how a message names it, e.g. "FORCE_EXIT when hold_s > optimal_hold_s * 2"

    def closes_before(self, age_s: float) -> bool:
        """Every position is closed before it reaches ``age_s`` (or at the same cycle)."""
        return age_s > self.age_s or (self.inclusive and age_s == self.age_s)


def check_shadowed(triggers: Sequence[Trigger], doc: Doc, path: tuple[Any, ...], ctx: BuildContext) -> None:
    """RB342 inside one tier: an entry fires at (age ≥ after, P&L beyond its threshold);
    another with an earlier-or-equal age and an easier-or-equal P&L condition always fires
    first (an exact duplicate is reported once, at the later copy)."""
    for j, entry in enumerate(triggers):
        sign = 1 if entry.above else -1
        for i, other in enumerate(triggers):
            if i == j or (i > j and (other.after_s, other.pnl_pct) == (entry.after_s, entry.pnl_pct)):
                continue
            if other.after_s <= entry.after_s and sign * other.pnl_pct <= sign * entry.pnl_pct:
                ctx.report(
                    doc,
                    path + entry.path,
                    "RB342",
                    f"entry {j + 1} can never fire: entry {i + 1} (after {format_duration(other.after_s)}, "
                    f"{other.field} {other.pnl_pct:g}) always fires first",
                    severity=Severity.ERROR,
                    suggestion="remove it, or give it an earlier time or an easier P&L condition",
                )
                break
