"""Rule kind ``signals``: weighted components, voting and conviction levels."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from engine.language.kinds.base import BuildContext, Doc, check_unique_ids
from engine.language.schemagen.dsl import CONVICTIONS, arr, document, learnable, num, obj, text
from engine.trading.signals import components

KIND = "signals"
CODES = {
    "RB301": "component weights do not sum to 1",
    "RB302": "conviction levels are not ordered strongest first",
    "RB303": "a conviction level can never be reached (an earlier level always matches first)",
    "RB304": "a component's thresholds contradict each other",
    "RB305": "conviction level name used twice",
    "RB306": "an expression component declares neither `long_when` nor `short_when`",
}
WEIGHT_TOLERANCE = 1e-9


@dataclass(frozen=True, slots=True, kw_only=True)
class Override:
    when: Any  # CompiledExpression (bool)
    direction: str
    confidence: float
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Component:
    id: str
    kind: str
    weight: float
    thresholds: Any  # the kind's frozen Thresholds, of the compiled profile
    params: Any  # the kind's frozen Params
    max_input_age: Mapping[str, float]
    overrides: tuple[Override, ...]
    signals_cascade: bool  # the kind's SIGNALS_CASCADE: a non-NEUTRAL answer is an active cascade
    needs_leader: bool  # the kind's NEEDS_LEADER: it needs a symbol with role: leader
    # a market-reading kind's compiled expressions (components.MARKET_READERS), by name
    expressions: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, slots=True, kw_only=True)
class ConvictionLevel:
    name: str
    min_aligned: int
    min_confidence: float
    size_multiplier: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Spec:
    components: tuple[Component, ...]
    min_aligned: int
    direction_by: str
    confidence_basis: str
    levels: tuple[ConvictionLevel, ...]
    fallback_multiplier: float


def build(doc: Doc, ctx: BuildContext) -> Spec:
    frozen = doc.frozen
    components = tuple(_component(doc, ctx, i, c) for i, c in enumerate(frozen["components"]))
    conviction = frozen["conviction"]
    return Spec(
        components=components,
        min_aligned=frozen["voting"]["min_aligned"],
        direction_by=frozen["voting"]["direction_by"],
        confidence_basis=frozen["voting"]["confidence_basis"],
        levels=tuple(ConvictionLevel(**level) for level in conviction["levels"]),
        fallback_multiplier=conviction["fallback"]["size_multiplier"],
    )


def _component(doc: Doc, ctx: BuildContext, index: int, raw: Mapping) -> Component:
    overrides = tuple(
        Override(
            when=ctx.expression(doc, ("components", index, "overrides", j, "when"), "signal"),
            direction=o["direction"],
            confidence=o["confidence"],
            reason=o["reason"],
        )
        for j, o in enumerate(raw["overrides"])
    )
    module = components.kind_module(raw["kind"])
    params = module.compile_params(raw.get("params", {}))
    expressions = {}
    if raw["kind"] in components.MARKET_READERS:
        expressions = {
            name: ctx.expression(doc, ("components", index, *path), "component", expect)
            for name, (path, expect) in module.expressions(params).items()
        }
    return Component(
        id=raw["id"],
        kind=raw["kind"],
        weight=raw["weight"],
        thresholds=module.compile_thresholds(raw["thresholds"][ctx.thresholds]),
        params=params,
        expressions=MappingProxyType(expressions),
        max_input_age=raw["max_input_age"],
        overrides=overrides,
        signals_cascade=module.SIGNALS_CASCADE,
        needs_leader=module.NEEDS_LEADER,
    )


def check(spec: Spec, doc: Doc, ctx: BuildContext) -> None:
    check_unique_ids(doc, ("components",), ctx, "component")
    _check_weights(spec, doc, ctx)
    _check_levels(spec, doc, ctx)
    for index, component in enumerate(spec.components):
        components.kind_module(component.kind).check(component.params, doc, ("components", index), ctx)


def _check_weights(spec: Spec, doc: Doc, ctx: BuildContext) -> None:
    total = sum(c.weight for c in spec.components)
    if abs(total - 1.0) > WEIGHT_TOLERANCE:
        listing = ", ".join(f"{c.id}={c.weight:g}" for c in spec.components)
        ctx.report(
            doc,
            ("components",),
            "RB301",
            f"component weights sum to {total:.6g}, not 1 ({listing})",
            key=True,
            suggestion=f"change the weights by {1 - total:+.6g} in all",
        )


def _check_levels(spec: Spec, doc: Doc, ctx: BuildContext) -> None:
    levels = spec.levels
    names = [level.name for level in levels]
    for j, level in enumerate(levels):
        path = ("conviction", "levels", j)
        if level.name in names[:j]:
            ctx.report(doc, path + ("name",), "RB305", f"conviction level {level.name} is listed twice")
        if j and (level.min_aligned > levels[j - 1].min_aligned or level.min_confidence > levels[j - 1].min_confidence):
            ctx.report(
                doc,
                path,
                "RB302",
                f"level {level.name} asks more than the level above it ({levels[j - 1].name}); "
                "list levels strongest first",
                suggestion="reorder the levels",
            )
            continue
        for earlier in levels[:j]:
            if earlier.min_aligned <= level.min_aligned and earlier.min_confidence <= level.min_confidence:
                ctx.report(
                    doc,
                    path,
                    "RB303",
                    f"level {level.name} can never be reached: every signal that meets it also "
                    f"meets {earlier.name}, which is checked first",
                    suggestion=f"make {earlier.name} stricter than {level.name}",
                )
                break


def schema() -> dict[str, Any]:
    """The signals document; its component union comes from the component registry."""
    component, defs = components.schema()
    level = obj(
        "One conviction level.",
        {
            "name": text("Level name.", enum=CONVICTIONS[:-1]),
            "min_aligned": num("Aligned components needed.", "count", minimum=1, maximum=10, integer=True),
            "min_confidence": learnable(num("Weighted confidence needed.", "fraction", minimum=0, maximum=1)),
            "size_multiplier": num("Size multiplier at this level.", "x", minimum=0, maximum=10),
        },
    )
    return document(
        "signals",
        "signals",
        "Signal components, voting and conviction (seed: Signal Generation).",
        {
            "components": arr("The weighted signal components.", component, min_items=1, max_items=32),
            "voting": obj(
                "How component answers become one direction.",
                {
                    "min_aligned": num(
                        "Components that must agree for any direction.", "count", minimum=1, maximum=10, integer=True
                    ),
                    "direction_by": text(
                        "`votes`: the side with more components wins; `weight`: more weight wins. A tie is NEUTRAL.",
                        enum=["votes", "weight"],
                    ),
                    "confidence_basis": text(
                        "`aligned_weight`: Σ w·c ÷ Σ w over the aligned components; "
                        "`total_weight`: Σ w·c over the aligned components.",
                        enum=["aligned_weight", "total_weight"],
                    ),
                },
            ),
            "conviction": obj(
                "Conviction levels, strongest first; the first whose minimums hold wins.",
                {
                    "levels": arr("Levels, strongest first.", level, min_items=1, max_items=8),
                    "fallback": obj(
                        "The level when none holds.",
                        {
                            "name": text("Level name.", enum=["NONE"]),
                            "size_multiplier": num("Size multiplier (0 means no trade).", "x", minimum=0, maximum=0),
                        },
                    ),
                },
            ),
        },
        defs=defs,
    )
