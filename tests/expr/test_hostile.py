"""Hostile input: every attempt is rejected quickly with a diagnostic, never a traceback."""

from __future__ import annotations

import sys

import pytest

from engine.language.expr import compile_expression

# (id, text, expected first code)
HOSTILE = [
    # attribute chains: sandbox escapes through object internals
    ("mro-escape", "x.__class__.__mro__[1].__subclasses__()", "RB406"),
    ("format-escape", '"{0.__class__}".format(x)', "RB406"),
    ("globals", "a.__globals__", "RB406"),
    ("builtins-attr", "a.__class__.__base__", "RB406"),
    ("subscript-dunder", "a.__dict__['x']", "RB407"),
    # exponent / shift / format bombs
    ("pow-bomb", "4000000**4000000", "RB408"),
    ("pow-tower", "10**10**10", "RB408"),
    ("pow-big", "9**999999999", "RB408"),
    ("shift-bomb", "1 << 3000000", "RB411"),
    ("percent-format", '"%0100000000d" % 1', "RB411"),
    ("mult-string", "'a' * 1000000000", "RB409"),
    ("fstring-width", 'f"{x:>1000000000}"', "RB409"),
    ("fstring-nested", "f\"{f'{x}'}\"", "RB409"),
    # parser stress
    ("plus-chain", "1+" * 100000 + "1", "RB402"),
    ("minus-chain", "-" * 100000 + "1", "RB402"),
    ("paren-bomb", "(" * 5000 + "1" + ")" * 5000, "RB402"),
    ("paren-deep-short", "(" * 400 + "1" + ")" * 400, "RB403"),
    ("bracket-deep-short", "[" * 400 + "]" * 400, "RB403"),
    ("minus-chain-short", "-" * 999 + "1", "RB405"),
    ("not-chain", "not " * 300 + "p", "RB402"),
    ("plus-chain-short", "1+" * 499 + "1", "RB405"),
    ("unbalanced", ")" * 900, "RB401"),
    # comprehensions, lambdas, assignment
    ("listcomp", "[x for x in y]", "RB410"),
    ("genexp-call", "max(x for x in y)", "RB410"),
    ("lambda", "lambda: 1", "RB410"),
    ("lambda-call", "(lambda: 1)()", "RB414"),
    ("walrus", "(y := 1)", "RB412"),
    ("walrus-in-and", "p and (a := 1) > 0", "RB412"),
    # builtins and imports: unknown names/functions or strings
    ("import", "__import__('os')", "RB409"),
    ("import-bare", "__import__(a)", "RB414"),
    ("open", "open('x')", "RB409"),
    ("getattr", "getattr(x,'y')", "RB409"),
    ("eval", "eval(a)", "RB414"),
    ("exec-name", "exec", "RB413"),
    ("dunder-name", "__class__", "RB413"),
    ("builtins-name", "__builtins__", "RB413"),
    ("breakpoint", "breakpoint()", "RB414"),
    # literals
    ("huge-literal", "1" + "0" * 5000, "RB402"),
    ("huge-literal-short", "1" + "0" * 900, "RB418"),
    ("huge-hex", "0x" + "f" * 900, "RB418"),
    ("inf-literal", "1e999 > a", "RB418"),
    ("complex", "1j * a", "RB412"),
    ("ellipsis", "...", "RB412"),
    # unicode and control characters
    ("fullwidth", "\uff58 > 1", "RB404"),
    ("cyrillic", "\u0430 > 1", "RB404"),
    ("greek-omicron", "r\u03bfi > 1", "RB404"),
    ("nfkc-ligature", "\ufb01 > 1", "RB404"),
    ("nul", "a > 1\x00", "RB404"),
    ("nul-only", "\x00", "RB404"),
    ("escape-seq", "a > 1\x1b[2J", "RB404"),
    ("bidi-override", "a > 1 \u202e", "RB404"),
    ("zero-width", "a\u200b > 1", "RB404"),
    ("nbsp", "a\u00a0> 1", "RB404"),
    ("line-separator", "a > 1\u2028", "RB404"),
    # names
    ("long-name", "x" * 5000, "RB402"),
    ("long-name-short", "y" * 999, "RB413"),
    # misc syntax
    ("statement", "import os", "RB401"),
    ("semicolon", "a; b", "RB401"),
    ("await", "await a", "RB412"),
    ("yield", "(yield a)", "RB412"),
    ("starred", "max(*a)", "RB412"),
    ("kwargs", "max(a, **b)", "RB412"),
    ("dict", "{'a': 1}", "RB412"),
    ("set", "{a}", "RB412"),
    ("slice", "a[::-1]", "RB407"),
    ("matmul", "a @ b", "RB411"),
    ("is-not", "a is not None", "RB411"),
    ("not-in", "a not in b", "RB411"),
    ("comment-only", "# a > 1", "RB401"),
]


@pytest.mark.parametrize("text, code", [(t, c) for _, t, c in HOSTILE], ids=[i for i, _, _ in HOSTILE])
def test_rejected_quickly(vocab, text, code):
    """Rejected before any costly work: bounded by the calls made, not by a clock."""
    calls = 0

    def count(frame, event, arg):
        nonlocal calls
        calls += event == "call"

    sys.setprofile(count)
    try:
        compiled, diagnostics = compile_expression(text, vocab)
    finally:
        sys.setprofile(None)
    assert compiled is None
    assert diagnostics and diagnostics[0].code == code, diagnostics
    assert all(d.code.startswith("RB4") for d in diagnostics)
    assert calls < 50_000, calls  # the longest chains take about 12,000


def test_deepest_allowed_trees_evaluate(vocab):
    """The node limit bounds depth, so the deepest legal trees still evaluate in both paths."""
    import numpy as np

    negations, _ = compile_expression("not " * 249 + "p", vocab)
    assert negations({"p": True}) is False
    assert negations.vector({"p": np.array([True, False])}).tolist() == [False, True]
    minus, _ = compile_expression("-" * 255 + "a", vocab, expect="float")
    assert minus({"a": 2.0}) == -2.0


def test_constant_faults_are_found_at_compile_without_evaluating_inputs(vocab):
    """Compilation folds literals only (never an input): a division by zero in literals is an
    error now (RB419), one by an input stays a run-time fault."""
    compiled, diagnostics = compile_expression("1 / 0 > a", vocab)
    assert compiled is None and [d.code for d in diagnostics] == ["RB419"]
    compiled, diagnostics = compile_expression("1 / a > 0", vocab)
    assert diagnostics == [] and compiled is not None


def test_hostile_vector_and_mapping_inputs(vocab):
    """Odd env values become RuleRuntimeError, never a raw TypeError/ValueError."""
    from engine.common.errors import RuleRuntimeError

    compiled, _ = compile_expression("a + 1 > 0", vocab)
    for env in ({"a": "1"}, {"a": None}, {"a": object()}, {"a": [1.0]}):
        with pytest.raises(RuleRuntimeError):
            compiled(env)
    for env in ({"a": ["x"]}, {"a": object()}, {"a": [1.0, 2.0], "b": [1.0, 2.0, 3.0]}):
        with pytest.raises(RuleRuntimeError):
            two, _ = compile_expression("a + b > 0", vocab)
            two.vector(env)
