"""Intelligence gate (seed "Intelligence Gate"): market intelligence for or against the
trade sizes it 0.4x-1.3x; it never blocks.

Each source with data votes +1 (agrees with the direction), −1 (conflicts) or 0:
taker buy/sell ratio, long-liquidation share, fear & greed (contrarian) and order-book
imbalance. The alignment score is the weighted mean of the votes over the sources that
have data (0 when none has), and its band gives the multiplier."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.language.schemagen.dsl import Schema, arr, num, obj
from engine.trading.gates.base import (
    Gate,
    GateContext,
    GateResult,
    Level,
    check_levels,
    compile_levels,
    gate_schema,
    level_for,
    level_schema,
    number,
    passed,
)

if TYPE_CHECKING:  # the rule language imports the gate kinds, not the other way round
    from engine.language.kinds.base import BuildContext, Doc

KIND = "intelligence_gate"
SUMMARY = "Sizes by market-intelligence alignment or conflict."
REASONS = ("INTEL_<BAND>",)


@dataclass(frozen=True, slots=True)
class _Reading:
    """How one source is read: its vocabulary name, the YAML keys of its lower and upper
    cut-offs, and which side is bullish (above the upper, or below the lower cut-off)."""

    field: str
    low: str
    high: str
    bullish_above: bool
    description: str
    unit: str
    minimum: float | None


_READINGS = {
    "taker_flow": _Reading(
        "taker_buy_sell_ratio", "bearish_below", "bullish_above", True, "Taker buy/sell ratio.", "ratio", 0
    ),
    "liquidations": _Reading(
        "liq_long_share", "bullish_below", "bearish_above", False, "Share of long liquidations.", "fraction", 0
    ),
    "fear_greed": _Reading("fear_greed", "fear_below", "greed_above", False, "Fear & greed, contrarian.", "0-100", 0),
    "ofi": _Reading("ofi", "bearish_below", "bullish_above", True, "Order-book imbalance.", "OFI", None),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Source:
    weight: float  # in the alignment score; 0 leaves the source out
    low: float  # the lower cut-off (its YAML key depends on the source: _READINGS)
    high: float  # the upper cut-off


@dataclass(frozen=True, slots=True, kw_only=True)
class Sources:
    taker_flow: Source
    liquidations: Source
    fear_greed: Source
    ofi: Source


@dataclass(frozen=True, slots=True, kw_only=True)
class Params:
    sources: Sources
    bands: tuple[Level, ...]


def _source_schema(reading: _Reading) -> Schema:
    return obj(
        reading.description,
        {
            "weight": num("Weight in the alignment score.", "fraction", minimum=0, maximum=1),
            reading.high: num("Bullish/bearish cut-off (upper).", reading.unit, minimum=reading.minimum),
            reading.low: num("Bullish/bearish cut-off (lower).", reading.unit, minimum=reading.minimum),
        },
    )


def schema() -> Schema:
    return gate_schema(
        KIND,
        SUMMARY,
        {
            "sources": obj(
                "Inputs of the alignment score.",
                {name: _source_schema(reading) for name, reading in _READINGS.items()},
            ),
            "bands": arr("Score bands, highest first.", level_schema("A band."), min_items=1),
        },
    )


def compile_params(raw: Mapping[str, Any]) -> Params:
    sources = {
        name: Source(
            weight=raw["sources"][name]["weight"], low=raw["sources"][name][r.low], high=raw["sources"][name][r.high]
        )
        for name, r in _READINGS.items()
    }
    return Params(sources=Sources(**sources), bands=compile_levels(raw["bands"]))


def check(params: Params, doc: Doc, path: tuple[Any, ...], ctx: BuildContext) -> None:
    check_levels(params.bands, -1.0, doc, path + ("bands",), ctx)
    for name, reading in _READINGS.items():
        source: Source = getattr(params.sources, name)
        if source.low >= source.high:
            ctx.report(
                doc,
                path + ("sources", name),
                "RB313",
                f"{name}: {reading.low} ({source.low:g}) must be below {reading.high} ({source.high:g})",
                suggestion=f"swap {reading.low} and {reading.high}",
            )


def expressions(params: Params) -> dict[str, tuple[Any, ...]]:
    return {}


def _bullishness(source: Source, value: float, bullish_above: bool) -> int:
    """+1 bullish, −1 bearish, 0 neither, for a reading against its cut-offs."""
    if bullish_above:
        return 1 if value > source.high else -1 if value < source.low else 0
    return 1 if value < source.low else -1 if value > source.high else 0


def alignment(params: Params, ctx: GateContext) -> tuple[float, dict[str, int]]:
    sign = 1 if ctx.direction == "LONG" else -1
    total = weight = 0.0
    votes = {}
    for name, reading in _READINGS.items():
        source: Source = getattr(params.sources, name)
        value = ctx.env.get(reading.field)
        if value is None or source.weight == 0:
            continue
        vote = sign * _bullishness(source, value, reading.bullish_above)
        votes[name] = vote
        total += source.weight * vote
        weight += source.weight
    return (total / weight if weight else 0.0), votes


def evaluate(gate: Gate[Params], ctx: GateContext) -> GateResult:
    score, votes = alignment(gate.params, ctx)
    band = level_for(gate.params.bands, score)
    return passed(
        gate,
        band.size_multiplier,
        f"INTEL_{band.name.upper()}",
        score=score,
        **{f"vote_{k}": v for k, v in votes.items()},
    )


_VOTE_WORDS = {1: "agrees", 0: "neutral", -1: "conflicts"}


def explain(result: GateResult) -> str:
    score = number(result.inputs["score"])
    votes = [
        f"{name.removeprefix('vote_')} {_VOTE_WORDS[vote]}" for name, vote in result.inputs.items() if name != "score"
    ]
    if not votes:
        return f"alignment {score}: no source has data"
    return f"alignment {score}: {', '.join(votes)}"
