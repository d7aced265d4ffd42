"""Builds the scalar evaluator: a tree of closures made once at compile time.

Rules are evaluated for every market on every tick, so the hot path is plain closures
over plain floats: no eval(), no per-call dict copies, no isinstance checks. The common
shapes (``name < 30``, ``a and b and c``) get dedicated closures because each avoided
Python call is a measurable share of a ~0.5 us evaluation.

Numeric policy (same as ``vectorized``): an input that is NaN or +-inf, a division by
zero and an arithmetic result that is not finite raise :class:`RuleNumericError`.
``r - r`` is the finiteness test: it is 0.0 for finite r and NaN (truthy) otherwise.
A missing input raises KeyError here; ``CompiledExpression`` turns it into
``MissingInputError``. Only inputs that evaluation reaches are read (``and``/``or``
and ``if ... else`` short-circuit as in Python).
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable
from operator import itemgetter
from typing import Any, cast

from engine.common.errors import RuleNumericError

from .check import Checked, integer_literal
from .functions import FUNCTIONS
from .vocabulary import Vocabulary, previous_name

Fn = Callable[[Any], Any]

_OPS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}
_FLIPPED = {ast.Lt: ast.Gt, ast.LtE: ast.GtE, ast.Gt: ast.Lt, ast.GtE: ast.LtE, ast.Eq: ast.Eq, ast.NotEq: ast.NotEq}


class _Const:
    """A folded literal; combinators specialise on it at build time, never at run time."""

    __slots__ = ("value",)

    def __init__(self, value: Any):
        self.value = value


def build_scalar(checked: Checked, vocabulary: Vocabulary) -> Fn:
    return _as_fn(_Builder(checked.text, vocabulary).build(checked.root))


def bad_input(name: str, value: Any) -> RuleNumericError:
    return RuleNumericError(f"input {name!r} is {value!r}, not a finite number")


def _as_fn(item: Fn | _Const) -> Fn:
    if isinstance(item, _Const):
        value = item.value
        return lambda env: value
    return item


def _float_loader(name: str) -> Fn:
    def load(env):
        v = env[name]
        if v - v:
            raise bad_input(name, v)
        return v

    return load


# ``name <op> constant``: the dominant shape in rule files, with the load inlined.
def _lt(name, c):
    def f(env):
        v = env[name]
        if v - v:
            raise bad_input(name, v)
        return v < c

    return f


def _le(name, c):
    def f(env):
        v = env[name]
        if v - v:
            raise bad_input(name, v)
        return v <= c

    return f


def _gt(name, c):
    def f(env):
        v = env[name]
        if v - v:
            raise bad_input(name, v)
        return v > c

    return f


def _ge(name, c):
    def f(env):
        v = env[name]
        if v - v:
            raise bad_input(name, v)
        return v >= c

    return f


def _eq(name, c):
    def f(env):
        v = env[name]
        if v - v:
            raise bad_input(name, v)
        return v == c

    return f


def _ne(name, c):
    def f(env):
        v = env[name]
        if v - v:
            raise bad_input(name, v)
        return v != c

    return f


_NAME_CONST = {ast.Lt: _lt, ast.LtE: _le, ast.Gt: _gt, ast.GtE: _ge, ast.Eq: _eq, ast.NotEq: _ne}


class _Builder:
    def __init__(self, text: str, vocabulary: Vocabulary):
        self.text = text
        self.vocabulary = vocabulary

    def build(self, node: ast.expr) -> Fn | _Const:
        return getattr(self, "_" + type(node).__name__)(node)

    def fn(self, node: ast.expr) -> Fn:
        return _as_fn(self.build(node))

    def segment(self, node: ast.expr) -> str:
        text = ast.get_source_segment(self.text, node) or "expression"
        return text if len(text) <= 60 else text[:57] + "..."

    def _float_name(self, node: ast.expr) -> str | None:
        if isinstance(node, ast.Name) and self.vocabulary.names[node.id].type == "float":
            return node.id
        return None

    def _Constant(self, node: ast.Constant) -> _Const:
        value = node.value  # a checked tree's constants are numbers or booleans: no strings, None, complex
        return _Const(value if isinstance(value, bool) else float(cast(float, value)))

    def _Name(self, node: ast.Name) -> Fn:
        if self.vocabulary.names[node.id].type == "float":
            return _float_loader(node.id)
        return itemgetter(node.id)

    def _UnaryOp(self, node: ast.UnaryOp) -> Fn | _Const:
        operand = self.build(node.operand)
        if isinstance(node.op, ast.UAdd):
            return operand
        if isinstance(operand, _Const):  # -5 is a literal, not a run-time negation
            value = operand.value
            return _Const(not value if isinstance(node.op, ast.Not) else -value)
        if isinstance(node.op, ast.Not):
            return lambda env: not operand(env)
        return lambda env: -operand(env)

    def _BinOp(self, node: ast.BinOp) -> Fn:
        left, right = self.fn(node.left), self.build(node.right)
        where = self.segment(node)
        op = _OPS.get(type(node.op))
        if op is not None and isinstance(right, _Const):
            c = right.value

            def arithmetic_const(env):
                r = op(left(env), c)
                if r - r:
                    raise RuleNumericError(f"{where!r} is {r!r}")
                return r

            return arithmetic_const
        right = _as_fn(right)
        if isinstance(node.op, ast.Div):

            def divide(env):
                n = left(env)
                d = right(env)
                if not d:
                    raise RuleNumericError(f"division by zero in {where!r}")
                r = n / d
                if r - r:
                    raise RuleNumericError(f"{where!r} is {r!r}")
                return r

            return divide

        def arithmetic(env):
            r = op(left(env), right(env))
            if r - r:
                raise RuleNumericError(f"{where!r} is {r!r}")
            return r

        return arithmetic

    def _BoolOp(self, node: ast.BoolOp) -> Fn:
        parts = [self.fn(value) for value in node.values]
        return _all_of(parts) if isinstance(node.op, ast.And) else _any_of(parts)

    def _Compare(self, node: ast.Compare) -> Fn:
        if len(node.ops) == 1:
            return self._compare_one(node.ops[0], node.left, node.comparators[0])
        first = self.fn(node.left)
        steps = [(_OPS[type(op)], self.fn(right)) for op, right in zip(node.ops, node.comparators)]

        def chain(env):  # a < b < c: b is evaluated once; stop at the first False
            left = first(env)
            for op, right in steps:
                value = right(env)
                if not op(left, value):
                    return False
                left = value
            return True

        return chain

    def _compare_one(self, op: ast.cmpop, left_node: ast.expr, right_node: ast.expr) -> Fn:
        kind = type(op)
        left, right = self.build(left_node), self.build(right_node)
        if isinstance(right, _Const) and (name := self._float_name(left_node)):
            return _NAME_CONST[kind](name, right.value)
        if isinstance(left, _Const) and (name := self._float_name(right_node)):
            return _NAME_CONST[_FLIPPED[kind]](name, left.value)
        compare = _OPS[kind]
        left = _as_fn(left)
        if isinstance(right, _Const):
            c = right.value
            return lambda env: compare(left(env), c)
        return lambda env: compare(left(env), right(env))

    def _IfExp(self, node: ast.IfExp) -> Fn:
        test, body, orelse = self.fn(node.test), self.fn(node.body), self.fn(node.orelse)
        return lambda env: body(env) if test(env) else orelse(env)

    def _Call(self, node: ast.Call) -> Fn:
        name = cast(ast.Name, node.func).id  # a checked tree calls plain names only
        if name not in FUNCTIONS:  # prev(input): the value kept under previous_name(input)
            argument = cast(ast.Name, node.args[0]).id
            key = previous_name(argument)
            return _float_loader(key) if self.vocabulary.names[argument].type == "float" else itemgetter(key)
        spec = FUNCTIONS[name]
        impl = spec.scalar
        if spec.literal_args:  # pow(x, k): k is a compile-time integer
            k = integer_literal(node.args[1])
            x = self.fn(node.args[0])
            return lambda env: impl(x(env), k)
        args = [self.fn(arg) for arg in node.args]
        if len(args) == 1:
            (a,) = args
            return lambda env: impl(a(env))
        if len(args) == 2:
            a, b = args
            return lambda env: impl(a(env), b(env))
        if len(args) == 3:
            a, b, c = args
            return lambda env: impl(a(env), b(env), c(env))
        return lambda env: impl(*[arg(env) for arg in args])


def _all_of(parts: list[Fn]) -> Fn:
    """``a and b and …``, short-circuiting; the common two- and three-part forms are
    unrolled, which saves a loop on the hot gate and exit expressions."""
    if len(parts) == 2:
        a, b = parts
        return lambda env: a(env) and b(env)
    if len(parts) == 3:
        a, b, c = parts
        return lambda env: a(env) and b(env) and c(env)

    def all_of(env):
        return all(part(env) for part in parts)

    return all_of


def _any_of(parts: list[Fn]) -> Fn:
    """``a or b or …``, short-circuiting (two parts unrolled)."""
    if len(parts) == 2:
        a, b = parts
        return lambda env: a(env) or b(env)

    def any_of(env):
        return any(part(env) for part in parts)

    return any_of
