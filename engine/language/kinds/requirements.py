"""Rule kind ``requirements``: checks an entry must pass, and the operator policy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.language.kinds.base import BuildContext, Doc, check_unique_ids
from engine.language.schemagen.dsl import (
    PROFILES,
    arr,
    boolean,
    document,
    duration,
    expression,
    identifier,
    num,
    obj,
    ref,
    text,
)

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


def schema() -> dict:
    """The JSON Schema of a `requirements` rule file (written to schemas/requirements.schema.json)."""
    check = obj(
        "One requirement.",
        {
            "id": identifier("Name of this check."),
            "category": text("Family of the check.", enum=["signal", "portfolio", "position", "market", "policy"]),
            "when": expression("Must be true to trade."),
            "reason": ref("reason_code", "Reason code when it fails.", "code"),
            "profiles": arr(
                "Profiles this check applies to; all when absent.",
                text("Profile.", enum=PROFILES),
                unique=True,
                min_items=1,
            )
            | {"default": PROFILES},
            "on_missing": text(
                "When an input of `when` is missing: `block` (fail closed, the default) or `pass` "
                "(for inputs some data sources never have, e.g. quotes in replayed candles).",
                enum=["block", "pass"],
                default="block",
            ),
        },
    )
    return document(
        "requirements",
        "requirements",
        "Checks an entry must pass (seed: Trading Requirements).",
        {
            "checks": arr("The checks; every one must hold.", check, min_items=1),
            "policy": obj(
                "Operator policy (seed: Signal Policy Check, Kill-Switch Check).",
                {
                    "alpha_trading_enabled": boolean("Master switch for new entries from alpha signals."),
                    "enabled_symbols": arr(
                        "Symbols that may open positions.", ref("symbol", "A symbol.", "symbol"), unique=True
                    ),
                    "freeze_entries": boolean("Freeze all new entries (exits still run)."),
                    "kill_switch": obj(
                        "Conditions that halt trading.",
                        {
                            "active": boolean("Operator kill switch: halts trading when true."),
                            "max_drawdown_pct": num(
                                "Drawdown from peak equity that halts trading.", "%", minimum=0, maximum=100
                            ),
                            "min_win_rate": num(
                                "Win rate below which trading halts.", "fraction", minimum=0, maximum=1
                            ),
                            "min_trades_for_win_rate": num(
                                "Trades needed before the win rate counts.", "count", minimum=1, integer=True
                            ),
                            "max_reject_rate": num(
                                "Rejected ÷ submitted orders that halts trading.", "fraction", minimum=0, maximum=1
                            ),
                            "lookback": duration("Window for these statistics.", positive=True),
                        },
                    ),
                },
            ),
        },
    )
