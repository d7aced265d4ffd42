"""Rule kind ``indicators`` (optional file): declared indicators, each a name in the market vocabulary.

``indicators.yaml`` lists indicators by kind (engine/trading/indicators: ema, sma, rsi, ...),
timeframe, source and parameters. Every output becomes a float name that every expression
of the rule set may read (signals, gates, requirements, exits), exactly like the built-in
market names, so a strategy needs no Python. A rule set without the file declares none,
and its version is what it was before the file kind existed.
"""

from __future__ import annotations

import keyword
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.language.expr import FUNCTIONS, NameSpec, Vocabulary
from engine.language.kinds.base import BuildContext, Doc, check_unique_ids
from engine.language.schemagen.dsl import arr, document
from engine.trading import indicators
from engine.trading.indicators.base import CANDLE, output_names

KIND = "indicators"
CODES = {
    "RB331": "an indicator's name (or one of its outputs) is already a name of the vocabulary, "
    "a function or a keyword, or another indicator's",
    "RB333": "an indicator's parameters contradict each other",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Indicator:
    id: str  # the declared name; its outputs are ``names``
    kind: str
    timeframe: str
    source: str  # "close" for the kinds that read whole bars (unused there)
    params: Any  # the kind's frozen Params
    names: tuple[str, ...]  # vocabulary names, in the kind's OUTPUTS order


@dataclass(frozen=True, slots=True, kw_only=True)
class Spec:
    indicators: tuple[Indicator, ...] = ()

    @property
    def names(self) -> frozenset[str]:
        """Every vocabulary name the declared indicators give values to."""
        return frozenset(name for indicator in self.indicators for name in indicator.names)

    def vocabulary(self) -> Vocabulary:
        """The names the declared indicators add to the market vocabulary (a name RB331
        refuses is left out: the first declaration of a name is the one expressions see)."""
        specs: dict[str, NameSpec] = {}
        for indicator in self.indicators:
            module = indicators.kind_module(indicator.kind)
            bars = "each candle" if indicator.timeframe == CANDLE else f"{indicator.timeframe} bars"
            phrase = f"{module.describe(indicator.params)}, {bars}"
            for name, (unit, description) in zip(indicator.names, module.OUTPUTS.values()):
                if name not in specs and not _reserved(name):
                    specs[name] = NameSpec(name, "float", unit, f"{description} ({phrase})")
        return Vocabulary.of(*specs.values())


EMPTY = Spec()


def guessed_vocabulary(data: Any) -> Vocabulary:
    """The names a schema-invalid file would declare, as far as its entries say (an id and a
    known kind): its own errors are reported; the expressions that read its names are not
    told on top that they read unknown names."""
    entries = data.get("indicators") if isinstance(data, Mapping) else None
    specs = {}
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("id"), str):
            continue
        module = indicators.INDICATORS.get(str(entry.get("kind")))
        outputs = module.OUTPUTS if module is not None else {"": ("", "")}
        for name in output_names(entry["id"], outputs):
            if name.isidentifier() and not _reserved(name):
                specs[name] = NameSpec(name, "float", "", "a declared indicator (its file has errors)")
    return Vocabulary.of(*specs.values())


def build(doc: Doc, ctx: BuildContext) -> Spec:
    return Spec(indicators=tuple(_indicator(raw) for raw in doc.frozen["indicators"]))


def _indicator(raw: Mapping[str, Any]) -> Indicator:
    module = indicators.kind_module(raw["kind"])
    return Indicator(
        id=raw["id"],
        kind=raw["kind"],
        timeframe=raw["timeframe"],
        source=raw.get("source", "close"),
        params=module.compile_params(raw["params"]),
        names=output_names(raw["id"], module.OUTPUTS),
    )


def check(spec: Spec, doc: Doc, ctx: BuildContext) -> None:
    check_unique_ids(doc, ("indicators",), ctx, "indicator")
    taken: dict[str, str] = {}
    for index, indicator in enumerate(spec.indicators):
        for name in indicator.names:
            clash = _reserved(name) or _taken(name, indicator.id, taken)
            if clash:
                ctx.report(
                    doc,
                    ("indicators", index, "id"),
                    "RB331",
                    f"indicator {indicator.id!r} would add the name {name!r}, which is already {clash}",
                    suggestion="choose another id",
                )
            taken.setdefault(name, indicator.id)
        indicators.kind_module(indicator.kind).check(indicator.params, doc, ("indicators", index), ctx)


def _reserved(name: str) -> str:
    """What ``name`` already is in the expression language ("" when it is free)."""
    from engine.language.vocabulary import CONTEXTS  # the built-in names, every context's

    if any(name in vocabulary.names for vocabulary in CONTEXTS.values()):
        return "a built-in name of the vocabulary (docs/reference/vocabulary.md)"
    if name in FUNCTIONS:
        return "a function of the expression language"
    if keyword.iskeyword(name) or keyword.issoftkeyword(name) or name in ("true", "false", "none"):
        return "a keyword"
    return ""


def _taken(name: str, owner: str, taken: Mapping[str, str]) -> str:
    if name in taken and taken[name] != owner:  # the same id twice is RB300's
        return f"an output of indicator {taken[name]!r}"
    return ""


def schema() -> dict[str, Any]:
    """The indicators document; its element union comes from the indicator registry."""
    element, defs = indicators.schema()
    return document(
        KIND,
        "indicators",
        "Declared indicators (EMA, RSI, ATR, ...): each output is a name every expression may read.",
        {"indicators": arr("The declared indicators.", element, min_items=1, max_items=64)},
        defs=defs,
    )
