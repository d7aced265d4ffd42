"""What a gate sees and what it answers, and the parts several gate kinds share.

Every gate kind module (engine/trading/gates/<kind>.py; copy ``_template.py``) has the same shape,
checked by the registry in engine/trading/gates/__init__.py:

* ``KIND`` (the YAML ``kind:``), ``SUMMARY`` (one sentence: the schema element's description),
  ``REASONS`` (the reason codes it can give);
* ``Params``: its frozen, typed parameters, compiled once into the plan by
  ``compile_params(raw)`` from the schema-checked document; ``schema()`` is their JSON schema;
* ``check(params, doc, path, ctx)``: its semantic checks (RB3xx); ``expressions(params)``: the
  expressions it evaluates, which the rule-file kind compiles into ``Gate.expressions``;
* ``evaluate(gate, ctx) -> GateResult`` (pure) and ``explain(result) -> str`` (the line
  ``rulebot explain`` prints about its answer);
* optionally ``MUST_BE_LAST = True`` (engine/language/kinds/gates.py refuses the kind anywhere
  but at the end of the chain) and ``correlation_window(params)`` (the return correlations the
  gate reads, which engine/trading/pipeline.py keeps up to date).

A gate's column form for the dry-run fast path is optional and lives in
engine/replay/columns/gate_forms.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from engine.language.schemagen.dsl import Schema, boolean, element, num, obj, text

if TYPE_CHECKING:  # the rule language imports the gate kinds, not the other way round
    from engine.language.kinds.base import BuildContext, Doc

PASS = "PASS"
DISABLED = "DISABLED"  # the reason of a gate with `enabled: false`: it passes without looking

P = TypeVar("P")


@dataclass(frozen=True, slots=True, kw_only=True)
class Gate(Generic[P]):
    """One element of the compiled chain: its kind's ``Params`` and compiled expressions."""

    id: str
    kind: str
    enabled: bool
    params: P
    expressions: Mapping[str, Any]  # name (from the kind's ``expressions``) → CompiledExpression


@dataclass(frozen=True, slots=True)
class GateContext:
    """Everything the chain may read for one entry decision; built once, read by all gates."""

    symbol: str
    direction: str  # LONG | SHORT
    record: Any  # signals.record.SignalRecord
    env: Mapping[str, Any]  # vocabulary values (market, signal outcome, performance)
    portfolio: Any  # portfolio.Portfolio
    venue: Any  # kinds.venues.Exchange (the execution venue)
    correlations: Mapping[str, float]  # other symbol → return correlation with this one (known ones)
    trading_state: str  # ACTIVE | HALTED | REDUCING
    trading_state_reason: str
    expected_edge_pct: float | None  # gates.yaml expected_edge; None when it could not be computed


@dataclass(frozen=True, slots=True)
class GateResult:
    id: str
    kind: str
    multiplier: float
    blocked: bool
    reason: str  # PASS, or an UPPER_SNAKE code
    inputs: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "multiplier": self.multiplier,
            "blocked": self.blocked,
            "reason": self.reason,
            "inputs": dict(self.inputs),
        }


def passed(gate: Gate[Any], multiplier: float = 1.0, reason: str = PASS, **inputs: Any) -> GateResult:
    return GateResult(gate.id, gate.kind, multiplier, False, reason, MappingProxyType(inputs))


def blocked(gate: Gate[Any], reason: str, **inputs: Any) -> GateResult:
    return GateResult(gate.id, gate.kind, 0.0, True, reason, MappingProxyType(inputs))


def describe_inputs(result: GateResult) -> str:
    """``name=value`` for every input the gate recorded (floats to 6 significant digits), shown
    after the kind's explanation."""
    return " ".join(f"{name}={_show(value)}" for name, value in result.inputs.items())


def _show(value: Any) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def number(value: Any) -> str:
    """A value as the explanations word it: floats to 4 significant digits."""
    return f"{value:.4g}" if isinstance(value, float) else str(value)


# ------------------------------------------------------------------ scored levels (conviction, intelligence)


@dataclass(frozen=True, slots=True, kw_only=True)
class Level:
    """A named score level: scores from ``min_score`` up (to the level above) size by
    ``size_multiplier``."""

    name: str
    min_score: float
    size_multiplier: float


def compile_levels(raw: Any) -> tuple[Level, ...]:
    return tuple(
        Level(name=level["name"], min_score=level["min_score"], size_multiplier=level["size_multiplier"])
        for level in raw
    )


def level_for(levels: tuple[Level, ...], score: float) -> Level:
    """The first level (highest first) whose min_score the score reaches; the last otherwise."""
    for level in levels:
        if score >= level.min_score:
            return level
    return levels[-1]


def check_levels(levels: tuple[Level, ...], lowest: float, doc: Doc, path: tuple[Any, ...], ctx: BuildContext) -> None:
    """RB310 / RB311: levels are listed from the highest score down, and the last one reaches
    ``lowest`` (the lowest score there is), so every score has a level."""
    scores = [level.min_score for level in levels]
    for j in range(1, len(scores)):
        if scores[j] >= scores[j - 1]:
            ctx.report(
                doc,
                path + (j, "min_score"),
                "RB310",
                f"min_score {scores[j]:g} is not below the previous {scores[j - 1]:g}; list from highest to lowest",
                suggestion="reorder the entries",
            )
    if scores and scores[-1] > lowest:
        ctx.report(
            doc,
            path + (len(scores) - 1, "min_score"),
            "RB311",
            f"scores below {scores[-1]:g} match no entry (scores go down to {lowest:g})",
            suggestion=f"set the last min_score to {lowest:g}",
        )


def level_schema(description: str) -> Schema:
    return obj(
        description,
        {
            "name": text("Level name.", pattern=r"^[A-Za-z_]{2,32}$"),
            "min_score": num("Lowest score of this level.", "score", minimum=-1, maximum=1),
            "size_multiplier": num("Size multiplier at this level.", "x", minimum=0, maximum=10),
        },
    )


# ------------------------------------------------------------------ schema


ENABLED = boolean("Whether this gate runs; a disabled gate passes with multiplier 1.", default=True)


def gate_schema(kind: str, summary: str, properties: dict[str, Schema]) -> Schema:
    """The schema of one chain element of ``kind``: ``id``, ``kind``, ``enabled`` and its own fields."""
    return element(kind, summary, {"enabled": ENABLED, **properties})
