"""Property tests over random expression trees.

* scalar path vs simpleeval (an independent evaluator of the same Python syntax, given the
  same numeric policy): checks precedence, chaining, short-circuiting and the functions;
* vector path vs scalar path, elementwise, including which inputs fault.
"""

from __future__ import annotations

import ast
import math
import operator
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from simpleeval import SimpleEval

from engine.common.errors import RuleNumericError
from engine.language.expr import compile_expression
from tests.expr.exprgen import BOOL_NAMES, FLOAT_NAMES, ExpressionGenerator, random_env

ORACLE_ERRORS = (ZeroDivisionError, ValueError, OverflowError)


def _finite(op):
    def apply(x, y):
        result = op(x, y)
        if isinstance(result, float) and not math.isfinite(result):
            raise OverflowError(f"{result}")
        return result

    return apply


def _pow(x, k):
    p = x ** abs(k)  # OverflowError on overflow
    if k >= 0:
        return p
    if p == 0:
        raise ZeroDivisionError("pow")
    return _finite(operator.truediv)(1.0, p)


def _clip(x, lo, hi):
    if lo > hi:
        raise ValueError("clip")
    return min(max(x, lo), hi)


ORACLE_FUNCTIONS = {
    "abs": abs,
    "min": min,
    "max": max,
    "clip": _clip,
    "sign": lambda x: (x > 0) - (x < 0),
    "sqrt": math.sqrt,
    "pow": _pow,
    "log": math.log,
    "log1p": math.log1p,
    "exp": math.exp,
    "between": lambda x, lo, hi: lo <= x <= hi,
}
ORACLE_OPERATORS = {
    ast.Add: _finite(operator.add),
    ast.Sub: _finite(operator.sub),
    ast.Mult: _finite(operator.mul),
    ast.Div: _finite(operator.truediv),
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
    ast.Not: operator.not_,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}


def oracle(text: str, env: dict):
    return SimpleEval(operators=ORACLE_OPERATORS, functions=ORACLE_FUNCTIONS, names=env).eval(text)


def outcome(fn, env):
    """("ok", value) or ("fault", None): the comparable result of one evaluation."""
    try:
        return "ok", fn(env)
    except (RuleNumericError, *ORACLE_ERRORS):
        return "fault", None


def same_value(got, expected, *, approx: bool) -> bool:
    if isinstance(expected, bool) or isinstance(got, bool):
        return got is expected
    if approx:
        return math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-12)
    return got == expected


def compile_random(vocab, generator: ExpressionGenerator, kind: str):
    """A random expression that compiles (rarely a draw exceeds the node limit, or a constant
    part always faults (RB419, e.g. ``log(-2)``); skip it)."""
    while True:
        text = generator.expression(kind)
        compiled, diagnostics = compile_expression(text, vocab, expect=kind)
        if compiled is not None:
            return text, compiled
        assert {d.code for d in diagnostics} <= {"RB405", "RB402", "RB419"}, (text, diagnostics)


@pytest.mark.parametrize("transcendental", [False, True])
def test_scalar_matches_simpleeval(vocab, transcendental):
    rng = random.Random(20240517 + transcendental)
    generator = ExpressionGenerator(rng, transcendental=transcendental)
    checked = faults = 0
    for i in range(500):
        kind = "bool" if i % 2 else "float"
        text, compiled = compile_random(vocab, generator, kind)
        for _ in range(3):
            env = random_env(rng)
            got, expected = outcome(compiled, env), outcome(lambda e, text=text: oracle(text, e), env)
            assert got[0] == expected[0], (text, env, got, expected)
            if got[0] == "ok":
                assert same_value(got[1], expected[1], approx=True), (text, env, got, expected)
            checked += 1
            faults += got[0] == "fault"
    assert faults > 30 and checked - faults > 700  # both outcomes are really exercised


def _check_vector_against_scalar(compiled, rows, *, approx: bool) -> None:
    scalar = [outcome(compiled, row) for row in rows]
    columns = {name: np.array([row[name] for row in rows]) for name in rows[0]}
    try:
        vector = compiled.vector(columns).tolist()
    except RuleNumericError:
        assert any(kind == "fault" for kind, _ in scalar), (compiled.source, rows)
        return
    assert all(kind == "ok" for kind, _ in scalar), (compiled.source, rows, scalar)
    for got, (_, expected) in zip(vector, scalar):
        assert same_value(got, expected, approx=approx), (compiled.source, rows, vector, scalar)


@pytest.mark.parametrize("transcendental", [False, True])
def test_vector_matches_scalar_seeded(vocab, transcendental):
    rng = random.Random(7 + transcendental)
    generator = ExpressionGenerator(rng, transcendental=transcendental)
    for i in range(300):
        _, compiled = compile_random(vocab, generator, "bool" if i % 2 else "float")
        _check_vector_against_scalar(compiled, [random_env(rng) for _ in range(6)], approx=transcendental)


special = st.sampled_from([0.0, -0.0, 1.0, -1.0, 2.0, 0.5, 1e-300, 1e300, 709.0, 710.0])
finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False) | special
row = st.fixed_dictionaries({**dict.fromkeys(FLOAT_NAMES, finite), **{n: st.booleans() for n in BOOL_NAMES}})


@settings(max_examples=100, deadline=None, database=None)
@given(
    seed=st.integers(0, 2**32 - 1), kind=st.sampled_from(["bool", "float"]), rows=st.lists(row, min_size=1, max_size=8)
)
def test_vector_matches_scalar_hypothesis(vocab, seed, kind, rows):
    """Exact agreement (bit for bit) for the exactly rounded functions, faults included."""
    _, compiled = compile_random(vocab, ExpressionGenerator(random.Random(seed), max_depth=3), kind)
    _check_vector_against_scalar(compiled, rows, approx=False)


@settings(max_examples=100, deadline=None, database=None)
@given(text=st.text(alphabet=st.characters(codec="ascii"), max_size=60))
def test_arbitrary_ascii_never_raises(vocab, text):
    compiled, diagnostics = compile_expression(text, vocab)
    assert (compiled is None) == bool(diagnostics)


@settings(max_examples=100, deadline=None, database=None)
@given(text=st.text(max_size=40))
def test_arbitrary_unicode_never_raises(vocab, text):
    compiled, diagnostics = compile_expression(text, vocab)
    assert (compiled is None) == bool(diagnostics)
