"""Signal reversal (seed "Signal Reversal"): the EMA crossover turned against the position
after it opened (a position opened against the EMA trend is not reversed by it)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.language.schemagen.dsl import TIMEFRAMES, Schema, element, num, text
from engine.trading.exits.base import ExitContext, ExitSignal, Tier, fire

if TYPE_CHECKING:
    from engine.language.kinds.base import BuildContext, Doc

KIND = "signal_reversal"
SUMMARY = "Exits on an EMA crossover flip against the position."
REASONS = ("SIGNAL_REVERSAL",)


@dataclass(frozen=True, slots=True, kw_only=True)
class Params:
    timeframe: str  # candle timeframe of the EMAs
    fast_ema: int  # bars
    slow_ema: int  # bars


def schema() -> Schema:
    return element(
        KIND,
        SUMMARY,
        {
            "timeframe": text("Candle timeframe of the EMAs.", enum=TIMEFRAMES),
            "fast_ema": num("Fast EMA period.", "bars", minimum=1, maximum=1000, integer=True),
            "slow_ema": num("Slow EMA period.", "bars", minimum=2, maximum=1000, integer=True),
        },
    )


def compile_params(raw: Mapping[str, Any]) -> Params:
    return Params(timeframe=raw["timeframe"], fast_ema=raw["fast_ema"], slow_ema=raw["slow_ema"])


def check(params: Params, doc: Doc, path: tuple[Any, ...], ctx: BuildContext) -> None:
    """RB344: the fast EMA must be faster than the slow one, or the cross means nothing."""
    if params.fast_ema >= params.slow_ema:
        ctx.report(doc, path + ("fast_ema",), "RB344", "fast_ema must be smaller than slow_ema")


def expressions(params: Params) -> dict[str, tuple[Any, ...]]:
    return {}


def ema_cross(params: Params) -> tuple[str, int, int]:
    """(timeframe, fast, slow) of the EMA cross this tier reads (``ema_trend`` in the vocabulary)."""
    return params.timeframe, params.fast_ema, params.slow_ema


def evaluate(tier: Tier[Params], ctx: ExitContext) -> ExitSignal | None:
    trend = ctx.env.get("ema_trend")
    against = -ctx.position.sign
    if trend == against and ctx.position.trend_at_entry != against:
        return fire(tier, "SIGNAL_REVERSAL", ema_trend=trend, trend_at_entry=ctx.position.trend_at_entry)
    return None


def explain(signal: ExitSignal) -> str:
    return f"{signal.tier}: the EMA trend turned against the position ({signal.detail['ema_trend']:+d} now)"
