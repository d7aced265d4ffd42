"""Findings about rule files: what is wrong, where, and how to fix it.

Every problem rulebot finds in a rule set is a :class:`Diagnostic`: a stable code, a
severity, where it is (file, line, column, JSON pointer inside the document), what is
wrong and how to fix it. Stages collect diagnostics instead of raising, so
``rulebot validate`` reports every problem at once.

Code families (stable; documented in docs/reference/error-codes.md):

=======  ===========================================================
RB1xx    YAML syntax and strict loading (duplicates, traps, aliases)
RB2xx    schema: shape, types, unknown keys, ranges
RB3xx    semantic checks across the whole rule set
RB4xx    expressions: syntax, names, limits, hostile input
RB5xx    rule-set layout: files, kinds, profiles, overlays
RB6xx    evaluation faults (runtime, numeric)
RB7xx    snapshots and snapshot files
RB8xx    the state database
RB9xx    internal errors (a bug in rulebot, never in the rules)
=======  ===========================================================

Exceptions live in :mod:`engine.common.errors` (the whole tree, with its codes).
"""

from __future__ import annotations

import difflib
import enum
from collections.abc import Iterable
from dataclasses import dataclass, field

from engine.common.redaction import redact_tokens


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One finding. ``line`` and ``col`` are 1-based; 0 means "unknown"."""

    code: str
    message: str
    file: str = ""
    line: int = 0
    col: int = 0
    path: str = ""
    suggestion: str = ""
    severity: Severity = Severity.ERROR

    def __post_init__(self) -> None:
        """Keep every text field encodable as UTF-8, and key material out of every output.

        A message may quote rule text or a file name: a lone surrogate there (a YAML
        ``"\\ud800"`` escape, an undecodable file name) would make ``print``, JSON output and
        hashing raise UnicodeEncodeError while reporting the very problem. A value quoted
        may also be an API key pasted into the wrong field, and a finding is printed, written
        as JSON and, with ``--format github``, kept in CI logs: anything shaped like a key is
        redacted here, once, for every format (engine/common/redaction.py). The file name is
        left alone: it is the operator's own path, and annotations need it whole."""
        for name in ("message", "file", "path", "suggestion"):
            value = getattr(self, name)
            if not isinstance(value, str):
                continue
            if not value.isascii():
                value = printable(value)
            if name != "file":
                value = redact_tokens(value)
            object.__setattr__(self, name, value)

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def sort_key(self) -> tuple[str, int, int, str, str, str]:
        return (self.file, self.line, self.col, self.code, self.path, self.message)

    def as_dict(self) -> dict[str, str | int]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "file": self.file,
            "line": self.line,
            "col": self.col,
            "path": self.path,
            "message": self.message,
            "suggestion": self.suggestion,
        }


def did_you_mean(word: object, choices: Iterable[object]) -> str:
    """The suggestion for a misspelt name: ``did you mean 'x'?`` with the closest of
    ``choices``, or empty when none is close."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else ""


def clip(text: str, limit: int = 60) -> str:
    """``text`` cut to ``limit`` characters, ending in "...": a message quotes a value, never
    a 100 kB key or a 400-digit number whole. Key material is redacted before the cut, which
    could otherwise leave a piece of a key too short to be recognised."""
    text = redact_tokens(text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def printable(text: str) -> str:
    """``text`` with code points UTF-8 cannot encode (lone surrogates) written as ``\\udxxx``."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


@dataclass(frozen=True, slots=True)
class Location:
    """Where a value came from; attached to every loaded YAML node."""

    file: str = ""
    line: int = 0
    col: int = 0

    def diagnostic(
        self, code: str, message: str, *, path: str = "", suggestion: str = "", severity: Severity = Severity.ERROR
    ) -> Diagnostic:
        return Diagnostic(
            code=code,
            message=message,
            file=self.file,
            line=self.line,
            col=self.col,
            path=path,
            suggestion=suggestion,
            severity=severity,
        )


@dataclass
class Collector:
    """Accumulates diagnostics for one stage; cheap to pass around."""

    items: list[Diagnostic] = field(default_factory=list)

    def add(self, diagnostic: Diagnostic) -> None:
        self.items.append(diagnostic)

    def extend(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.items.extend(diagnostics)

    @property
    def has_errors(self) -> bool:
        return any(d.is_error for d in self.items)
