"""Multi-timeframe alignment (seed "Multi-Timeframe (MTF) Alignment" exit triggers):
alignment below ``min_alignment``, a drop since entry beyond ``min_delta``, or momentum
reversed against the position. Unknown alignment (still warming up) does not fire."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.language.schemagen.dsl import TIMEFRAMES, Schema, arr, boolean, element, learnable, num, text
from engine.trading.exits.base import ExitContext, ExitSignal, Tier, describe_detail, fire

if TYPE_CHECKING:
    from engine.language.kinds.base import BuildContext, Doc

KIND = "mtf_alignment"
SUMMARY = "Exits when multi-timeframe alignment degrades."
REASONS = ("MTF_ALIGNMENT_LOST", "MTF_ALIGNMENT_DEGRADED", "MOMENTUM_REVERSED")


@dataclass(frozen=True, slots=True, kw_only=True)
class Params:
    timeframes: tuple[str, ...]  # counted by the alignment feature
    min_alignment: float  # exit below this alignment (fraction)
    min_delta: float  # exit when alignment fell by more than this since entry (≤ 0)
    exit_on_momentum_reversal: bool


def schema() -> Schema:
    return element(
        KIND,
        SUMMARY,
        {
            "timeframes": arr("Timeframes counted.", text("Timeframe.", enum=TIMEFRAMES), min_items=1, unique=True),
            "min_alignment": learnable(num("Exit below this alignment.", "fraction", minimum=0, maximum=1)),
            "min_delta": learnable(
                num("Exit when alignment fell by more than this since entry.", "fraction", minimum=-1, maximum=0)
            ),
            "exit_on_momentum_reversal": boolean("Exit when momentum turns against the position."),
        },
    )


def compile_params(raw: Mapping[str, Any]) -> Params:
    return Params(
        timeframes=tuple(raw["timeframes"]),
        min_alignment=raw["min_alignment"],
        min_delta=raw["min_delta"],
        exit_on_momentum_reversal=raw["exit_on_momentum_reversal"],
    )


def check(params: Params, doc: Doc, path: tuple[Any, ...], ctx: BuildContext) -> None:
    """Nothing beyond the schema."""


def expressions(params: Params) -> dict[str, tuple[Any, ...]]:
    return {}


def alignment_timeframes(params: Params) -> tuple[str, ...]:
    """The timeframes of the alignment feature this tier reads (``alignment`` in the vocabulary)."""
    return params.timeframes


def evaluate(tier: Tier[Params], ctx: ExitContext) -> ExitSignal | None:
    p, env = tier.params, ctx.env
    alignment, delta = env.get("alignment"), env.get("alignment_delta")
    if alignment is not None and alignment < p.min_alignment:
        return fire(tier, "MTF_ALIGNMENT_LOST", alignment=alignment, min_alignment=p.min_alignment)
    if delta is not None and delta < p.min_delta:
        return fire(tier, "MTF_ALIGNMENT_DEGRADED", alignment_delta=delta, min_delta=p.min_delta)
    if p.exit_on_momentum_reversal and env.get("momentum_reversed"):
        return fire(tier, "MOMENTUM_REVERSED")
    return None


def explain(signal: ExitSignal) -> str:
    detail = signal.detail
    if signal.reason == "MTF_ALIGNMENT_LOST":
        return f"{signal.tier}: alignment {detail['alignment']:.3g} is below {detail['min_alignment']:g}"
    if signal.reason == "MTF_ALIGNMENT_DEGRADED":
        return (
            f"{signal.tier}: alignment fell by {-detail['alignment_delta']:.3g} since entry "
            f"(more than {-detail['min_delta']:g})"
        )
    return f"{signal.tier}: momentum reversed against the position {describe_detail(signal)}".rstrip()
