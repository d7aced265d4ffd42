"""Builds the numpy evaluator: the same checked tree, evaluated elementwise on arrays.

Used by backtests over whole price histories. Element i of the result equals the scalar
evaluation on element i of every input, including faults: every closure takes an
``active`` mask (None = every element) of the elements the scalar path would evaluate
there, and numeric faults count only on active elements. So ``b != 0 and a / b > 1`` or
``a / b if b != 0 else 0`` do not fault where b == 0, exactly as in the scalar path;
a branch with no active element is not evaluated at all (so its inputs are not read).

The closures are built at compile time without numpy; ``np`` is bound on first use.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Mapping
from typing import Any, cast

from . import functions
from .check import Checked, integer_literal
from .functions import FUNCTIONS, check_finite, raise_if_any
from .vocabulary import Vocabulary, previous_name

np: Any = None  # numpy, bound by evaluate()

VFn = Callable[[Mapping[str, Any], Any], Any]

_ARITHMETIC = {ast.Add: "add", ast.Sub: "subtract", ast.Mult: "multiply"}
_COMPARE = {
    ast.Lt: "less",
    ast.LtE: "less_equal",
    ast.Gt: "greater",
    ast.GtE: "greater_equal",
    ast.Eq: "equal",
    ast.NotEq: "not_equal",
}


def evaluate(fn: VFn, env: Mapping[str, Any], names: Iterable[str], result_type: str) -> Any:
    """Run a vector closure tree.

    The result has the broadcast shape of the inputs the expression uses; an expression
    that uses none (``1 < 2``) takes the broadcast shape of everything in ``env``.
    """
    global np
    np = functions.load_numpy()
    with np.errstate(all="ignore"):  # faults are detected explicitly, never as warnings
        out = fn(env, None)
    used = [name for name in names if name in env] or list(env)
    shape = np.broadcast_shapes(*(np.shape(env[name]) for name in used))
    dtype = bool if result_type == "bool" else np.float64
    return np.array(np.broadcast_to(np.asarray(out, dtype=dtype), shape))


def build_vector(checked: Checked, vocabulary: Vocabulary) -> VFn:
    return _Builder(checked.text, vocabulary).build(checked.root)


def _narrow(active: Any, condition: Any) -> Any:
    return condition if active is None else np.logical_and(active, condition)


class _Builder:
    def __init__(self, text: str, vocabulary: Vocabulary):
        self.text = text
        self.vocabulary = vocabulary

    def build(self, node: ast.expr) -> VFn:
        return getattr(self, "_" + type(node).__name__)(node)

    def segment(self, node: ast.expr) -> str:
        text = ast.get_source_segment(self.text, node) or "expression"
        return text if len(text) <= 60 else text[:57] + "..."

    def _Constant(self, node: ast.Constant) -> VFn:
        # a checked tree's constants are numbers or booleans: check refused strings, None, complex
        value = node.value if isinstance(node.value, bool) else float(cast(float, node.value))
        return lambda env, active: value

    def _Name(self, node: ast.Name) -> VFn:
        return self._load(node.id, node.id)

    def _load(self, name: str, key: str) -> VFn:
        """Loads ``env[key]``, typed as input ``name`` (``key`` differs for prev(name))."""
        if self.vocabulary.names[name].type == "bool":
            return lambda env, active: np.asarray(env[key], dtype=bool)
        message = f"input {key!r} is not a finite number"

        def load(env, active):
            value = np.asarray(env[key], dtype=np.float64)
            raise_if_any(~np.isfinite(value), active, message)
            return value

        return load

    def _UnaryOp(self, node: ast.UnaryOp) -> VFn:
        operand = self.build(node.operand)
        if isinstance(node.op, ast.UAdd):
            return operand
        if isinstance(node.op, ast.Not):
            return lambda env, active: np.logical_not(operand(env, active))
        return lambda env, active: np.negative(operand(env, active))

    def _BinOp(self, node: ast.BinOp) -> VFn:
        left, right = self.build(node.left), self.build(node.right)
        where = self.segment(node)
        message = f"{where!r} is not finite"
        if isinstance(node.op, ast.Div):
            zero = f"division by zero in {where!r}"

            def divide(env, active):
                n = left(env, active)
                d = right(env, active)
                raise_if_any(np.equal(d, 0), active, zero)
                return check_finite(np.true_divide(n, d), active, message)

            return divide
        name = _ARITHMETIC[type(node.op)]

        def arithmetic(env, active):
            op = getattr(np, name)
            return check_finite(op(left(env, active), right(env, active)), active, message)

        return arithmetic

    def _BoolOp(self, node: ast.BoolOp) -> VFn:
        first, *rest = [self.build(value) for value in node.values]
        is_and = isinstance(node.op, ast.And)

        def combine(env, active):
            result = first(env, active)
            for part in rest:  # later operands only run where Python would reach them
                narrowed = _narrow(active, result if is_and else np.logical_not(result))
                if not np.any(narrowed):
                    return result
                value = part(env, narrowed)
                result = np.logical_and(result, value) if is_and else np.logical_or(result, value)
            return result

        return combine

    def _Compare(self, node: ast.Compare) -> VFn:
        first = self.build(node.left)
        steps = [(_COMPARE[type(op)], self.build(right)) for op, right in zip(node.ops, node.comparators)]

        def chain(env, active):
            left = first(env, active)
            result = None
            for name, right in steps:
                narrowed = active
                if result is not None:
                    narrowed = _narrow(active, result)
                    if not np.any(narrowed):
                        return result
                value = right(env, narrowed)
                current = getattr(np, name)(left, value)
                result = current if result is None else np.logical_and(result, current)
                left = value
            return result

        return chain

    def _IfExp(self, node: ast.IfExp) -> VFn:
        test, body, orelse = self.build(node.test), self.build(node.body), self.build(node.orelse)

        def choose(env, active):
            condition = test(env, active)
            yes = _narrow(active, condition)
            no = _narrow(active, np.logical_not(condition))
            a = body(env, yes) if np.any(yes) else False
            b = orelse(env, no) if np.any(no) else False
            return np.where(condition, a, b)

        return choose

    def _Call(self, node: ast.Call) -> VFn:
        name = cast(ast.Name, node.func).id  # a checked tree calls plain names only
        if name not in FUNCTIONS:  # prev(input)
            argument = cast(ast.Name, node.args[0]).id
            return self._load(argument, previous_name(argument))
        spec = FUNCTIONS[name]
        impl = spec.vector
        if spec.literal_args:  # pow(x, k): k is a compile-time integer
            k = integer_literal(node.args[1])
            x = self.build(node.args[0])
            return lambda env, active: impl(active, x(env, active), k)
        args = [self.build(arg) for arg in node.args]
        return lambda env, active: impl(active, *[arg(env, active) for arg in args])
