"""The one hierarchy of errors rulebot raises on purpose, each with a stable code.

Every class has a ``code`` class attribute (an RBxxx code documented in
docs/reference/error-codes.md), so whoever catches one can say which problem it is without
parsing the message: the CLI prints ``rulebot: RB804 error: …`` and exits 1 for any
:class:`RulebotError` that reaches it, and 3 (a bug in rulebot) for anything else.
docs/architecture.md ("Errors") lists every class, where it lives and who catches it.

The classes here are the shared ones; a few live next to the code that raises them and
join the tree by subclassing (``PathError``, ``MissingInputError``, ``NotReplayable``,
``ColumnarError``, ``StateError``, the snapshot build's ``SourceError``). Where callers
caught a builtin before (``LookupError``, ``ValueError``), the class keeps it as a second
base, so those catch sites behave as they did.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.language.diagnostics import Diagnostic

CODES = {
    "RB500": "the rule set is invalid (carried by RuleSetInvalid with every finding)",
    "RB600": "evaluating a compiled rule failed; the role's failure policy applies",
    "RB601": "numeric fault while evaluating: division by zero, NaN, infinity, or a function outside its domain",
    "RB900": "internal error: a bug in rulebot, not in the rules",
}


class RulebotError(Exception):
    """Root of every error rulebot raises on purpose; ``code`` names the problem."""

    code = "RB900"


class RuleSetInvalid(RulebotError):
    """A rule set could not be loaded; ``diagnostics`` says why, all at once."""

    code = "RB500"

    def __init__(self, diagnostics: Iterable[Diagnostic]):
        self.diagnostics = sorted(diagnostics, key=lambda d: d.sort_key())
        first = self.diagnostics[0] if self.diagnostics else None
        summary = f"{len(self.diagnostics)} problem(s)"
        if first is not None:
            summary += f"; first: {first.file}:{first.line}:{first.col}: {first.code} {first.message}"
        super().__init__(summary)


class ResumeError(RulebotError):
    """What a state database saved cannot be resumed (malformed, or for another venue or
    format version): refused before anything is traded, the database left as it is."""

    code = "RB804"


class ReplayOnly(RulebotError):
    """The rules ask ``rulebot run`` for what only a replay can do: the freqtrade fill model
    fills inside a candle from its high and low, which a running bot learns only when the
    candle has closed. Refused before the state database is opened."""

    code = "RB807"


class StateLocked(RulebotError):
    """Another live process holds the state database's lock (adapters/store/lock.py): two
    writers on one state would interleave their steps, so the second is refused at start,
    before it opens the database. ``holder`` is what the lock file says about the first
    (pid, command, since), empty when it could not be read."""

    code = "RB805"

    def __init__(self, message: str, holder: dict[str, object] | None = None):
        super().__init__(message)
        self.holder = dict(holder or {})


class RuleRuntimeError(RulebotError):
    """Evaluating a compiled rule failed; the caller applies the role's failure policy."""

    code = "RB600"


class RuleNumericError(RuleRuntimeError):
    """Division by zero, a NaN or an infinity, or a function outside its domain."""

    code = "RB601"


class BuildSourceError(RulebotError):
    """A source file named by a snapshot build spec cannot be used (missing, unreadable, a
    named column absent, no rows); the message names the file and why. The build reports it
    and writes nothing (``adapters.snapshots.history``'s ``SourceError`` is this error)."""

    code = "RB715"
