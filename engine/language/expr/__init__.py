"""The rule expression language: a small, typed, side-effect-free subset of Python syntax.

Rule files hold expressions such as ``funding_rate_z > 2 and oi_velocity_pct > 0.5``.
:func:`compile_expression` checks one against a :class:`Vocabulary` of typed inputs and
returns a :class:`CompiledExpression` (or diagnostics, never a traceback). Evaluation is
a closure tree for single values and a numpy twin for arrays; neither uses eval().

This package does not import numpy; ``CompiledExpression.vector`` imports it on first use.
"""

from __future__ import annotations

from .check import MAX_DEPTH, MAX_LENGTH, MAX_LITERAL, MAX_NODES, MAX_POW_EXPONENT
from .codes import CODES
from .compiled import CompiledExpression, MissingInputError, compile_expression
from .functions import FUNCTIONS, FunctionSpec
from .vocabulary import PREVIOUS, NameSpec, Vocabulary, previous_name

__all__ = [
    "CODES",
    "FUNCTIONS",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "MAX_LITERAL",
    "MAX_NODES",
    "MAX_POW_EXPONENT",
    "PREVIOUS",
    "CompiledExpression",
    "FunctionSpec",
    "MissingInputError",
    "NameSpec",
    "Vocabulary",
    "compile_expression",
    "previous_name",
]
