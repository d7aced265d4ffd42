"""The explicit registry of the base rule-file kinds: YAML ``kind:`` → the module that compiles it.

Each module owns its kind whole: ``KIND``, ``CODES`` (the diagnostics it emits), a frozen
``Spec``, ``build(doc, ctx) -> Spec``, ``check(spec, doc, ctx)`` for the rules that need the
whole file, and ``schema()`` (its JSON Schema, written to ``schemas/<kind>.schema.json`` by
``python -m engine.language.schemagen``). No folder scanning: a new kind is added to the
list below by hand, with its tests; docgen writes its reference page. The overlay kinds
(``profile``, ``learned``) compile to no spec of their own; their schemas are in
:mod:`engine.language.kinds.overlays`.
"""

from __future__ import annotations

from engine.language.kinds import (
    exits,
    gates,
    indicators,
    learning,
    requirements,
    risk,
    ruleset,
    schedules,
    signals,
    venues,
)
from engine.language.registry import registry

KINDS = registry(
    "rule-file kinds",
    (ruleset, indicators, signals, gates, requirements, risk, exits, learning, schedules, venues),
    ("CODES", "Spec", "build", "check", "schema"),
)
