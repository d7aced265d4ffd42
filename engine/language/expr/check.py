"""Static checks for rule expressions: pre-parse limits, the AST allow-list, names, types.

This module is the safety boundary. Text is bounded (length, bracket depth, printable
ASCII) before ``ast.parse`` sees it, so the parser cannot be driven into huge memory or
deep C recursion; then every node must be on the allow-list, every name declared in the
vocabulary and every operand of the right type. Nothing here evaluates anything: the
builders only ever see trees that passed, and the tree is bounded to 256 nodes, which
also bounds the recursion depth of the typing pass and of the compiled closures.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from engine.common.errors import RuleNumericError
from engine.language.diagnostics import Diagnostic, Location

from . import codes as C
from .functions import FUNCTIONS
from .vocabulary import PREVIOUS, Vocabulary, previous_name

MAX_LENGTH = 1000
MAX_DEPTH = 32
MAX_NODES = 256
MAX_LITERAL = 1e15
MAX_POW_EXPONENT = 16

_BAD_CHARACTER = re.compile(r"[^\x20-\x7e\t\n\r]")
_WHITESPACE = " \t\r\n"

_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
_BAD_BINOPS = {
    ast.Mod: ("%", "the % operator is not allowed"),
    ast.FloorDiv: ("//", "floor division (//) is not allowed"),
    ast.MatMult: ("@", "the @ operator is not allowed"),
    ast.LShift: ("<<", "shift operators (<<, >>) are not allowed"),
    ast.RShift: (">>", "shift operators (<<, >>) are not allowed"),
    ast.BitAnd: ("&", "bitwise operators (&, |, ^) are not allowed; use 'and' / 'or'"),
    ast.BitOr: ("|", "bitwise operators (&, |, ^) are not allowed; use 'and' / 'or'"),
    ast.BitXor: ("^", "bitwise operators (&, |, ^) are not allowed; use 'and' / 'or'"),
}
_COMPARE = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!="}
_BAD_COMPARE = {
    ast.Is: ("is", "'is' is not allowed; use =="),
    ast.IsNot: ("is", "'is not' is not allowed; use !="),
    ast.In: ("in", "'in' is not allowed"),
    ast.NotIn: ("not", "'not in' is not allowed"),
}
_UNARY = {ast.USub: "-", ast.UAdd: "+", ast.Not: "not"}
_POW_HINT = f"write pow(x, k) with an integer literal k, |k| <= {MAX_POW_EXPONENT}"
_NO_STRINGS = "string literals are not allowed; expressions work on numbers and booleans only"

# Node kinds rejected outright: (code, message).
_REJECTED: dict[type, tuple[str, str]] = {
    ast.Attribute: (C.ATTRIBUTE, "attribute access is not allowed"),
    ast.Subscript: (C.SUBSCRIPT, "indexing and slicing ([...]) are not allowed"),
    ast.Slice: (C.SUBSCRIPT, "indexing and slicing ([...]) are not allowed"),
    ast.JoinedStr: (C.STRING, "f-strings are not allowed"),
    ast.FormattedValue: (C.STRING, "f-strings are not allowed"),
    ast.ListComp: (C.COMPREHENSION, "comprehensions are not allowed"),
    ast.SetComp: (C.COMPREHENSION, "comprehensions are not allowed"),
    ast.DictComp: (C.COMPREHENSION, "comprehensions are not allowed"),
    ast.GeneratorExp: (C.COMPREHENSION, "generator expressions are not allowed"),
    ast.Lambda: (C.COMPREHENSION, "lambda is not allowed"),
    ast.NamedExpr: (C.DISALLOWED, "assignment (:=) is not allowed"),
    ast.Starred: (C.DISALLOWED, "unpacking (*) is not allowed"),
    ast.Dict: (C.DISALLOWED, "dict literals are not allowed"),
    ast.Set: (C.DISALLOWED, "set literals are not allowed"),
    ast.List: (C.DISALLOWED, "list literals are not allowed"),
    ast.Tuple: (C.DISALLOWED, "tuples are not allowed (is there a stray comma?)"),
    ast.Await: (C.DISALLOWED, "await is not allowed"),
    ast.Yield: (C.DISALLOWED, "yield is not allowed"),
    ast.YieldFrom: (C.DISALLOWED, "yield is not allowed"),
}


@dataclass(frozen=True)
class Checked:
    """A tree that passed every check; the only input the builders accept."""

    root: ast.expr
    text: str  # the parsed text (surrounding whitespace stripped)
    result_type: str
    names: frozenset[str]
    cost: int


def check(
    text: object, vocabulary: Vocabulary, *, expect: str, location: Location, path: str
) -> tuple[Checked | None, list[Diagnostic]]:
    """Run every static check; return the checked tree, or None and all findings."""
    rep = _Reporter(location, path)
    body = _precheck(text, rep)
    if body is None:
        return None, rep.items
    tree = _parse(body, rep)
    if tree is None:
        return None, rep.items
    count = sum(isinstance(node, ast.expr) for node in ast.walk(tree))
    if count > MAX_NODES:
        rep.add(
            C.TOO_MANY_NODES,
            f"expression has {count} nodes; the limit is {MAX_NODES}",
            rep.lead,
            suggestion="split it into several rules or simplify it",
        )
        return None, rep.items
    if not _allowed(tree.body, body, rep):
        return None, rep.items
    typer = _Typer(vocabulary, rep, body)
    result = typer.type_of(tree.body)
    if result is not None and result != expect:
        rep.add(C.TYPE_MISMATCH, f"expression gives a {result}, expected a {expect}", rep.at(tree.body))
    if rep.items or result is None:  # the typer gives None only for an error it reported
        return None, rep.items
    _ConstantFaults(rep, body).fold(tree.body)
    if rep.items:
        return None, rep.items
    return Checked(tree.body, body, result, frozenset(typer.names), typer.cost), []


class _Reporter:
    """Collects findings and maps offsets in the expression to columns in the YAML file."""

    def __init__(self, location: Location, path: str):
        self.location = location
        self.path = path
        self.lead = 0  # characters stripped before the parsed text
        self.single_line = False  # offsets are only meaningful on a single line
        self.items: list[Diagnostic] = []

    def at(self, node: ast.expr | ast.keyword) -> int:
        return self.lead + node.col_offset

    def add(self, code: str, message: str, offset: int | None = None, suggestion: str = "") -> None:
        loc = self.location
        col = loc.col
        if self.single_line and offset is not None:
            col = (loc.col or 1) + offset  # no location given: 1-based column in the expression
        self.items.append(
            Diagnostic(
                code=code, message=message, file=loc.file, line=loc.line, col=col, path=self.path, suggestion=suggestion
            )
        )


def _precheck(text: object, rep: _Reporter) -> str | None:
    """Bound the text before parsing; return the stripped text, or None if rejected."""
    if not isinstance(text, str):
        rep.add(C.SYNTAX, f"expression must be text, got {type(text).__name__}")
        return None
    body = text.strip(_WHITESPACE)
    rep.lead = len(text) - len(text.lstrip(_WHITESPACE))
    rep.single_line = "\n" not in body and "\r" not in body
    if len(text) > MAX_LENGTH:
        rep.add(
            C.TOO_LONG,
            f"expression is {len(text)} characters long; the limit is {MAX_LENGTH}",
            rep.lead,
            suggestion="split it into several rules",
        )
        return None
    bad = _BAD_CHARACTER.search(text)
    if bad is not None:
        rep.add(
            C.BAD_CHARACTER,
            f"character {_describe_char(bad.group())} is not allowed; expressions are printable ASCII only",
            bad.start(),
            suggestion="retype it; look-alike unicode letters and quotes are common",
        )
        return None
    if not body:
        rep.add(C.SYNTAX, "expression is empty")
        return None
    depth = 0
    for i, ch in enumerate(body):
        if ch in "([{":
            depth += 1
            if depth > MAX_DEPTH:
                rep.add(C.TOO_DEEP, f"brackets are nested more than {MAX_DEPTH} levels deep", rep.lead + i)
                return None
        elif ch in ")]}":
            depth -= 1
    return body


def _describe_char(ch: str) -> str:
    import unicodedata  # error path only

    name = unicodedata.name(ch, "")
    return f"U+{ord(ch):04X}" + (f" ({name})" if name else "")


def _parse(body: str, rep: _Reporter) -> ast.Expression | None:
    try:
        return ast.parse(body, mode="eval")
    except SyntaxError as exc:
        message = "invalid syntax" if exc.msg == "invalid syntax" else f"invalid syntax: {exc.msg}"
        if exc.offset:
            offset = exc.offset - 1
        else:  # the parser ran out of text
            offset = len(body)
            message += " (the expression ends too early)"
        rep.add(C.SYNTAX, message, rep.lead + offset)
    except (MemoryError, RecursionError):
        rep.add(C.TOO_DEEP, "expression is too complex to parse")
    except ValueError as exc:
        rep.add(C.SYNTAX, f"invalid expression: {exc}")
    return None


def _allowed(root: ast.expr, body: str, rep: _Reporter) -> bool:
    """Walk the tree iteratively; report the outermost node of each rejected construct."""
    before = len(rep.items)
    stack = [root]
    while stack:
        node = stack.pop()
        problem = _problem(node, body, rep)
        if problem is None:
            stack.extend(
                child
                for child in ast.iter_child_nodes(node)
                if isinstance(child, ast.expr) and not (isinstance(node, ast.Call) and child is node.func)
            )
        else:
            code, message, offset, suggestion = problem
            rep.add(code, message, offset, suggestion)
    return len(rep.items) == before


_Problem = tuple[str, str, int, str]  # (code, message, offset, suggestion)


def _problem(node: ast.expr, body: str, rep: _Reporter) -> _Problem | None:
    """Why ``node`` itself is not allowed, or None; children are checked separately.

    Allow-list: a node kind without an entry in ``_NODE_CHECKS`` is rejected, so a
    construct added to Python later is refused until someone decides it is safe.
    """
    check_node = _NODE_CHECKS.get(type(node), _rejected_problem)
    return check_node(node, body, rep)


def _always_allowed(node: ast.expr, body: str, rep: _Reporter) -> _Problem | None:
    """``and``/``or`` and ``a if c else b``: nothing to refuse beyond their operands."""
    return None


def _name_problem(node: ast.Name, body: str, rep: _Reporter) -> _Problem | None:
    """Names may only be read; anything else (a store, a delete) is rejected like any node."""
    if isinstance(node.ctx, ast.Load):
        return None
    return _rejected_problem(node, body, rep)


def _binop_problem(node: ast.BinOp, body: str, rep: _Reporter) -> _Problem | None:
    """Only + - * /; ``**`` gets its own code because pow() is the allowed spelling."""
    if type(node.op) in _BINOPS:
        return None
    if isinstance(node.op, ast.Pow):
        return (
            C.POWER,
            "the ** operator is not allowed",
            _op_offset(body, rep, node.left, node.right, "**"),
            _POW_HINT,
        )
    symbol, message = _BAD_BINOPS.get(type(node.op), ("", "this operator is not allowed"))
    return C.OPERATOR, message, _op_offset(body, rep, node.left, node.right, symbol), ""


def _unary_problem(node: ast.UnaryOp, body: str, rep: _Reporter) -> _Problem | None:
    """Sign and ``not`` are allowed; ``~`` is the only unary operator left to refuse."""
    if type(node.op) in _UNARY:
        return None
    return C.OPERATOR, "bitwise not (~) is not allowed; use 'not'", rep.at(node), ""


def _compare_problem(node: ast.Compare, body: str, rep: _Reporter) -> _Problem | None:
    """The first disallowed operator of a (chained) comparison, pointing at the operator itself."""
    operands = [node.left, *node.comparators]
    for i, op in enumerate(node.ops):
        if type(op) not in _COMPARE:
            symbol, message = _BAD_COMPARE.get(type(op), ("", "this comparison is not allowed"))
            return (C.OPERATOR, message, _op_offset(body, rep, operands[i], operands[i + 1], symbol), "")
    return None


def _constant_node_problem(node: ast.Constant, body: str, rep: _Reporter) -> _Problem | None:
    """Literals are checked by value (see ``_constant_problem``)."""
    return _constant_problem(node, body, rep.at(node))


def _call_problem(node: ast.Call, body: str, rep: _Reporter) -> _Problem | None:
    """Only ``name(arg, ...)``: method calls, computed callees and keywords are refused.

    Whether the name is a known function is the typer's job, not the allow-list's.
    """
    if isinstance(node.func, ast.Attribute):
        return (
            C.ATTRIBUTE,
            "attribute access is not allowed (no method calls)",
            _after(body, rep, node.func.value, "."),
            "",
        )
    if not isinstance(node.func, ast.Name):
        return C.UNKNOWN_FUNCTION, "only functions named directly can be called, e.g. abs(x)", rep.at(node), ""
    if node.keywords:
        return (
            C.DISALLOWED,
            "keyword arguments are not allowed; pass arguments by position",
            rep.at(node.keywords[0]),
            "",
        )
    return None


def _attribute_problem(node: ast.Attribute, body: str, rep: _Reporter) -> _Problem:
    """Refused, pointing at the dot rather than the start of the object."""
    return C.ATTRIBUTE, "attribute access is not allowed", _after(body, rep, node.value, "."), ""


def _subscript_problem(node: ast.Subscript, body: str, rep: _Reporter) -> _Problem:
    """Refused, pointing at the opening bracket rather than the start of the object."""
    return C.SUBSCRIPT, _REJECTED[ast.Subscript][1], _after(body, rep, node.value, "["), ""


def _rejected_problem(node: ast.expr, body: str, rep: _Reporter) -> _Problem:
    """Any other node: its ``_REJECTED`` message, or a generic one naming the node kind."""
    kind = type(node)
    code, message = _REJECTED.get(kind, (C.DISALLOWED, f"{kind.__name__} is not allowed"))
    return code, message, rep.at(node), ""


# The allow-list: exact node type → check; a type missing here goes to _rejected_problem.
_NODE_CHECKS: dict[type, Callable[[Any, str, _Reporter], _Problem | None]] = {
    ast.BoolOp: _always_allowed,
    ast.IfExp: _always_allowed,
    ast.Name: _name_problem,
    ast.BinOp: _binop_problem,
    ast.UnaryOp: _unary_problem,
    ast.Compare: _compare_problem,
    ast.Constant: _constant_node_problem,
    ast.Call: _call_problem,
    ast.Attribute: _attribute_problem,
    ast.Subscript: _subscript_problem,
}


def _constant_problem(node: ast.Constant, body: str, offset: int) -> _Problem | None:
    value = node.value
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float, complex)) and _runs_into_word(body, node):
        # Python only warns about `1and` / `0x1for` (an error under -W error); reject it always
        return (
            C.SYNTAX,
            "invalid syntax: a number runs into a word",
            offset,
            "put a space after the number, e.g. '1 and' instead of '1and'",
        )
    if isinstance(value, (int, float)):
        if abs(value) <= MAX_LITERAL:  # False for inf; never converts a huge int to text
            return None
        literal = ast.get_source_segment(body, node) or "literal"
        if len(literal) > 24:
            literal = literal[:21] + "..."
        return (
            C.HUGE_LITERAL,
            f"numeric literal {literal} is larger than 1e15 in magnitude",
            offset,
            "scale the inputs instead (e.g. use millions of USD)",
        )
    if isinstance(value, (str, bytes)):
        return C.STRING, _NO_STRINGS, offset, ""
    if isinstance(value, complex):
        return C.DISALLOWED, "complex numbers are not allowed", offset, ""
    return C.DISALLOWED, f"{value!r} is not allowed", offset, ""


def _runs_into_word(body: str, node: ast.Constant) -> bool:
    # the end positions are optional in the AST's types, but ast.parse records them on every node
    line = body.splitlines()[cast(int, node.end_lineno) - 1]
    end = cast(int, node.end_col_offset)
    return end < len(line) and (line[end].isalpha() or line[end] == "_")


def _op_offset(body: str, rep: _Reporter, left: ast.expr, right: ast.expr, symbol: str) -> int:
    """Offset of the operator between two operands (the AST does not record it)."""
    found = body.find(symbol, left.end_col_offset, right.col_offset) if symbol else -1
    return rep.lead + (found if found >= 0 else left.col_offset)


def _after(body: str, rep: _Reporter, value: ast.expr, symbol: str) -> int:
    found = body.find(symbol, value.end_col_offset)
    return rep.lead + (found if found >= 0 else value.col_offset)


def integer_literal(node: ast.AST) -> int | None:
    """The value of ``k``, ``-k`` or ``+k`` written as an integer literal, else None."""
    sign = 1
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        sign = -1 if isinstance(node.op, ast.USub) else 1
        node = node.operand
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return sign * node.value
    return None


def _short(name: str) -> str:
    return name if len(name) <= 40 else name[:37] + "..."


def _did_you_mean(name: str, candidates) -> str:
    import difflib  # error path only

    match = difflib.get_close_matches(name, list(candidates), n=1)
    return f"did you mean {match[0]!r}?" if match else ""


class _Typer:
    """Resolves names and functions and infers "float" / "bool" for every node.

    Returns None for a node whose type is unknown because of an error already reported,
    so one mistake is reported once instead of cascading up the tree.
    """

    def __init__(self, vocabulary: Vocabulary, rep: _Reporter, body: str):
        self.vocabulary = vocabulary
        self.rep = rep
        self.body = body
        self.names: set[str] = set()
        self.cost = 0
        self._reported: set[int] = set()

    def type_of(self, node: ast.expr) -> str | None:
        self.cost += 1
        return getattr(self, "_" + type(node).__name__)(node)

    def _expect(self, node: ast.expr, actual: str | None, wanted: str, what: str) -> None:
        if actual is not None and actual != wanted and id(node) not in self._reported:
            self._reported.add(id(node))
            self.rep.add(C.TYPE_MISMATCH, f"{what} needs a {wanted}, got a {actual}", self.rep.at(node))

    def _Constant(self, node: ast.Constant) -> str:
        return "bool" if isinstance(node.value, bool) else "float"

    def _Name(self, node: ast.Name) -> str | None:
        spec = self.vocabulary.names.get(node.id)
        if spec is not None:
            self.names.add(node.id)
            return spec.type
        hint = _did_you_mean(node.id, self.vocabulary.names)
        if node.id in FUNCTIONS:
            hint = f"{node.id} is a function: call it, e.g. {FUNCTIONS[node.id].signature}"
        elif node.id.lower() in ("true", "false"):
            hint = f"write {node.id.capitalize()} (booleans are capitalised)"
        message = f"unknown name {_short(node.id)!r}" + (f"; {hint}" if hint else "")
        self.rep.add(C.UNKNOWN_NAME, message, self.rep.at(node), suggestion=hint)
        return None

    def _UnaryOp(self, node: ast.UnaryOp) -> str:
        wanted = "bool" if isinstance(node.op, ast.Not) else "float"
        self._expect(node.operand, self.type_of(node.operand), wanted, f"operand of '{_UNARY[type(node.op)]}'")
        return wanted

    def _BinOp(self, node: ast.BinOp) -> str:
        what = f"operand of '{_BINOPS[type(node.op)]}'"
        self._expect(node.left, self.type_of(node.left), "float", what)
        self._expect(node.right, self.type_of(node.right), "float", what)
        return "float"

    def _BoolOp(self, node: ast.BoolOp) -> str:
        what = "operand of 'and'" if isinstance(node.op, ast.And) else "operand of 'or'"
        for value in node.values:
            self._expect(value, self.type_of(value), "bool", what)
        return "bool"

    def _Compare(self, node: ast.Compare) -> str:
        operands = [node.left, *node.comparators]
        types = [self.type_of(operand) for operand in operands]
        for i, op in enumerate(node.ops):
            symbol = _COMPARE[type(op)]
            left, right = types[i], types[i + 1]
            if symbol in ("==", "!="):
                if left is not None and right is not None and left != right:
                    self.rep.add(
                        C.TYPE_MISMATCH,
                        f"cannot compare a {left} with a {right} using '{symbol}'",
                        _op_offset(self.body, self.rep, operands[i], operands[i + 1], symbol),
                    )
                continue
            for operand, actual in ((operands[i], left), (operands[i + 1], right)):
                self._expect(operand, actual, "float", f"operand of '{symbol}'")
        return "bool"

    def _IfExp(self, node: ast.IfExp) -> str | None:
        self._expect(node.test, self.type_of(node.test), "bool", "condition of 'if ... else'")
        body, orelse = self.type_of(node.body), self.type_of(node.orelse)
        if body is not None and orelse is not None and body != orelse:
            self.rep.add(
                C.TYPE_MISMATCH,
                f"both branches of 'if ... else' must have the same type; got a {body} and a {orelse}",
                self.rep.at(node.orelse),
            )
            return None
        return body or orelse

    def _Call(self, node: ast.Call) -> str | None:
        name = cast(ast.Name, node.func).id  # _call_problem refused every callee but a plain name
        if name == PREVIOUS and name not in FUNCTIONS:
            return self._previous(node)
        spec = FUNCTIONS.get(name)
        types = [self.type_of(arg) for arg in node.args]
        if spec is None:
            hint = (
                f"{name} is an input, not a function"
                if name in self.vocabulary.names
                else _did_you_mean(name, FUNCTIONS)
            )
            message = f"unknown function {_short(name)!r}" + (f"; {hint}" if hint else "")
            self.rep.add(C.UNKNOWN_FUNCTION, message, self.rep.at(node), suggestion=hint)
            return None
        self.cost += spec.cost - 1
        if not spec.min_args <= len(node.args) <= spec.max_args:
            takes = f"{spec.min_args}" if spec.min_args == spec.max_args else f"{spec.min_args} to {spec.max_args}"
            noun = "argument" if spec.max_args == 1 else "arguments"
            self.rep.add(
                C.ARITY,
                f"{name}() takes {takes} {noun}, got {len(node.args)}",
                self.rep.at(node),
                suggestion=f"call it as {spec.signature}",
            )
            return spec.result_type
        for arg, actual in zip(node.args, types):
            self._expect(arg, actual, "float", f"argument of {name}()")
        for i in spec.literal_args:
            k = integer_literal(node.args[i])
            if k is None or abs(k) > MAX_POW_EXPONENT:
                self.rep.add(
                    C.POW_EXPONENT,
                    f"the exponent of {name}() must be an integer literal "
                    f"between -{MAX_POW_EXPONENT} and {MAX_POW_EXPONENT}",
                    self.rep.at(node.args[i]),
                    suggestion=_POW_HINT,
                )
        return spec.result_type

    def _previous(self, node: ast.Call) -> str | None:
        """``prev(name)``: one input's value one evaluation earlier, where the vocabulary has
        it (an expression signal component keeps its last inputs); its type is the input's."""
        if not self.vocabulary.previous:
            hint = "prev() is available in the conditions of `kind: expression` signal components"
            self.rep.add(
                C.UNKNOWN_FUNCTION, f"prev() is not available here; {hint}", self.rep.at(node), suggestion=hint
            )
            return None
        if len(node.args) != 1 or not isinstance(node.args[0], ast.Name):
            self.rep.add(
                C.ARITY,
                "prev() takes one input name, e.g. prev(ema_fast)",
                self.rep.at(node),
                suggestion="call it as prev(name)",
            )
            return None
        argument = node.args[0]
        read_now = argument.id in self.names
        result = self._Name(argument)
        if result is not None:
            if not read_now:
                self.names.discard(argument.id)  # only the earlier value is read (so far)
            self.names.add(previous_name(argument.id))
        return result


_NOT_CONSTANT = object()  # a folded node whose value depends on the inputs


class _ConstantFaults:
    """Folds the constant parts of a typed tree and reports each that always faults (RB419):
    ``price / 0``, ``log(0)``, ``sqrt(-1)``, ``1 / (2 - 2)``. At run time such a part raises
    RuleNumericError every time it is reached, so the rule never answers as written (an entry
    rule blocks every entry). Folding follows the evaluator's numeric policy: the functions'
    own scalar implementations (with their domains), division by zero and non-finite results
    are faults. A branch that constant folding proves never runs (``False and …``, ``a if
    True else …``) is not looked into; the innermost faulting part is reported, once."""

    def __init__(self, rep: _Reporter, body: str):
        self.rep = rep
        self.body = body

    def fold(self, node: ast.expr) -> Any:
        """The node's constant value, or ``_NOT_CONSTANT`` (also after a reported fault)."""
        return getattr(self, "_" + type(node).__name__)(node)

    def _fault(self, node: ast.expr, why: str) -> Any:
        segment = ast.get_source_segment(self.body, node) or "expression"
        segment = segment if len(segment) <= 60 else segment[:57] + "..."
        self.rep.add(
            C.CONSTANT_FAULT,
            f"'{segment}' always faults ({why}): the expression fails every time it is evaluated",
            self.rep.at(node),
            suggestion="fix the constant part; a rule that always faults never answers as written",
        )
        return _NOT_CONSTANT

    def _finite(self, node: ast.expr, value: float) -> Any:
        return value if value - value == 0 else self._fault(node, f"the result is {value!r}")

    def _Constant(self, node: ast.Constant) -> Any:
        value = node.value  # a checked tree's constants are numbers or booleans
        return value if isinstance(value, bool) else float(cast(float, value))

    def _Name(self, node: ast.Name) -> Any:
        return _NOT_CONSTANT

    def _UnaryOp(self, node: ast.UnaryOp) -> Any:
        value = self.fold(node.operand)
        if value is _NOT_CONSTANT:
            return value
        if isinstance(node.op, ast.Not):
            return not value
        return -value if isinstance(node.op, ast.USub) else value

    def _BinOp(self, node: ast.BinOp) -> Any:
        left, right = self.fold(node.left), self.fold(node.right)
        if isinstance(node.op, ast.Div) and right is not _NOT_CONSTANT and right == 0:
            return self._fault(node, "division by zero")  # whatever the numerator is
        if left is _NOT_CONSTANT or right is _NOT_CONSTANT:
            return _NOT_CONSTANT
        if isinstance(node.op, ast.Add):
            value = left + right
        elif isinstance(node.op, ast.Sub):
            value = left - right
        elif isinstance(node.op, ast.Mult):
            value = left * right
        else:
            value = left / right
        return self._finite(node, value)

    def _BoolOp(self, node: ast.BoolOp) -> Any:
        stops_at = isinstance(node.op, ast.Or)  # `or` stops at a True operand, `and` at a False one
        constant = True
        for value in node.values:
            folded = self.fold(value)
            if folded is _NOT_CONSTANT:
                constant = False
            elif folded is stops_at:
                return folded if constant else _NOT_CONSTANT  # the operands after it never run
        return (not stops_at) if constant else _NOT_CONSTANT

    def _Compare(self, node: ast.Compare) -> Any:
        values = [self.fold(operand) for operand in (node.left, *node.comparators)]
        if any(value is _NOT_CONSTANT for value in values):
            return _NOT_CONSTANT
        return all(_COMPARE_FOLD[type(op)](values[i], values[i + 1]) for i, op in enumerate(node.ops))

    def _IfExp(self, node: ast.IfExp) -> Any:
        test = self.fold(node.test)
        if test is not _NOT_CONSTANT:
            return self.fold(node.body if test else node.orelse)  # the other branch never runs
        self.fold(node.body)
        self.fold(node.orelse)
        return _NOT_CONSTANT

    def _Call(self, node: ast.Call) -> Any:
        name = cast(ast.Name, node.func).id
        if name not in FUNCTIONS:  # prev(name): an input, never constant
            return _NOT_CONSTANT
        spec = FUNCTIONS[name]  # the typer accepted the call
        args = [self.fold(arg) for arg in node.args]
        if any(arg is _NOT_CONSTANT for arg in args):
            return _NOT_CONSTANT
        if spec.literal_args:  # pow(x, k): k is an integer literal
            args = [int(arg) if i in spec.literal_args else arg for i, arg in enumerate(args)]
        try:
            value = spec.scalar(*args)
        except RuleNumericError as error:
            return self._fault(node, str(error))
        return value if isinstance(value, bool) else self._finite(node, value)


_COMPARE_FOLD: dict[type, Callable[[Any, Any], bool]] = {
    ast.Lt: lambda a, b: a < b,
    ast.LtE: lambda a, b: a <= b,
    ast.Gt: lambda a, b: a > b,
    ast.GtE: lambda a, b: a >= b,
    ast.Eq: lambda a, b: a == b,
    ast.NotEq: lambda a, b: a != b,
}
