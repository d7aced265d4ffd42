"""The default rule set as the reference pages show it: its files, version, learnable values
and the excerpts of single list elements."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.docgen.locations import ROOT, RULES

#: An example learned overlay (the default rule set has none); tests/test_docs.py proves it loads.
LEARNED_EXAMPLE = """\
# yaml-language-server: $schema=../../schemas/learned.schema.json
kind: learned
learner: signal_weights
base_version: {version}
created: "2025-01-06T07:00:00Z"
values:                                   # parameter path -> new value (learnable paths only)
  signals.components.funding_rate.weight: 0.17    # was 0.16; bounds 0.04 … 0.30, max_step 0.02
  signals.components.oi_divergence.weight: 0.03   # was 0.04; the weights still sum to 1
provenance:
  data_from: "2024-12-30T07:00:00Z"
  data_to: "2025-01-06T07:00:00Z"
  trades: 42
  metrics: {{hit_rate_before: 0.51, hit_rate_after: 0.54}}
  message: funding_rate was right more often than oi_divergence this week
"""


@dataclass(frozen=True)
class Defaults:
    """The default rule set as docgen needs it: files, data, the version, learnables."""

    files: dict[str, list[str]]  # kind → repo-relative file paths
    texts: dict[str, str]  # repo-relative path → file text
    data: dict[str, Any]  # base kind → raw data
    locate: dict[str, Callable[..., Any]]  # base kind → SourceFile.locate
    version: str
    learnables: Mapping[str, Mapping[str, Any]]


@dataclass(frozen=True)
class Learnable:
    """A value of the default rules that a learner may move: the value and its ``learn`` bounds."""

    path: str
    value: Any
    min: Any
    max: Any
    max_step: Any


def load_defaults() -> Defaults:
    """Load and compile ``rules/`` once; every page reads the result."""
    from engine.language.compiler import compile_ruleset
    from engine.language.loader import load_ruleset

    loaded = load_ruleset(RULES)
    files: dict[str, list[str]] = {}
    texts: dict[str, str] = {}
    for source in loaded.all_files():
        rel = Path(os.path.relpath(source.display, ROOT)).as_posix()
        files.setdefault(source.kind, []).append(rel)
        texts[rel] = (ROOT / rel).read_text(encoding="utf-8")
    result = compile_ruleset(str(RULES))
    plan = next(iter(result.plans.values()), None)
    return Defaults(
        files=files,
        texts=texts,
        data={k: s.data for k, s in loaded.base.items()},
        locate={k: s.locate for k, s in loaded.base.items()},
        version=result.version or "rs-0000000000000000",
        learnables=plan.learnables if plan is not None else {},
    )


def learnable_values(defaults: Defaults, kind: str) -> list[Learnable]:
    """The learnable values the default rules declare in the file of ``kind``."""
    from engine.language.paths import get, resolve

    found = []
    for dotted in defaults.learnables:
        if not dotted.startswith(kind + "."):
            continue
        try:
            name, raw_path = resolve(defaults.data, dotted)
            node = get(defaults.data[name], raw_path)
        except LookupError:
            continue
        learn = node["learn"]
        found.append(Learnable(dotted, node["value"], learn["min"], learn["max"], learn["max_step"]))
    return found


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _is_filler(line: str) -> bool:
    stripped = line.strip()
    return not stripped or stripped.startswith("#")


def excerpt(text: str, start_line: int) -> list[str]:
    """The lines of the list element starting at 1-based ``start_line``, with the comment
    lines directly above it and without the comments that introduce the next element."""
    lines = text.splitlines()
    first = start_line - 1
    dash = _indent(lines[first])
    last = first
    for j in range(first + 1, len(lines)):
        if not _is_filler(lines[j]) and _indent(lines[j]) <= dash:
            break
        last = j
    while last > first and _is_filler(lines[last]):
        last -= 1
    top = first
    while top > 0 and lines[top - 1].strip().startswith("#") and _indent(lines[top - 1]) >= dash:
        top -= 1
    return lines[top : last + 1]


def element_excerpt(defaults: Defaults, kind: str, list_key: str, variant: str) -> str | None:
    """YAML text of the default element of ``variant`` in the top-level list ``list_key``."""
    data = defaults.data.get(kind, {})
    for index, item in enumerate(data.get(list_key, ())):
        if isinstance(item, dict) and item.get("kind") == variant:
            where = defaults.locate[kind]((list_key, index))
            rel = defaults.files[kind][0]
            lines = excerpt(defaults.texts[rel], where.line)
            return f"{list_key}:\n" + "\n".join(lines) + "\n"
    return None
