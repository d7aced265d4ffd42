"""RB419: a constant part of an expression that always faults is an error at compile time,
named by its text and column; the same text without the fault compiles."""

from __future__ import annotations

import pytest

from engine.common.errors import RuleNumericError
from engine.language.expr import compile_expression

# (text, expect, the faulting part, 1-based column of that part, what the message says)
FAULTS = [
    ("price_usd / 0 > 1", "bool", "price_usd / 0", 1, "division by zero"),
    ("a / (2 - 2) > 1", "bool", "a / (2 - 2)", 1, "division by zero"),
    ("a > 1 / (2 - 2)", "bool", "1 / (2 - 2)", 5, "division by zero"),
    ("a > log(0)", "bool", "log(0)", 5, "log of non-positive"),
    ("sqrt(-1) < a", "bool", "sqrt(-1)", 1, "sqrt of negative"),
    ("a + log1p(-1)", "float", "log1p(-1)", 5, "log1p of value"),
    ("a * exp(1000)", "float", "exp(1000)", 5, "overflows"),
    ("pow(0, -1) + a", "float", "pow(0, -1)", 1, "divides by zero"),
    ("clip(1, 3, 2) < a", "bool", "clip(1, 3, 2)", 1, "greater than hi"),
    ("a > pow(1000000000000000, 16) * pow(1000000000000000, 16)", "bool", "pow(", 5, "inf"),
    ("p and a / (1 - 1) > 0", "bool", "a / (1 - 1)", 7, "division by zero"),
    ("a if p else log(-2)", "float", "log(-2)", 13, "log of non-positive"),
]


@pytest.mark.parametrize(("text", "expect", "part", "column", "why"), FAULTS)
def test_a_constant_fault_is_reported_at_the_faulting_part(vocab, text, expect, part, column, why):
    compiled, found = compile_expression(text, vocab, expect=expect)
    assert compiled is None
    assert [(d.code, d.col) for d in found] == [("RB419", column)]
    assert f"'{part}" in found[0].message and why in found[0].message
    assert found[0].suggestion


def test_the_evaluator_faults_where_the_check_said_it_would(vocab):
    """The check follows the run-time policy: the reported parts really raise when evaluated."""
    for text in ("price_usd / (2 - 2) > 1", "a > log(0)", "sqrt(-1) < a"):
        guarded = f"p and ({text})"  # a branch the folding cannot decide is still checked
        assert compile_expression(guarded, vocab)[0] is None
    compiled, _ = compile_expression("price_usd / b > 1", vocab)
    assert compiled is not None
    with pytest.raises(RuleNumericError):
        compiled({"price_usd": 1.0, "b": 2.0 - 2.0})


@pytest.mark.parametrize(
    "text",
    [
        "price_usd / 2 > 1",
        "a > log(1) and sqrt(0) <= b",
        "a / (2 - 1) > exp(2)",
        "False and a / 0 > 1",  # never evaluated
        "True or log(0) > 1",
        "(a / 0 if False else a) > 1",
        "(log(-1) if 1 > 2 else b) > 0",
        "a / b > 1",  # may fault at run time, but not always: not a constant fault
        "clip(a, 0, 1) > 0.5",
    ],
)
def test_parts_that_never_run_or_only_may_fault_compile(vocab, text):
    compiled, found = compile_expression(text, vocab)
    assert found == [] and compiled is not None
