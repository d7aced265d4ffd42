"""The explicit registry of rule-file kinds: YAML ``kind:`` → the module that compiles it.

No folder scanning: a new kind is added here by hand, with its schema (engine/language/schemagen/generate.py),
its tests and its reference page. ``_verify`` refuses a module without the common shape.
"""

from __future__ import annotations

from types import MappingProxyType, ModuleType

from engine.language.kinds import exits, gates, learning, requirements, risk, ruleset, schedules, signals, venues

_SHAPE = ("KIND", "CODES", "Spec", "build", "check")


def _verify(modules: tuple[ModuleType, ...]) -> MappingProxyType:
    registry: dict[str, ModuleType] = {}
    for module in modules:
        missing = [name for name in _SHAPE if not hasattr(module, name)]
        if missing:
            raise TypeError(f"{module.__name__} lacks {', '.join(missing)}")
        if module.KIND in registry:
            raise TypeError(f"kind {module.KIND!r} registered twice")
        registry[module.KIND] = module
    return MappingProxyType(registry)


KINDS = _verify((ruleset, signals, gates, requirements, risk, exits, learning, schedules, venues))
