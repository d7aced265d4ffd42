"""What every rule-kind module gets: its document, and a context to report into.

Every kind module has the same shape: ``KIND`` (the YAML ``kind:``), ``CODES`` (the
diagnostics it can emit), a frozen ``Spec``, ``build(doc, ctx) -> Spec`` and
``check(spec, doc, ctx)`` for the semantic rules that need the whole file.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.language.diagnostics import Collector, Diagnostic, Location, Severity
from engine.language.schema import _pointer

CODES = {"RB300": "an id is used twice in one list (ids name reason codes and parameter paths)"}


@dataclass(frozen=True)
class Doc:
    """One rule document as the builders see it: overlays applied, defaults filled."""

    kind: str
    data: Any  # plain data (defaults filled, overlays applied)
    frozen: Mapping[str, Any]  # the same, frozen by the schema (durations in seconds, ...)
    locate: Callable[[tuple, bool], Location]

    def at(self, path: tuple, *, key: bool = False) -> Location:
        return self.locate(path, key)


@dataclass
class BuildContext:
    """Per-compile state: the profile being compiled and where findings go."""

    profile: str
    thresholds: str
    collector: Collector = field(default_factory=Collector)
    compile_expression: Callable[..., Any] | None = None
    declared: Any = None  # Vocabulary: the names indicators.yaml adds to the market vocabulary

    def declare(self, names: Any) -> None:
        """Add declared names (engine/language/kinds/indicators.py) to every context's vocabulary."""
        self.declared = names if self.declared is None else self.declared.merged(names)

    def vocabulary(self, context: str) -> Any:
        """The vocabulary an expression of ``context`` is checked against: the built-in names
        and the declared indicators."""
        from engine.language.vocabulary import CONTEXTS

        return CONTEXTS[context] if self.declared is None else CONTEXTS[context].merged(self.declared)

    def report(
        self,
        doc: Doc,
        path: tuple,
        code: str,
        message: str,
        *,
        suggestion: str = "",
        key: bool = False,
        severity: Severity = Severity.ERROR,
    ) -> None:
        where = doc.at(path, key=key)
        self.collector.add(
            Diagnostic(
                code,
                message,
                file=where.file,
                line=where.line,
                col=where.col,
                path=_pointer(path),
                suggestion=suggestion,
                severity=severity,
            )
        )

    def expression(self, doc: Doc, path: tuple, context: str, expect: str = "bool"):
        """Compile the expression at ``path`` against a vocabulary context; None if it is bad."""
        from engine.language.expr import compile_expression

        text = _get(doc.data, path)
        compiled, problems = compile_expression(
            text, self.vocabulary(context), expect=expect, location=_inside_quotes(doc.at(path)), path=_pointer(path)
        )
        self.collector.extend(problems)
        return compiled


def _inside_quotes(where: Location) -> Location:
    """Columns of a quoted YAML scalar start after its opening quote."""
    try:
        lines = Path(where.file).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return where
    line = lines[where.line - 1] if 0 < where.line <= len(lines) else ""
    if 0 < where.col <= len(line) and line[where.col - 1] in "\"'":
        return Location(where.file, where.line, where.col + 1)
    return where


def _get(data: Any, path: tuple) -> Any:
    for step in path:
        data = data[step]
    return data


def check_unique_ids(doc: Doc, list_path: tuple, ctx: BuildContext, what: str) -> None:
    """RB300: ids inside one list must be unique (they name reason codes and parameter paths)."""
    seen: set[str] = set()
    for index, item in enumerate(_get(doc.data, list_path)):
        if item.get("id") not in seen:
            seen.add(item.get("id"))
        else:
            ctx.report(
                doc,
                list_path + (index, "id"),
                "RB300",
                f"{what} id '{item['id']}' is used more than once",
                suggestion="give each entry its own id",
            )


def index_of(doc: Doc, list_path: tuple, item_id: str) -> int:
    """Position of the element with ``id`` in a list (for locating diagnostics)."""
    for index, item in enumerate(_get(doc.data, list_path)):
        if item.get("id") == item_id:
            return index
    return 0
