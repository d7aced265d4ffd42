"""Diagnostic codes of the expression language (RB4xx).

The numbers are stable: rule authors search for them and docs are generated from
:data:`CODES`, so a code is never reused for a different problem.
"""

from __future__ import annotations

SYNTAX = "RB401"
TOO_LONG = "RB402"
TOO_DEEP = "RB403"
BAD_CHARACTER = "RB404"
TOO_MANY_NODES = "RB405"
ATTRIBUTE = "RB406"
SUBSCRIPT = "RB407"
POWER = "RB408"
STRING = "RB409"
COMPREHENSION = "RB410"
OPERATOR = "RB411"
DISALLOWED = "RB412"
UNKNOWN_NAME = "RB413"
UNKNOWN_FUNCTION = "RB414"
ARITY = "RB415"
TYPE_MISMATCH = "RB416"
POW_EXPONENT = "RB417"
HUGE_LITERAL = "RB418"
CONSTANT_FAULT = "RB419"

CODES: dict[str, str] = {
    SYNTAX: "expression is not valid syntax (or is empty, or is not text)",
    TOO_LONG: "expression is longer than 1000 characters",
    TOO_DEEP: "brackets nested deeper than 32 levels, or too complex to parse",
    BAD_CHARACTER: "character outside printable ASCII (unicode look-alikes, control characters, NUL)",
    TOO_MANY_NODES: "expression has more than 256 nodes",
    ATTRIBUTE: "attribute access (a.b) is not allowed",
    SUBSCRIPT: "indexing or slicing (a[i]) is not allowed",
    POWER: "the ** operator is not allowed; use pow(x, k) with an integer literal |k| <= 16",
    STRING: "string, bytes and f-string literals are not allowed",
    COMPREHENSION: "comprehensions, generator expressions and lambda are not allowed",
    OPERATOR: "operator not in the language (%, //, @, <<, >>, &, |, ^, ~, is, in)",
    DISALLOWED: "other syntax not in the language (:=, *args, keyword arguments, containers, None, ...)",
    UNKNOWN_NAME: "name is not in the vocabulary",
    UNKNOWN_FUNCTION: "function is not in the function registry, or the callee is not a plain name",
    ARITY: "function called with the wrong number of arguments",
    TYPE_MISMATCH: "operand or result has the wrong type (float vs bool)",
    POW_EXPONENT: "pow() exponent is not an integer literal with |k| <= 16",
    HUGE_LITERAL: "numeric literal larger than 1e15 in magnitude",
    CONSTANT_FAULT: "a constant part always faults (division by zero, a function outside its domain, an overflow): "
    "the expression fails every time that part is evaluated",
}
