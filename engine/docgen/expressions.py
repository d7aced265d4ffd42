"""Where the rules hold expressions, which vocabulary context each reads, and real examples of
what the expression compiler rejects and what evaluation raises."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from engine.docgen.defaults import Defaults
from engine.docgen.schema_walk import Schema, common_name, join_path, schema_of, variants

#: Where each kind's expressions are read: schema path → vocabulary context (the context the
#: kind module passes to ``ctx.expression``). tests/test_docs.py checks it covers every
#: expression field of the schemas; an unmapped field is shown as context "unmapped".
EXPRESSION_CONTEXTS = {
    ("signals", "components[].overrides[].when"): "signal",
    ("signals", "components[].params.long_when"): "component",
    ("signals", "components[].params.short_when"): "component",
    ("signals", "components[].params.confidence"): "component",
    ("gates", "expected_edge"): "gate",
    ("gates", "chain[].profit_gates[].when"): "gate",
    ("requirements", "checks[].when"): "requirement",
    ("exits", "tiers[].actions[].when"): "exit",
    ("exits", "tiers[].when"): "exit",
}

#: Rejected constructs shown in expressions.md: (what, example). Compiled for real at generation.
REJECTED_EXAMPLES = [
    ("attribute access", "price.real > 1"),
    ("indexing, slicing", "price[0] > 1"),
    ("the `**` operator", "price ** 2 > 1"),
    ("strings", '"BTC" == "BTC"'),
    ("comprehensions", "[p for p in price]"),
    ("lambda", "lambda: price"),
    ("shifts", "price << 2 > 1"),
    ("`%`, `//`, bitwise `&` `|` `^` `~`", "price % 2 > 1"),
    ("`in`, `is`", "price in (1, 2)"),
    ("assignment, keyword arguments, containers", "(x := price) > 1"),
    ("unknown names", "fear_gred < 20"),
    ("unknown functions", "ceil(price) > 1"),
    ("wrong number of arguments", "min(price) > 1"),
    ("numbers where a bool belongs", "price > 1 and 2"),
    ("a float where the field wants a bool", "price * 2"),
    ("pow() with a non-literal or large exponent", "pow(price, 17) > 1"),
    ("huge literals", "open_interest_usd > 1e16"),
    ("a constant part that always faults", "price / (2 - 2) > 1"),
    ("non-ASCII look-alikes", "price\u2019 > 1"),
    ("deep nesting", "(" * 33 + "price" + ")" * 33 + " > 1"),
]

#: Run-time faults shown in expressions.md: (expression, context, inputs).
FAULT_EXAMPLES: list[tuple[str, str, dict[str, float]]] = [
    ("liq_volume_usd / open_interest_usd > 0.01", "signal", {"liq_volume_usd": 5e6, "open_interest_usd": 0.0}),
    ("log(funding_rate) < -5", "signal", {"funding_rate": -0.0001}),
    ("fear_greed < 20", "signal", {"fear_greed": float("nan")}),
    ("fear_greed < 20", "signal", {}),
]


@dataclass(frozen=True)
class Field:
    """A schema field that holds an expression."""

    kind: str
    path: str
    result: str  # "bool" or "float"
    context: str  # vocabulary context, or "unmapped"
    mapped: bool  # whether EXPRESSION_CONTEXTS names its context


@dataclass(frozen=True)
class Site:
    """An expression written in the default rules."""

    kind: str
    path: str
    context: str
    file: str
    line: int
    text: str


@dataclass(frozen=True)
class Rejection:
    """What the compiler says about a construct outside the allow-list."""

    what: str
    text: str
    code: str
    col: int
    message: str


@dataclass(frozen=True)
class Fault:
    """What evaluating a compiled expression on some inputs gives: a result or an exception."""

    text: str
    inputs: dict[str, float]
    result: str  # repr of the value, or "—"
    error: str  # "Type: message", or "—"


def context_of(kind: str, path: str) -> str:
    return EXPRESSION_CONTEXTS.get((kind, path), "unmapped")


def expression_fields(kind: str) -> dict[str, str]:
    """Schema path → result type ("bool" / "float") of every expression field of ``kind``."""
    root = schema_of(kind)
    found: dict[str, str] = {}

    def visit(node: Schema, prefix: str) -> None:
        for name, sub in node.get("properties", {}).items():
            here = join_path(prefix, name)
            if common_name(sub) == "expression":
                found[here] = sub.get("x-expression", "bool")
            elif sub.get("type") == "array":
                items = sub["items"]
                for variant in variants(items, root).values():
                    visit(variant, f"{here}[]")
                if items.get("type") == "object":
                    visit(items, f"{here}[]")
            elif sub.get("type") == "object":
                visit(sub, here)

    visit(root, "")
    return found


def fields_of(kind: str) -> list[Field]:
    return [
        Field(kind, path, result, context_of(kind, path), (kind, path) in EXPRESSION_CONTEXTS)
        for path, result in expression_fields(kind).items()
    ]


def all_fields() -> list[Field]:
    """Every expression field, in kind order."""
    from engine.language.loader import ALL_KINDS

    return [field for kind in ALL_KINDS for field in fields_of(kind)]


def expression_sites(defaults: Defaults) -> list[Site]:
    """Every expression in the default rules, in file and line order."""
    found = []
    for kind, data in defaults.data.items():
        root = schema_of(kind)
        for schema_path, raw_path, text in _expressions(data, root, root, "", ()):
            where = defaults.locate[kind](raw_path)
            found.append(
                Site(kind, schema_path, context_of(kind, schema_path), defaults.files[kind][0], where.line, text)
            )
    return sorted(found, key=lambda s: (s.file, s.line))


def _expressions(
    data: Any, node: Schema, root: Schema, prefix: str, raw: tuple[str | int, ...]
) -> Iterator[tuple[str, tuple[str | int, ...], str]]:
    """(schema path, raw data path, text) of every expression inside ``data``."""
    if common_name(node) == "expression" and isinstance(data, str):
        yield prefix, raw, data
        return
    if isinstance(data, dict) and node.get("type") == "object":
        found = variants(node, root)
        if found and data.get("kind") in found:
            node = found[data["kind"]]
        for key, value in data.items():
            sub = node.get("properties", {}).get(key)
            if sub is None and isinstance(node.get("additionalProperties"), dict):
                sub = node["additionalProperties"]
            if sub is not None:
                yield from _expressions(value, sub, root, join_path(prefix, key), raw + (key,))
    elif isinstance(data, list) and node.get("type") == "array":
        for index, value in enumerate(data):
            yield from _expressions(value, node["items"], root, f"{prefix}[]", raw + (index,))


def rejections() -> list[Rejection]:
    """:data:`REJECTED_EXAMPLES` compiled in the ``gate`` context: the first problem of each."""
    from engine.language.expr import compile_expression
    from engine.language.vocabulary import CONTEXTS

    found = []
    for what, text in REJECTED_EXAMPLES:
        _, problems = compile_expression(text, CONTEXTS["gate"], expect="bool")
        first = problems[0]
        message = (
            first.message
            if not first.suggestion or first.suggestion in first.message
            else f"{first.message} ({first.suggestion})"
        )
        found.append(Rejection(what, text, first.code, first.col, message))
    return found


def faults() -> list[Fault]:
    """:data:`FAULT_EXAMPLES` evaluated: what each returns or raises."""
    from engine.language.expr import compile_expression
    from engine.language.vocabulary import CONTEXTS

    found = []
    for text, context, env in FAULT_EXAMPLES:
        compiled, problems = compile_expression(text, CONTEXTS[context], expect="bool")
        if compiled is None:
            raise ValueError(f"FAULT_EXAMPLES: {text!r} does not compile: {problems}")
        try:
            result, error = repr(compiled(env)), "—"
        except Exception as exc:
            result, error = "—", f"{type(exc).__name__}: {exc}"
        found.append(Fault(text, env, result, error))
    return found
