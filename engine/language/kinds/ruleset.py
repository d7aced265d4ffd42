"""Rule kind ``ruleset``: the rule set's name, symbols and default profile."""

from __future__ import annotations

from dataclasses import dataclass

from engine.language.kinds.base import BuildContext, Doc
from engine.language.schemagen.dsl import PROFILES, arr, document, obj, ref, text

KIND = "ruleset"
CODES = {
    "RB370": "a symbol is listed twice",
    "RB371": "more than one symbol has role leader",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Symbol:
    symbol: str
    base: str
    quote: str
    role: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Spec:
    name: str
    description: str
    default_profile: str
    symbols: tuple[Symbol, ...]

    @property
    def leader(self) -> str | None:
        return next((s.symbol for s in self.symbols if s.role == "leader"), None)

    def names(self) -> tuple[str, ...]:
        return tuple(s.symbol for s in self.symbols)


def build(doc: Doc, ctx: BuildContext) -> Spec:
    f = doc.frozen
    return Spec(
        name=f["name"],
        description=f["description"],
        default_profile=f["default_profile"],
        symbols=tuple(Symbol(**s) for s in f["symbols"]),
    )


def check(spec: Spec, doc: Doc, ctx: BuildContext) -> None:
    names = [s.symbol for s in spec.symbols]
    for index, name in enumerate(names):
        if name in names[:index]:
            ctx.report(doc, ("symbols", index, "symbol"), "RB370", f"symbol {name} is listed twice")
    leaders = [i for i, s in enumerate(spec.symbols) if s.role == "leader"]
    for index in leaders[1:]:
        ctx.report(
            doc,
            ("symbols", index, "role"),
            "RB371",
            "only one symbol may be the leader",
            suggestion="make it a follower",
        )


def schema() -> dict:
    """The JSON Schema of a `ruleset` rule file (written to schemas/ruleset.schema.json)."""
    symbol = obj(
        "One tradable symbol.",
        {
            "symbol": ref("symbol", "rulebot's name for the market.", "symbol"),
            "base": text("Base asset, e.g. BTC.", pattern=r"^[A-Z0-9]{2,10}$"),
            "quote": text("Quote asset, e.g. USDT.", pattern=r"^[A-Z0-9]{2,10}$"),
            "role": text(
                "`leader` symbols lead the others in the lead-lag component; at most one.",
                enum=["leader", "follower"],
                default="follower",
            ),
        },
    )
    return document(
        "ruleset",
        "ruleset",
        "The rule set's front page: its name, symbols and default profile.",
        {
            "name": text("Name of this rule set.", pattern=r"^[a-z0-9][a-z0-9_.\-]{0,63}$"),
            "description": text("What this rule set is for.", max_length=2000, default=""),
            "default_profile": text("Profile used when none is named.", enum=PROFILES),
            "symbols": arr("Symbols this rule set may trade.", symbol, min_items=1, max_items=50),
        },
    )
