"""What every signal component kind shares: the envelope of its schema element (weight,
staleness limits, thresholds per profile, overrides), the parameter helpers the kinds reuse,
and the RB304 check of two thresholds that must stay ordered.

A component's own module states only what is its own (its params, its thresholds, its
inputs); the envelope is the same for all ten, so it is written once here. So are the two
``Params`` shapes several kinds have exactly (a window and the multiple at which confidence
reaches 1: ``WindowedParams`` in seconds, ``CountWindowedParams`` in readings) with their
compilers, the ``check`` of a kind the schema's ranges already cover (``no_checks``), and the
feed of the two kinds that read open interest and price into the same feature.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.language.schemagen.dsl import (
    PROFILES,
    arr,
    duration,
    element,
    expression,
    learnable,
    mapping,
    num,
    obj,
    ref,
)

if TYPE_CHECKING:  # the rule language imports the components, not the other way round
    from engine.language.kinds.base import BuildContext, Doc
    from engine.market.snapshot import Snapshot, SymbolSnapshot
    from engine.trading.features import OiPriceDivergence


def component_schema(
    kind: str,
    summary: str,
    *,
    params: dict[str, Any],
    thresholds: dict[str, Any],
    inputs: Iterable[str],
) -> dict[str, Any]:
    """The schema element of one component kind: the shared envelope around its own
    ``params`` (omitted when it has none) and per-profile ``thresholds``."""
    props: dict[str, Any] = {
        "weight": learnable(
            num("Share of this component in the weighted vote; all weights sum to 1.", "fraction", minimum=0, maximum=1)
        ),
        "max_input_age": mapping(
            "Staleness limit per input: older data makes the component NEUTRAL with reason `stale:<input>`.",
            duration("Oldest usable age."),
            keys=list(inputs),
        )
        | ({} if inputs else {"default": {}}),  # a kind that reads no snapshot input: nothing to limit
        "thresholds": obj(
            "Thresholds per profile (seed: paper relaxed, live strict).",
            {p: obj(f"Thresholds in the {p} profile.", thresholds) for p in PROFILES},
        )
        | ({} if thresholds else {"default": {p: {} for p in PROFILES}}),  # a kind with none: nothing to write
        "overrides": arr(
            "Conditions that replace the computed answer; the first that holds wins.",
            override_schema(),
            max_items=16,
            unit="list",
        )
        | {"default": []},
    }
    if params:
        props["params"] = obj("Windows and shaping parameters shared by both profiles.", params)
    return element(kind, summary, props)


def override_schema() -> dict[str, Any]:
    return obj(
        "One override.",
        {
            "when": expression("Condition over the signal vocabulary."),
            "direction": ref("direction", "Direction to answer while `when` holds.", "enum"),
            "confidence": num(
                "Confidence to answer (ignored for NEUTRAL).", "fraction", minimum=0, maximum=1, default=0.0
            ),
            "reason": ref("identifier", "Reason recorded in the signal trace.", "id"),
        },
    )


def confidence_multiple() -> dict[str, Any]:
    return num("Confidence reaches 1 at this multiple of the threshold.", "ratio", minimum=1, maximum=100)


def window(what: str) -> dict[str, Any]:
    return duration(f"Time window of {what}.", positive=True)


def count_window(what: str, minimum: int = 2) -> dict[str, Any]:
    return num(f"Number of {what} in the window.", "count", minimum=minimum, maximum=100_000, integer=True)


def usd(description: str) -> dict[str, Any]:
    return learnable(num(description, "USD", minimum=0))


def pct(description: str) -> dict[str, Any]:
    return learnable(num(description, "%", minimum=0))


def fraction(description: str) -> dict[str, Any]:
    return learnable(num(description, "fraction", minimum=0, maximum=1))


def threshold_values(thresholds: Any) -> dict[str, Any]:
    """A kind's compiled thresholds as name → value, in declaration order (the signal
    record logs them; ``rulebot explain`` and the learners read them by name)."""
    return {f.name: getattr(thresholds, f.name) for f in dataclasses.fields(thresholds)}


def check_ordered(doc: Doc, path: tuple[Any, ...], ctx: BuildContext, low: str, high: str) -> None:
    """RB304 unless threshold ``low`` ≤ ``high`` in every profile of the component at
    ``path`` (all profiles, not only the one compiled: a file is wrong or right as a whole)."""
    frozen: Mapping[str, Any] = doc.frozen
    for key in path:
        frozen = frozen[key]
    for profile, values in frozen["thresholds"].items():
        lower, upper = values[low], values[high]
        if lower > upper:
            ctx.report(
                doc,
                (*path, "thresholds", profile),
                "RB304",
                f"{frozen['id']}: {low} ({lower:g}) is above {high} ({upper:g}) in the {profile} profile",
                suggestion=f"keep {low} ≤ {high}",
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class WindowedParams:
    """The params of a kind that reads a time window and scales confidence linearly:
    ``window()`` and ``confidence_multiple()`` in its schema."""

    window: float  # seconds (a duration in the YAML)
    full_confidence_multiple: float


def compile_windowed_params(raw: Mapping[str, Any]) -> WindowedParams:
    return WindowedParams(window=raw["window"], full_confidence_multiple=raw["full_confidence_multiple"])


@dataclass(frozen=True, slots=True, kw_only=True)
class CountWindowedParams:
    """The params of a kind that reads the last N readings and scales confidence linearly:
    ``count_window()`` and ``confidence_multiple()`` in its schema."""

    window: int  # readings
    full_confidence_multiple: float


def compile_count_windowed_params(raw: Mapping[str, Any]) -> CountWindowedParams:
    return CountWindowedParams(window=raw["window"], full_confidence_multiple=raw["full_confidence_multiple"])


def no_checks(params: object, doc: Doc, path: tuple[Any, ...], ctx: BuildContext) -> None:
    """The ``check`` of a kind with nothing to check beyond the schema's ranges."""


def update_open_interest_and_price(
    state: OiPriceDivergence, snapshot: Snapshot, symbol: SymbolSnapshot, leader: SymbolSnapshot | None
) -> None:
    """The ``update`` of the kinds that read open interest and price together (oi_velocity,
    oi_divergence): both, at OI's publication time, once both are there."""
    oi, price = symbol.get("open_interest_usd"), symbol.get("price")
    if oi is not None and price is not None:
        state.update(symbol.times["open_interest"], price, oi)
