"""Expression component: votes LONG where ``long_when`` holds, SHORT where ``short_when`` holds.

A strategy without Python: the conditions are expressions over the market vocabulary — the
built-in names and the indicators ``indicators.yaml`` declares — and may read each input's
value one evaluation earlier with ``prev(name)``, so a cross is
``ema_fast > ema_slow and prev(ema_fast) <= prev(ema_slow)``. ``confidence`` (an expression,
clamped to 0–1) says how sure the vote is; the weight, conviction and everything after it
treat the component like any other kind.

Both conditions holding is NEUTRAL (``both_conditions``: a row with both signals is not an
entry, as in freqtrade). An input the conditions reach but the market does not know yet
(an indicator warming up, ``prev()`` on the first evaluation) makes it NEUTRAL with reason
``missing:<name>``; a numeric fault, ``error:RuleNumericError``.

Unlike the other kinds it reads no snapshot field itself: the signal engine hands it the
symbol's market vocabulary after every update (``observe``; it is listed in
``MARKET_READERS``), and it keeps the values its expressions read, now and one update earlier.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.common.errors import RuleNumericError, RuleRuntimeError
from engine.language.expr import MissingInputError, previous_name
from engine.language.schemagen.dsl import expression
from engine.trading.signals.answer import LONG, SHORT, Answer, directed, fmt, neutral
from engine.trading.signals.components.base import component_schema

if TYPE_CHECKING:
    from engine.language.kinds.base import BuildContext, Doc
    from engine.language.kinds.signals import Component
    from engine.market.snapshot import Snapshot, SymbolSnapshot

KIND = "expression"
SUMMARY = "Expression: LONG where `long_when` holds, SHORT where `short_when` holds, over the market vocabulary."
REASONS = ("warming_up", "long_when", "short_when", "no_condition", "both_conditions")
INPUTS: tuple[str, ...] = ()  # it reads the market vocabulary (observe), no snapshot field
EXPORTS: tuple[str, ...] = ()
SIGNALS_CASCADE = False
NEEDS_LEADER = False
STATE_READS = ("expressions",)
FALSE = "False"  # a side that is not declared never holds


@dataclass(frozen=True, slots=True, kw_only=True)
class Params:
    long_when: str
    short_when: str
    confidence: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Thresholds:
    """None: the conditions hold their own numbers (both profiles may override them)."""


def schema() -> dict[str, Any]:
    return component_schema(
        KIND,
        SUMMARY,
        params={
            "long_when": expression(
                "Condition for a LONG vote (component vocabulary: the market names, declared "
                "indicators and prev(name)).",
            )
            | {"default": FALSE},
            "short_when": expression("Condition for a SHORT vote.") | {"default": FALSE},
            "confidence": expression("Confidence of a vote, clamped to 0–1.", "float") | {"default": "1"},
        },
        thresholds={},
        inputs=INPUTS,
    )


def compile_params(raw: Mapping[str, Any]) -> Params:
    return Params(long_when=raw["long_when"], short_when=raw["short_when"], confidence=raw["confidence"])


def compile_thresholds(raw: Mapping[str, Any]) -> Thresholds:
    return Thresholds()


def expressions(params: Params) -> dict[str, tuple[tuple[str, ...], str]]:
    """Each expression: its path inside the component and what it gives."""
    return {
        "long_when": (("params", "long_when"), "bool"),
        "short_when": (("params", "short_when"), "bool"),
        "confidence": (("params", "confidence"), "float"),
    }


def check(params: Params, doc: Doc, path: tuple[Any, ...], ctx: BuildContext) -> None:
    """RB306: a component whose conditions are both left out never votes."""
    if params.long_when.strip() == FALSE and params.short_when.strip() == FALSE:
        ctx.report(
            doc,
            (*path, "params"),
            "RB306",
            "an expression component needs `long_when` or `short_when`: with neither it never votes",
            suggestion='add e.g. long_when: "ema_fast > ema_slow and prev(ema_fast) <= prev(ema_slow)"',
        )


class State:
    """The values the expressions read: after the last update (``now``) and the one before."""

    __slots__ = ("before", "names", "now")

    def __init__(self, names: frozenset[str]):
        self.names = names
        self.now: dict[str, Any] | None = None
        self.before: dict[str, Any] | None = None

    def env(self) -> dict[str, Any] | None:
        """What the expressions evaluate on: the values now and ``prev(name)``s (None before
        the first update)."""
        if self.now is None:
            return None
        env = dict(self.now)
        if self.before is not None:
            env.update((previous_name(name), value) for name, value in self.before.items())
        return env


def read_names(component: Component) -> frozenset[str]:
    """The inputs the component's expressions read, now or one update earlier."""
    names: set[str] = set()
    for compiled in component.expressions.values():
        for name in compiled.names:
            names.add(name[len("prev(") : -1] if name.startswith("prev(") else name)
    return frozenset(names)


def new_state(component: Component) -> State:
    return State(read_names(component))


def update(state: State, snapshot: Snapshot, symbol: SymbolSnapshot, leader: SymbolSnapshot | None) -> None:
    """Nothing from the snapshot itself: ``observe`` brings the market vocabulary."""


def observe(state: State, market: Mapping[str, Any]) -> None:
    """The symbol's market vocabulary after an update (SignalEngine calls it after each)."""
    state.before = state.now
    state.now = {name: market[name] for name in state.names if name in market}


def exports(state: State) -> dict[str, float]:
    return {}


def evaluate(component: Component, state: State) -> Answer:
    env = state.env()
    if env is None:
        return neutral("warming_up")
    return answer(component.expressions, env)


def answer(compiled: Mapping[str, Any], env: Mapping[str, Any]) -> Answer:
    """The vote on one environment (values now and prev(name)s) — the column form's too."""
    try:
        long, short = bool(compiled["long_when"](env)), bool(compiled["short_when"](env))
        if long == short:
            return neutral("both_conditions" if long else "no_condition")
        confidence = float(compiled["confidence"](env))
    except MissingInputError as missing:
        return neutral(f"missing:{missing.name}")
    except RuleNumericError:
        return neutral("error:RuleNumericError")
    except RuleRuntimeError:
        return neutral("error:RuleRuntimeError")
    read = {name: env[name] for c in compiled.values() for name in sorted(c.names) if name in env}
    return directed(LONG if long else SHORT, confidence, "long_when" if long else "short_when", **read)


def explain(answer: Answer) -> str:
    reason = answer.reasons[0]
    if reason == "no_condition":
        return "neither long_when nor short_when holds"
    if reason == "both_conditions":
        return "long_when and short_when both hold: no vote"
    values = ", ".join(f"{name} {fmt(value)}" for name, value in answer.inputs.items())
    return f"{reason} holds ({values}): {answer.direction}"
