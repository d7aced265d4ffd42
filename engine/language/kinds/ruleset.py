"""Rule kind ``ruleset``: the rule set's name, symbols and default profile."""

from __future__ import annotations

from dataclasses import dataclass

from engine.language.kinds.base import BuildContext, Doc

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
