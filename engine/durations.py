"""Durations as rule files write them (`90s`, `30m`, `2h`) and as the engine uses them (seconds)."""

from __future__ import annotations

import re

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PATTERN = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)$")


def parse_duration(text: str) -> float:
    """Seconds in ``text``; ValueError with the accepted form when it is not a duration."""
    match = _PATTERN.match(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"{text!r} is not a duration; write a number and a unit ms, s, m, h or d, e.g. 30m")
    return float(match.group(1)) * _UNITS[match.group(2)]


def format_duration(seconds: float) -> str:
    """The shortest exact spelling of ``seconds`` (used by learners writing durations back)."""
    for unit in ("d", "h", "m", "s"):
        size = _UNITS[unit]
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    if seconds == 0:
        return "0s"
    return f"{round(seconds * 1000)}ms" if seconds < 1 else f"{seconds:g}s"
