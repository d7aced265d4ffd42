"""The range a numeric expression can take, from the ranges of its inputs (interval arithmetic).

Static analysis needs it where a rule's meaning depends on a bound: the exit checks ask how
late a closing condition such as ``hold_s > optimal_hold_s * 2`` fires at the latest. Sound,
not tight: every value the expression can evaluate to lies in the answer; an expression the
analysis cannot bound (an input without a range, a division by a range holding zero, a
function it does not know) gives None.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping

Range = tuple[float, float]  # (lowest, highest), inclusive


def parse(text: str) -> ast.expr:
    """The tree of an expression that already passed the checks (``compile_expression``)."""
    return ast.parse(text.strip(), mode="eval").body


def names_in(node: ast.expr) -> frozenset[str]:
    """The inputs the expression reads (function names excluded)."""
    calls = {id(n.func) for n in ast.walk(node) if isinstance(n, ast.Call)}
    return frozenset(n.id for n in ast.walk(node) if isinstance(n, ast.Name) and id(n) not in calls)


def bounds(node: ast.expr, ranges: Mapping[str, Range]) -> Range | None:
    """The range of ``node`` when each input named in ``ranges`` stays within its range."""
    if isinstance(node, ast.Constant):
        value = node.value
        return None if isinstance(value, bool) or not isinstance(value, (int, float)) else (value, value)
    if isinstance(node, ast.Name):
        return ranges.get(node.id)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.UAdd, ast.USub)):
        inner = bounds(node.operand, ranges)
        if inner is None or isinstance(node.op, ast.UAdd):
            return inner
        return (-inner[1], -inner[0])
    if isinstance(node, ast.BinOp):
        return _binop(node, ranges)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("min", "max"):
        parts = [bounds(arg, ranges) for arg in node.args]
        if any(p is None for p in parts):
            return None
        known = [p for p in parts if p is not None]
        pick = min if node.func.id == "min" else max
        return (pick(p[0] for p in known), pick(p[1] for p in known))
    return None


def _binop(node: ast.BinOp, ranges: Mapping[str, Range]) -> Range | None:
    left, right = bounds(node.left, ranges), bounds(node.right, ranges)
    if left is None or right is None:
        return None
    (a, b), (c, d) = left, right
    if isinstance(node.op, ast.Add):
        return (a + c, b + d)
    if isinstance(node.op, ast.Sub):
        return (a - d, b - c)
    if isinstance(node.op, ast.Mult):
        products = (a * c, a * d, b * c, b * d)
        return (min(products), max(products))
    if isinstance(node.op, ast.Div) and (c > 0 or d < 0):
        quotients = (a / c, a / d, b / c, b / d)
        return (min(quotients), max(quotients))
    return None
