"""Parameter paths: the stable names of rule values, for overlays, learners and diffs.

A parameter path is ``<kind>.<key>.<key>...`` where a list element is named by its
``id`` (``signals.components.funding_rate.weight``), never by its position, so a path
survives reordering the list. Lists without ids (conviction levels, targets) are
addressed by position.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import Any

from engine.common.errors import RulebotError


class PathError(RulebotError, LookupError):
    """A parameter path that names nothing; ``suggestion`` offers the closest real one.
    Still a LookupError: docgen skips such a path by catching that."""

    code = "RB520"

    def __init__(self, message: str, suggestion: str = ""):
        super().__init__(message)
        self.suggestion = suggestion


def to_param_path(kind: str, data: Any, path: Sequence) -> str:
    """The dotted parameter path of the value at ``path`` (a tuple of keys/indexes)."""
    parts = [kind]
    node = data
    for step in path:
        if isinstance(node, list) and isinstance(step, int):
            item = node[step]
            parts.append(item["id"] if isinstance(item, dict) and "id" in item else str(step))
        else:
            parts.append(str(step))
        node = node[step]
    return ".".join(parts)


def _child(node: Any, segment: str) -> tuple[Any, Any]:
    """(key or index, child) for ``segment`` under ``node``; KeyError when absent."""
    if isinstance(node, dict):
        if segment in node:
            return segment, node[segment]
        raise KeyError(segment)
    if isinstance(node, list):
        for index, item in enumerate(node):
            if isinstance(item, dict) and item.get("id") == segment:
                return index, item
        if segment.isdigit() and int(segment) < len(node):
            return int(segment), node[int(segment)]
    raise KeyError(segment)


def _names(node: Any) -> list[str]:
    if isinstance(node, dict):
        return list(node)
    if isinstance(node, list):
        return [item["id"] if isinstance(item, dict) and "id" in item else str(i) for i, item in enumerate(node)]
    return []


def resolve(documents: Mapping[str, Any], dotted: str) -> tuple[str, tuple]:
    """(kind, raw path tuple) of ``dotted`` in ``documents`` (kind → data); PathError if absent."""
    kind, *segments = dotted.split(".")
    if kind not in documents:
        raise PathError(f"no rule file of kind '{kind}'", _did_you_mean(kind, list(documents)))
    node, path = documents[kind], []
    for depth, segment in enumerate(segments):
        try:
            key, node = _child(node, segment)
        except KeyError:
            where = ".".join([kind, *segments[:depth]])
            raise PathError(
                f"'{segment}' does not exist under '{where}'", _did_you_mean(segment, _names(node))
            ) from None
        path.append(key)
    return kind, tuple(path)


def get(data: Any, path: Sequence) -> Any:
    for step in path:
        data = data[step]
    return data


def set_value(data: Any, path: Sequence, value: Any) -> None:
    """Set in place; a learnable ``{value, learn}`` keeps its bounds and gets a new value."""
    parent = get(data, path[:-1])
    current = parent[path[-1]]
    if isinstance(current, dict) and "value" in current and "learn" in current:
        current["value"] = value
    else:
        parent[path[-1]] = value


def _did_you_mean(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else ""
