"""Rendering diagnostics for people (text), programs (json) and CI (GitHub annotations)."""

from __future__ import annotations

import json
from collections.abc import Iterable

from engine.language.diagnostics import Diagnostic


def _message(d: Diagnostic) -> str:
    """The message, with the suggestion appended unless the message already says it."""
    if d.suggestion and d.suggestion not in d.message:
        return f"{d.message} ({d.suggestion})"
    return d.message


def as_text(diagnostics: Iterable[Diagnostic]) -> str:
    return "\n".join(f"{d.file}:{d.line}:{d.col}: {d.code} {d.severity.value}: {_message(d)}" for d in diagnostics)


def as_text_capped(diagnostics: list[Diagnostic], limit: int = 50) -> str:
    """``as_text`` of the first ``limit``, then how many more there were: a file full of bad
    lines is reported in a screenful, not in thousands of lines."""
    more = f"\n… {len(diagnostics) - limit:,} more" if len(diagnostics) > limit else ""
    return as_text(diagnostics[:limit]) + more


def as_json(diagnostics: Iterable[Diagnostic]) -> str:
    return json.dumps([d.as_dict() for d in diagnostics], indent=2, ensure_ascii=False)


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def as_github(diagnostics: Iterable[Diagnostic]) -> str:
    """GitHub Actions workflow commands: one ::error/::warning annotation per finding."""
    lines = []
    for d in diagnostics:
        message = _message(d)
        props = [f"file={_escape_property(d.file)}"]
        if d.line:
            props += [f"line={d.line}", f"col={max(d.col, 1)}"]
        props.append(f"title={_escape_property(d.code)}")
        lines.append(f"::{d.severity.value} {','.join(props)}::{_escape_data(message)}")
    return "\n".join(lines)


FORMATS = {"text": as_text, "json": as_json, "github": as_github}
