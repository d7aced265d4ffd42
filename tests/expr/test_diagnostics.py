"""Every diagnostic code, with its exact column; positions mapped into the YAML file."""

from __future__ import annotations

import pytest

from engine.language.diagnostics import Location, Severity
from engine.language.expr import CODES, compile_expression

# (text, expect, code, 1-based column inside the expression)
CASES = [
    ("a b", "bool", "RB401", 3),
    ("a >", "bool", "RB401", 4),
    ("a > 1and b > 2", "bool", "RB401", 5),  # only a SyntaxWarning in Python 3.11
    ("(a > 1", "bool", "RB401", 1),
    ("a" * 1001, "bool", "RB402", 1),
    ("(" * 33 + "a" + ")" * 33, "float", "RB403", 33),
    ("[" * 40 + "]" * 40, "float", "RB403", 33),
    ("a < 1\x00", "bool", "RB404", 6),
    ("\uff41 < 1", "bool", "RB404", 1),  # fullwidth a
    ("a < b \u0430", "bool", "RB404", 7),  # cyrillic a
    ("a < 1 # caf\u00e9", "bool", "RB404", 12),
    ("a\x0b< 1", "bool", "RB404", 2),
    (" + ".join(["a"] * 200), "float", "RB405", 1),
    ("a.real > 1", "bool", "RB406", 2),
    ("a.b.c", "bool", "RB406", 4),
    ("a[0] > 1", "bool", "RB407", 2),
    ("a[1:] > 1", "bool", "RB407", 2),
    ("a ** 2 > 1", "bool", "RB408", 3),
    ("a > 'x'", "bool", "RB409", 5),
    ("a > b'x'", "bool", "RB409", 5),
    ("f'{a}'", "bool", "RB409", 1),
    ("[x for x in a]", "bool", "RB410", 1),
    ("(x for x in a)", "bool", "RB410", 1),
    ("lambda: 1", "bool", "RB410", 1),
    ("a % 2 > 1", "bool", "RB411", 3),
    ("a // 2 > 1", "bool", "RB411", 3),
    ("a << 2 > 1", "bool", "RB411", 3),
    ("p & q", "bool", "RB411", 3),
    ("~a > 1", "bool", "RB411", 1),
    ("a is b", "bool", "RB411", 3),
    ("a > 1 and a in b", "bool", "RB411", 13),
    ("(b := 1)", "bool", "RB412", 2),
    ("abs(a, key=1) > 0", "bool", "RB412", 8),
    ("abs(*a) > 0", "bool", "RB412", 5),
    ("a > None", "bool", "RB412", 5),
    ("a > 1j", "bool", "RB412", 5),
    ("a, b", "bool", "RB412", 1),
    ("{a: 1}", "bool", "RB412", 1),
    ("funding_rate > 2", "bool", "RB413", 1),
    ("a > 1 and __import__", "bool", "RB413", 11),
    ("a > foo(b)", "bool", "RB414", 5),
    ("a > abs(b)(c)", "bool", "RB414", 5),
    ("clip(a, 1) > 0", "bool", "RB415", 1),
    ("min(a) > 0", "bool", "RB415", 1),
    ("a > 1 and b", "bool", "RB416", 11),
    ("a + 1", "bool", "RB416", 1),
    ("a > 1", "float", "RB416", 1),
    ("p < q", "bool", "RB416", 1),
    ("p == 1", "bool", "RB416", 3),
    ("not a", "bool", "RB416", 5),
    ("a if a else b", "float", "RB416", 6),
    ("a if p else q", "float", "RB416", 13),
    ("pow(a, 17) > 1", "bool", "RB417", 8),
    ("pow(a, 2.0) > 1", "bool", "RB417", 8),
    ("pow(a, b) > 1", "bool", "RB417", 8),
    ("a > 10000000000000000", "bool", "RB418", 5),
    ("a > -1e16", "bool", "RB418", 6),
    ("a < 1e400", "bool", "RB418", 5),
    ("a / (2 - 2) > 1", "bool", "RB419", 1),
    ("a > sqrt(-1)", "bool", "RB419", 5),
]


@pytest.mark.parametrize("text, expect, code, col", CASES, ids=[f"{c[2]}:{c[0][:20]!r}" for c in CASES])
def test_code_and_column(vocab, text, expect, code, col):
    compiled, diagnostics = compile_expression(text, vocab, expect=expect)
    assert compiled is None
    assert (diagnostics[0].code, diagnostics[0].col) == (code, col), diagnostics
    assert all(d.severity is Severity.ERROR and d.message for d in diagnostics)


def test_every_code_is_exercised():
    assert {case[2] for case in CASES} == set(CODES)


def test_every_emitted_code_is_documented(vocab):
    for text, expect, _, _ in CASES:
        for diagnostic in compile_expression(text, vocab, expect=expect)[1]:
            assert diagnostic.code in CODES


def test_number_running_into_a_word_is_always_rejected(vocab):
    """Python 3.11 only warns about these; the result must not depend on warning filters."""
    for text in ("a > 0x1for", "a if 1else b", "(a > 1\n and b > 2and p)"):
        compiled, diagnostics = compile_expression(text, vocab, expect="float" if "else" in text else "bool")
        assert compiled is None and diagnostics[0].code == "RB401", text


def test_empty_and_non_text(vocab):
    for text in ("", "   ", 5, None, b"a > 1"):
        compiled, diagnostics = compile_expression(text, vocab)
        assert compiled is None and [d.code for d in diagnostics] == ["RB401"]


def test_location_and_path_are_applied(vocab):
    location = Location(file="rules/entry.yaml", line=12, col=9)
    _, [diagnostic] = compile_expression("a ** 2 > 1", vocab, location=location, path="/rules/0/when")
    assert (diagnostic.file, diagnostic.line, diagnostic.col, diagnostic.path) == (
        "rules/entry.yaml",
        12,
        11,
        "/rules/0/when",
    )


def test_leading_whitespace_shifts_columns(vocab):
    _, [diagnostic] = compile_expression("  a ** 2 > 1", vocab, location=Location("f", 3, 5))
    assert diagnostic.col == 5 + 4


def test_multiline_uses_location(vocab):
    location = Location(file="f.yaml", line=7, col=3)
    _, [diagnostic] = compile_expression("(a > 1 and\n b ** 2 > 1)", vocab, location=location)
    assert (diagnostic.code, diagnostic.line, diagnostic.col) == ("RB408", 7, 3)


def test_unknown_name_suggestion(vocab):
    _, [diagnostic] = compile_expression("fundng_rate_z > 2", vocab)
    assert diagnostic.suggestion == "did you mean 'funding_rate_z'?"
    assert "did you mean 'funding_rate_z'?" in diagnostic.message


def test_unknown_function_suggestion(vocab):
    _, [diagnostic] = compile_expression("sqr(a) > 1", vocab)
    assert diagnostic.code == "RB414" and diagnostic.suggestion == "did you mean 'sqrt'?"
    _, [diagnostic] = compile_expression("rsi(a) > 1", vocab)
    assert "input, not a function" in diagnostic.message


def test_function_used_as_name(vocab):
    _, [diagnostic] = compile_expression("abs > 1", vocab)
    assert diagnostic.code == "RB413" and "abs(x)" in diagnostic.suggestion


def test_power_suggests_pow(vocab):
    _, [diagnostic] = compile_expression("a ** 2 > 1", vocab)
    assert "pow(x, k)" in diagnostic.suggestion


def test_all_problems_reported_at_once(vocab):
    _, diagnostics = compile_expression("foo > 1 and bar > 2 and p < 1", vocab)
    assert [(d.code, d.col) for d in diagnostics] == [("RB413", 1), ("RB413", 13), ("RB416", 25)]


def test_disallowed_constructs_reported_together(vocab):
    _, diagnostics = compile_expression("a % 2 > 1 and a.b and 'x'", vocab)
    assert [d.code for d in diagnostics] == ["RB411", "RB406", "RB409"]


def test_long_names_are_shortened_in_messages(vocab):
    _, [diagnostic] = compile_expression("x" * 900, vocab)
    assert diagnostic.code == "RB413" and len(diagnostic.message) < 100


def test_limits_are_inclusive(vocab):
    ok, _ = compile_expression("(" * 32 + "a" + ")" * 32 + " > 1", vocab)
    assert ok is not None
    at_limit = "a > 1" + " " * 995
    assert len(at_limit) == 1000 and compile_expression(at_limit, vocab)[0] is not None
    nodes = " + ".join(["a"] * 127) + " > 1"  # 127 names + 126 BinOps + Compare + 1 = 255
    assert compile_expression(nodes, vocab)[0] is not None
    assert compile_expression(nodes.replace("> 1", "> a + 1"), vocab)[1][0].code == "RB405"
