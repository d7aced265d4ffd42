"""Compile once, evaluate many times: :func:`compile_expression` and its result."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine.common.errors import RuleRuntimeError
from engine.language.diagnostics import Diagnostic, Location

from .check import check
from .scalar import build_scalar
from .vectorized import build_vector
from .vocabulary import Vocabulary

if TYPE_CHECKING:
    import numpy

RESULT_TYPES = ("bool", "float")


class MissingInputError(RuleRuntimeError):
    """An input the expression reads is not in the environment; ``name`` says which."""

    def __init__(self, name: str):
        self.name = name
        super().__init__(f"missing input {name!r}")


@dataclass(frozen=True)
class CompiledExpression:
    """An expression that passed every check. Immutable, so safe to share across threads.

    Calling it evaluates the scalar closure tree; ``vector`` evaluates the same tree on
    numpy arrays. Both raise ``RuleNumericError`` (NaN/inf input, division by zero,
    non-finite result, function outside its domain) and ``MissingInputError`` (a subclass
    of ``RuleRuntimeError``) for an input that evaluation reaches but ``env`` lacks.
    """

    source: str
    names: frozenset[str]  # input names used
    result_type: str  # "bool" | "float"
    cost: int
    _scalar: Callable[[Any], Any] = field(repr=False)
    _vector: Callable[[Any, Any], Any] = field(repr=False)

    def __call__(self, env: Mapping[str, float | bool]) -> float | bool:
        try:
            return self._scalar(env)
        except KeyError as exc:
            raise MissingInputError(str(exc.args[0]) if exc.args else "?") from None
        except (TypeError, OverflowError) as exc:  # e.g. a str or None where a float belongs
            raise RuleRuntimeError(f"bad input value in {self.source!r}: {exc}") from None

    def vector(self, env: Mapping[str, numpy.ndarray]) -> numpy.ndarray:
        from .vectorized import evaluate

        try:
            return evaluate(self._vector, env, self.names, self.result_type)
        except KeyError as exc:
            raise MissingInputError(str(exc.args[0]) if exc.args else "?") from None
        except (TypeError, ValueError) as exc:  # unconvertible values, shapes that do not broadcast
            raise RuleRuntimeError(f"bad input arrays for {self.source!r}: {exc}") from None


NOWHERE = Location()  # where an expression with no file is reported


def compile_expression(
    text: str, vocabulary: Vocabulary, *, expect: str = "bool", location: Location = NOWHERE, path: str = ""
) -> tuple[CompiledExpression | None, list[Diagnostic]]:
    """Check ``text`` and build both evaluators; on any problem return None and every finding.

    ``location`` is where the expression scalar starts in the YAML file: diagnostics for a
    single-line expression point at the offending column inside it. Without a location,
    columns are 1-based positions in the expression text.
    """
    if expect not in RESULT_TYPES:
        raise ValueError(f"expect must be one of {RESULT_TYPES}, got {expect!r}")
    checked, diagnostics = check(text, vocabulary, expect=expect, location=location, path=path)
    if checked is None:
        return None, sorted(diagnostics, key=Diagnostic.sort_key)
    compiled = CompiledExpression(
        source=text,
        names=checked.names,
        result_type=checked.result_type,
        cost=checked.cost,
        _scalar=build_scalar(checked, vocabulary),
        _vector=build_vector(checked, vocabulary),
    )
    return compiled, []
