"""Durations as rule files write them (`90s`, `30m`, `2h`) and as the engine uses them (seconds)."""

from __future__ import annotations

import math
import re

from engine.language.diagnostics import clip

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PATTERN = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)$")
_SHOWN = 40  # characters of a rejected duration quoted back in a message


def parse_duration(text: str) -> float:
    """Seconds in ``text``; ValueError with the accepted form when it is not a duration.

    A spelling with hundreds of digits matches the pattern but is infinite as a float; the
    engine's windows and clocks cannot use infinity, so it is refused here as well as by
    the schema (engine.language.schema's ``x-finite``), never passed on."""
    seconds = spelled_seconds(text)
    if seconds is None:
        raise ValueError(f"{shown(text)} is not a duration; write a number and a unit ms, s, m, h or d, e.g. 30m")
    if not math.isfinite(seconds):
        raise ValueError(f"{shown(text)} is not a finite length of time; write a shorter duration, e.g. 30d")
    return seconds


def spelled_seconds(text: object) -> float | None:
    """The seconds ``text`` spells, inf included (for validators that report it); None when
    ``text`` is not a duration at all."""
    match = _PATTERN.match(text) if isinstance(text, str) else None
    if match is None:
        return None
    return float(match.group(1)) * _UNITS[match.group(2)]


def shown(value: object) -> str:
    """``repr(value)`` cut to a readable length: a message must not echo 400 digits."""
    return clip(repr(value), _SHOWN)


def format_duration(seconds: float) -> str:
    """The shortest exact spelling of ``seconds`` (used by learners writing durations back)."""
    for unit in ("d", "h", "m", "s"):
        size = _UNITS[unit]
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    if seconds == 0:
        return "0s"
    return f"{round(seconds * 1000)}ms" if seconds < 1 else f"{seconds:g}s"
