"""Shared plumbing for feature calculators: input cleaning, parameter checks, state.

Every calculator follows one contract (see docs/features.md):

* ``update(ts, ...)`` accepts a reading only if ``ts`` is finite and strictly later than
  the last accepted ``ts`` and every input is a finite number; anything else is ignored
  whole, so a bad reading never half-updates a feature.
* ``value`` is ``None`` while warming up.
* ``state()`` is plain JSON (floats round-trip exactly through ``json``), and
  ``from_state()`` rebuilds an object whose later values are bit-identical.
"""

from __future__ import annotations

from typing import Any, Mapping

STATE_VERSION = 1


def num(x: Any) -> float | None:
    """``float(x)`` if it is a finite number, else ``None`` (None, NaN, ±inf, junk)."""
    if x is None:
        return None
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    # f - f is 0.0 for finite f and NaN for NaN/inf: one comparison rejects both.
    return f if f - f == 0.0 else None


def next_ts(ts: Any, last_ts: float | None) -> float | None:
    """The accepted timestamp, or ``None`` if it is invalid, duplicate or out of order."""
    t = num(ts)
    if t is None or (last_ts is not None and t <= last_ts):
        return None
    return t


def check_int(name: str, value: Any, minimum: int) -> int:
    """Validate an integer parameter (bools are rejected: ``True`` is not a window)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


def check_positive(name: str, value: Any) -> float:
    """Validate a strictly positive finite number (window lengths in seconds)."""
    f = None if isinstance(value, bool) else num(value)
    if f is None or f <= 0.0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return f


def check_non_negative(name: str, value: Any) -> float:
    """Validate a finite number >= 0 (thresholds)."""
    f = None if isinstance(value, bool) else num(value)
    if f is None or f < 0.0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return f


def header(obj: object) -> dict:
    """The common part of every ``state()`` dict."""
    return {"type": type(obj).__name__, "version": STATE_VERSION}


def check_state(cls: type, state: Mapping[str, Any]) -> None:
    """Refuse a state dict written by another class or another state version."""
    if not isinstance(state, Mapping):
        raise ValueError(f"{cls.__name__} state must be a mapping, got {type(state).__name__}")
    kind = state.get("type")
    if kind != cls.__name__:
        raise ValueError(f"state is for {kind!r}, not {cls.__name__}")
    if state.get("version") != STATE_VERSION:
        raise ValueError(
            f"{cls.__name__} state version {state.get('version')!r} is not supported "
            f"(expected {STATE_VERSION})"
        )


def sign(x: float) -> int:
    """-1, 0 or +1."""
    return (x > 0.0) - (x < 0.0)
