"""Valid expressions: results, scalar/vector agreement, the compiled object and the API."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

import engine.language.expr as expr
from engine.language.expr import CODES, FUNCTIONS, CompiledExpression, NameSpec, Vocabulary, compile_expression

ENV = {
    "a": 10.0,
    "b": 3.0,
    "c": 0.0,
    "d": -2.5,
    "funding_rate_z": 2.5,
    "oi_velocity_pct": 0.7,
    "price_usd": 64000.0,
    "rsi": 28.0,
    "p": True,
    "q": False,
    "is_perp": True,
}

# (expression, expected result); bool expressions and float expressions mixed.
CASES = [
    ("a < 30 and b > 2 and c >= 0", True),
    ("funding_rate_z > 2 and oi_velocity_pct > 0.5", True),
    ("rsi < 30 or rsi > 70", True),
    ("not (a > 5)", False),
    ("a + b * 2", 16.0),
    ("(a + b) * 2", 26.0),
    ("a / b", 10.0 / 3.0),
    ("-a + +b", -7.0),
    ("--a", 10.0),
    ("a - b - d", 9.5),
    ("1 < a < 20", True),
    ("1 < a < 5", False),
    ("c <= c == 0 != 1", True),
    ("a if p else b", 10.0),
    ("a if q else b", 3.0),
    ("p if a > b else q", True),
    ("p == q", False),
    ("p != q", True),
    ("p == (a > 1)", True),
    ("True", True),
    ("False or p", True),
    ("p and q or is_perp", True),
    ("abs(d)", 2.5),
    ("min(a, b)", 3.0),
    ("max(a, b, c, d)", 10.0),
    ("min(a, b, c, d, 1, 2, 3, 4)", -2.5),
    ("clip(a, 0, 5)", 5.0),
    ("clip(d, 0, 5)", 0.0),
    ("clip(b, 0, 5)", 3.0),
    ("sign(d) + sign(c) + sign(a)", 0.0),
    ("sqrt(a * 10)", 10.0),
    ("log(1)", 0.0),
    ("log1p(0)", 0.0),
    ("exp(0)", 1.0),
    ("pow(b, 2)", 9.0),
    ("pow(b, -2)", 1.0 / 9.0),
    ("pow(d, 3)", -15.625),
    ("pow(a, 0)", 1.0),
    ("pow(c, 0)", 1.0),
    ("pow(2, 16)", 65536.0),
    ("between(rsi, 20, 30)", True),
    ("between(rsi, 30, 20)", False),
    ("price_usd / 1000 > 60", True),
    ("1e15 > price_usd", True),
    ("0.5 * a < b", False),
    ("30 > a", True),
    ("10 < a", False),
    ("10 <= a", True),
    ("10 > a", False),
    ("10 >= a", True),
    ("10 == a", True),
    ("10 != a", False),
    ("a < 10", False),
    ("a <= 10", True),
    ("a >= 10 and 10 <= a and a == 10 and 10 == a and a != 9 and 9 != a", True),
    ("(a if p else b) + (b if q else a)", 20.0),
    ("not not p", True),
    ("1 + 2", 3.0),
    ("a / b / 2", 10.0 / 3.0 / 2),
    ("p and q", False),
    ("p or q or is_perp or a > 1", True),
    ("p and is_perp and a > 1 and b > 1", True),
]


@pytest.mark.parametrize("text, expected", CASES)
def test_scalar_result(vocab, text, expected):
    compiled, diagnostics = compile_expression(text, vocab, expect=type(expected).__name__)
    assert diagnostics == []
    result = compiled(ENV)
    assert type(result) is type(expected)
    if isinstance(expected, float):
        assert result == pytest.approx(expected, rel=1e-15)
    else:
        assert result is expected


@pytest.mark.parametrize("text, expected", CASES)
def test_vector_matches_scalar(vocab, text, expected):
    """Three rows: ENV itself and two perturbed copies, each compared with the scalar path."""
    compiled, _ = compile_expression(text, vocab, expect=type(expected).__name__)
    rows = [ENV, {**ENV, "a": 1.5, "p": False}, {**ENV, "b": 40.0, "rsi": 75.0, "q": True}]
    columns = {name: np.array([row[name] for row in rows]) for name in ENV}
    result = compiled.vector(columns)
    assert result.shape == (3,)
    assert result.dtype == (np.bool_ if isinstance(expected, bool) else np.float64)
    assert result.tolist() == [compiled(row) for row in rows]


def test_compiled_metadata(vocab):
    compiled, _ = compile_expression("funding_rate_z > 2 and sqrt(a) < b", vocab)
    assert compiled.source == "funding_rate_z > 2 and sqrt(a) < b"
    assert compiled.names == frozenset({"funding_rate_z", "a", "b"})
    assert compiled.result_type == "bool"
    # BoolOp, Compare x2, funding_rate_z, 2, a, b = 7 nodes at weight 1, plus sqrt at weight 3
    assert compiled.cost == 7 + FUNCTIONS["sqrt"].cost
    assert "funding_rate_z" in repr(compiled)


def test_cost_weights_functions(vocab):
    cheap, _ = compile_expression("abs(a)", vocab, expect="float")
    dear, _ = compile_expression("log(a)", vocab, expect="float")
    assert dear.cost - cheap.cost == FUNCTIONS["log"].cost - FUNCTIONS["abs"].cost


def test_compiled_is_immutable(vocab):
    compiled, _ = compile_expression("a > 1", vocab)
    with pytest.raises(dataclasses.FrozenInstanceError):
        compiled.source = "a > 2"
    assert isinstance(compiled, CompiledExpression)


def test_int_literals_become_floats(vocab):
    compiled, _ = compile_expression("1 + 2", vocab, expect="float")
    assert type(compiled({})) is float


def test_float_expression(vocab):
    compiled, diagnostics = compile_expression("a * 2 + b", vocab, expect="float")
    assert diagnostics == [] and compiled.result_type == "float"


def test_expect_must_be_known(vocab):
    with pytest.raises(ValueError):
        compile_expression("a > 1", vocab, expect="int")


def test_multiline_expression_compiles(vocab):
    compiled, diagnostics = compile_expression("(a > 1\n and b > 2)", vocab)
    assert diagnostics == [] and compiled(ENV) is True


def test_surrounding_whitespace_is_ignored(vocab):
    compiled, diagnostics = compile_expression("  a > 1  \n", vocab)
    assert diagnostics == [] and compiled(ENV) is True


def test_vector_broadcasts_scalars_and_constant_results(vocab):
    compiled, _ = compile_expression("a > b", vocab)
    assert compiled.vector({"a": np.array([1.0, 5.0]), "b": 2.0}).tolist() == [False, True]
    constant, _ = compile_expression("1 < 2", vocab)
    assert constant.vector({}).shape == () and bool(constant.vector({})) is True
    assert constant.vector({"a": np.zeros(4)}).tolist() == [True] * 4


def test_vector_accepts_2d_arrays(vocab):
    compiled, _ = compile_expression("a / b", vocab, expect="float")
    a = np.arange(1.0, 7.0).reshape(2, 3)
    np.testing.assert_array_equal(compiled.vector({"a": a, "b": 2.0}), a / 2)


def test_pow_is_bit_identical_between_paths(vocab):
    compiled, _ = compile_expression("pow(a, 13) + pow(b, -7)", vocab, expect="float")
    xs = np.linspace(0.1, 7.3, 50)
    vector = compiled.vector({"a": xs, "b": xs[::-1]})
    assert vector.tolist() == [compiled({"a": x, "b": y}) for x, y in zip(xs.tolist(), xs[::-1].tolist())]


# --- vocabulary ----------------------------------------------------------------------------


def test_vocabulary_is_read_only(vocab):
    with pytest.raises(TypeError):
        vocab.names["x"] = NameSpec("x", "float", "", "")
    assert hash(vocab) == hash(Vocabulary.of(*vocab.names.values()))


def test_vocabulary_merge():
    one = Vocabulary.of(NameSpec("x", "float", "USD", "price"))
    two = Vocabulary.of(NameSpec("y", "bool", "", "flag"), NameSpec("x", "float", "USD", "price"))
    assert sorted(one.merged(two).names) == ["x", "y"]
    with pytest.raises(ValueError, match="declared twice"):
        one.merged(Vocabulary.of(NameSpec("x", "float", "%", "other")))


def test_vocabulary_rejects_bad_names():
    for bad in ("1x", "a-b", "lambda", "__class__", "x\u0430", "True"):
        with pytest.raises(ValueError):
            NameSpec(bad, "float", "", "")
    with pytest.raises(ValueError):
        NameSpec("x", "int", "", "")
    with pytest.raises(ValueError, match="shadow"):
        Vocabulary.of(NameSpec("abs", "float", "", ""))


def test_json_schema_annotations():
    vocabulary = Vocabulary.of(NameSpec("z", "bool", "", "flag"), NameSpec("price", "float", "USD", "last"))
    assert vocabulary.as_json_schema_annotations() == {
        "price": {"type": "number", "unit": "USD", "description": "last"},
        "z": {"type": "boolean", "unit": "", "description": "flag"},
    }


def test_same_text_different_vocabulary_types():
    floats = Vocabulary.of(NameSpec("x", "float", "", ""), NameSpec("y", "float", "", ""))
    bools = Vocabulary.of(NameSpec("x", "bool", "", ""), NameSpec("y", "bool", "", ""))
    f, _ = compile_expression("x == y", floats)
    b, _ = compile_expression("x == y", bools)
    assert f({"x": 1.0, "y": 1.0}) is True and b({"x": True, "y": False}) is False


# --- registry and codes ----------------------------------------------------------------------


def test_function_registry_is_read_only_and_documented():
    assert set(FUNCTIONS) == {"abs", "min", "max", "clip", "sign", "sqrt", "log", "log1p", "exp", "pow", "between"}
    with pytest.raises(TypeError):
        FUNCTIONS["eval"] = FUNCTIONS["abs"]
    for name, spec in FUNCTIONS.items():
        assert spec.name == name and spec.description and spec.signature.startswith(name + "(")
        assert spec.cost >= 1 and spec.result_type in ("float", "bool")
    assert (FUNCTIONS["min"].min_args, FUNCTIONS["min"].max_args) == (2, 8)


def test_scalar_twins_match_math():
    assert FUNCTIONS["sqrt"].scalar(2.0) == math.sqrt(2.0)
    assert FUNCTIONS["between"].scalar(1.0, 1.0, 1.0) is True


def test_codes_are_documented():
    assert all(code.startswith("RB4") and len(code) == 5 for code in CODES)
    assert len(set(CODES.values())) == len(CODES)


def test_public_api():
    assert set(expr.__all__) >= {
        "compile_expression",
        "CompiledExpression",
        "Vocabulary",
        "NameSpec",
        "CODES",
        "FUNCTIONS",
        "MissingInputError",
    }
