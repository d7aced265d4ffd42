"""Rule kind ``requirements``: checks an entry must pass, and the operator policy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.language.kinds.base import BuildContext, Doc, check_unique_ids

KIND = "requirements"
CODES: dict[str, str] = {}


@dataclass(frozen=True, slots=True, kw_only=True)
class Check:
    id: str
    category: str
    when: Any  # CompiledExpression (bool): must hold to trade
    reason: str
    on_missing: str = "block"  # block | pass: what a missing input means


@dataclass(frozen=True, slots=True, kw_only=True)
class KillSwitch:
    active: bool
    max_drawdown_pct: float
    min_win_rate: float
    min_trades_for_win_rate: int
    max_reject_rate: float
    lookback: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Spec:
    checks: tuple[Check, ...]  # only those that apply to the compiled profile
    alpha_trading_enabled: bool
    enabled_symbols: tuple[str, ...]
    freeze_entries: bool
    kill_switch: KillSwitch


def build(doc: Doc, ctx: BuildContext) -> Spec:
    checks = tuple(
        Check(
            id=raw["id"],
            category=raw["category"],
            reason=raw["reason"],
            on_missing=raw["on_missing"],
            when=ctx.expression(doc, ("checks", index, "when"), "requirement"),
        )
        for index, raw in enumerate(doc.frozen["checks"])
        if ctx.profile in raw["profiles"]
    )
    policy = doc.frozen["policy"]
    return Spec(
        checks=checks,
        alpha_trading_enabled=policy["alpha_trading_enabled"],
        enabled_symbols=tuple(policy["enabled_symbols"]),
        freeze_entries=policy["freeze_entries"],
        kill_switch=KillSwitch(**policy["kill_switch"]),
    )


def check(spec: Spec, doc: Doc, ctx: BuildContext) -> None:
    check_unique_ids(doc, ("checks",), ctx, "requirement")
