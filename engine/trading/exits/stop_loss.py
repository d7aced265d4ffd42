"""Stop loss (seed "Stop Losses"): closes at −loss_pct, every cycle, no grace window."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.language.schemagen.dsl import Schema, element, learnable, num, text
from engine.trading.exits.base import ExitContext, ExitSignal, Tier, fire

if TYPE_CHECKING:
    from engine.language.kinds.base import BuildContext, Doc

KIND = "stop_loss"
SUMMARY = "Closes at a fixed loss; ignores grace windows."
REASONS = ("STOP_LOSS",)
STOP_LOSS_FIELD = "loss_pct"  # this tier is a stop: sizing and the liquidation buffer read this field


@dataclass(frozen=True, slots=True, kw_only=True)
class Params:
    loss_pct: float  # positive: the position closes at P&L ≤ −loss_pct
    placement: str  # "exchange" (resting stop order plus the bot-side check) or "bot"


def schema() -> Schema:
    return element(
        KIND,
        SUMMARY,
        {
            "loss_pct": learnable(
                num("Loss that closes the position (positive number).", "%", exclusive_minimum=0, maximum=100)
            ),
            "placement": text(
                "`exchange`: a resting stop order plus a bot-side check; `bot`: bot-side only.",
                enum=["exchange", "bot"],
            ),
        },
    )


def compile_params(raw: Mapping[str, Any]) -> Params:
    return Params(loss_pct=raw["loss_pct"], placement=raw["placement"])


def check(params: Params, doc: Doc, path: tuple[Any, ...], ctx: BuildContext) -> None:
    """Nothing of its own: the stop against liquidation is checked with the risk file (RB345)."""


def expressions(params: Params) -> dict[str, tuple[Any, ...]]:
    return {}


def evaluate(tier: Tier[Params], ctx: ExitContext) -> ExitSignal | None:
    limit = tier.params.loss_pct
    if ctx.pnl_pct <= -limit:
        return fire(tier, "STOP_LOSS", pnl_pct=ctx.pnl_pct, loss_pct=limit)
    return None


def explain(signal: ExitSignal) -> str:
    detail = signal.detail
    return f"{signal.tier}: P&L {detail['pnl_pct']:+.4g} % is at or below the stop at -{detail['loss_pct']:g} %"
