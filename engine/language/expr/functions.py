"""The fixed registry of pure functions an expression may call.

Each function has a scalar implementation (hot path, plain floats) and a numpy twin
(backtests, whole arrays) that follow the same policy: values outside the domain raise
:class:`RuleNumericError` instead of producing NaN or inf. The numpy twins take an
``active`` mask first: only elements the scalar path would actually evaluate (see
``vectorized``) may raise, so a guarded ``sqrt(x) if x > 0 else 0`` never faults.

numpy is bound late by :func:`load_numpy` so ``import engine.language.expr`` stays light.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import reduce
from types import MappingProxyType
from typing import Any

from engine.common.errors import RuleNumericError

np: Any = None  # numpy, bound on first vector use


def load_numpy() -> Any:
    """Import numpy on demand (the CLI's cold start must not pay for it)."""
    global np
    if np is None:
        import numpy

        np = numpy
    return np


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    name: str
    signature: str
    description: str
    min_args: int
    max_args: int
    result_type: str  # "float" | "bool"; every argument is a float
    cost: int  # weight in CompiledExpression.cost
    scalar: Callable[..., Any]
    vector: Callable[..., Any]  # vector(active_mask_or_None, *arrays)
    literal_args: tuple[int, ...] = ()  # positions that must be integer literals (checked at compile)


# --- fault helpers (vector) -------------------------------------------------------------


def raise_if_any(bad: Any, active: Any, message: str) -> None:
    """Raise if ``bad`` holds for an element the scalar path would evaluate."""
    if active is not None:
        bad = np.logical_and(bad, active)
    if np.any(bad):
        where = f" (element {int(np.flatnonzero(bad)[0])})" if np.ndim(bad) else ""
        raise RuleNumericError(message + where)


def check_finite(result: Any, active: Any, message: str) -> Any:
    raise_if_any(~np.isfinite(result), active, message)
    return result


# --- scalar / vector pairs ----------------------------------------------------------------


def _sign(x: float) -> float:
    return 1.0 if x > 0 else -1.0 if x < 0 else 0.0


def _clip(x: float, lo: float, hi: float) -> float:
    if lo > hi:
        raise RuleNumericError(f"clip: lo {lo!r} is greater than hi {hi!r}")
    return lo if x < lo else hi if x > hi else x


def _clip_v(active, x, lo, hi):
    raise_if_any(np.greater(lo, hi), active, "clip: lo is greater than hi")
    return np.minimum(np.maximum(x, lo), hi)


def _sqrt(x: float) -> float:
    if x < 0:
        raise RuleNumericError(f"sqrt of negative value {x!r}")
    return math.sqrt(x)


def _sqrt_v(active, x):
    raise_if_any(np.less(x, 0), active, "sqrt of negative value")
    return np.sqrt(x)


def _log(x: float) -> float:
    if x <= 0:
        raise RuleNumericError(f"log of non-positive value {x!r}")
    return math.log(x)


def _log_v(active, x):
    raise_if_any(np.less_equal(x, 0), active, "log of non-positive value")
    return np.log(x)


def _log1p(x: float) -> float:
    if x <= -1:
        raise RuleNumericError(f"log1p of value {x!r} <= -1")
    return math.log1p(x)


def _log1p_v(active, x):
    raise_if_any(np.less_equal(x, -1), active, "log1p of value <= -1")
    return np.log1p(x)


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        raise RuleNumericError(f"exp({x!r}) overflows") from None


def _exp_v(active, x):
    return check_finite(np.exp(x), active, "exp overflows")


def _power_by_squaring(x: Any, n: int) -> Any:
    """x**n for n >= 0 with a fixed multiplication order, so scalar and numpy agree bit for bit."""
    result: Any = 1.0
    while n:
        if n & 1:
            result = result * x
        n >>= 1
        if n:
            x = x * x
    return result


def _pow(x: float, k: int) -> float:
    p = _power_by_squaring(x, abs(k))
    if p - p:
        raise RuleNumericError(f"pow({x!r}, {k}) overflows")
    if k >= 0:
        return p
    if not p:
        raise RuleNumericError(f"pow({x!r}, {k}) divides by zero")
    r = 1.0 / p
    if r - r:
        raise RuleNumericError(f"pow({x!r}, {k}) overflows")
    return r


def _pow_v(active, x, k: int):
    p = check_finite(_power_by_squaring(x, abs(k)), active, f"pow(x, {k}) overflows")
    if k >= 0:
        return p
    raise_if_any(np.equal(p, 0), active, f"pow(x, {k}) divides by zero")
    return check_finite(np.true_divide(1.0, p), active, f"pow(x, {k}) overflows")


def _between(x: float, lo: float, hi: float) -> bool:
    return lo <= x <= hi


def _between_v(active, x, lo, hi):
    return np.logical_and(np.less_equal(lo, x), np.less_equal(x, hi))


def _spec(name, signature, description, arity, result_type, cost, scalar, vector, literal_args=()):
    lo, hi = arity if isinstance(arity, tuple) else (arity, arity)
    return FunctionSpec(name, signature, description, lo, hi, result_type, cost, scalar, vector, literal_args)


_SPECS = (
    _spec("abs", "abs(x)", "absolute value", 1, "float", 1, abs, lambda a, x: np.abs(x)),
    _spec(
        "min",
        "min(a, b, ...)",
        "smallest of 2 to 8 values",
        (2, 8),
        "float",
        1,
        min,
        lambda a, *xs: reduce(np.minimum, xs),
    ),
    _spec(
        "max",
        "max(a, b, ...)",
        "largest of 2 to 8 values",
        (2, 8),
        "float",
        1,
        max,
        lambda a, *xs: reduce(np.maximum, xs),
    ),
    _spec(
        "clip", "clip(x, lo, hi)", "x limited to [lo, hi]; lo > hi is a numeric error", 3, "float", 2, _clip, _clip_v
    ),
    _spec("sign", "sign(x)", "-1.0, 0.0 or 1.0", 1, "float", 1, _sign, lambda a, x: np.sign(x)),
    _spec("sqrt", "sqrt(x)", "square root; x < 0 is a numeric error", 1, "float", 3, _sqrt, _sqrt_v),
    _spec("log", "log(x)", "natural logarithm; x <= 0 is a numeric error", 1, "float", 4, _log, _log_v),
    _spec(
        "log1p", "log1p(x)", "log(1 + x), accurate near 0; x <= -1 is a numeric error", 1, "float", 4, _log1p, _log1p_v
    ),
    _spec("exp", "exp(x)", "e to the x; overflow is a numeric error", 1, "float", 4, _exp, _exp_v),
    _spec(
        "pow",
        "pow(x, k)",
        "x to the k; k must be an integer literal with |k| <= 16",
        2,
        "float",
        3,
        _pow,
        _pow_v,
        literal_args=(1,),
    ),
    _spec("between", "between(x, lo, hi)", "true when lo <= x <= hi", 3, "bool", 2, _between, _between_v),
)

FUNCTIONS: Mapping[str, FunctionSpec] = MappingProxyType({s.name: s for s in _SPECS})
