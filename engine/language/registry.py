"""One shape-checked, duplicate-refusing registry for every family of kinds.

A family (gates, exit tiers, signal components, rule files) lists its kind modules by hand —
no folder scanning — and :func:`registry` refuses, at import time, a module that lacks a
name the family requires or that reuses a kind. A wrong registration is a programming error
found by the first import, never a surprise in the middle of a run.
"""

from __future__ import annotations

from collections.abc import Iterable
from types import MappingProxyType, ModuleType


class RegistryError(TypeError):
    """A kind module does not have its family's shape, or its kind is registered twice."""


def registry(
    family: str,
    modules: Iterable[ModuleType],
    required: Iterable[str],
    *,
    key: str = "KIND",
) -> MappingProxyType[str, ModuleType]:
    """``key`` (``KIND``; ``NAME`` for scheduled tasks) → module for ``modules``, each checked
    to define every name in ``required``."""
    needed = (key, *required)
    found: dict[str, ModuleType] = {}
    for module in modules:
        missing = [name for name in needed if not hasattr(module, name)]
        if missing:
            raise RegistryError(f"{family}: {module.__name__} lacks {', '.join(missing)}")
        kind = getattr(module, key)
        if kind in found:
            raise RegistryError(
                f"{family}: kind {kind!r} is registered twice ({found[kind].__name__}, {module.__name__})"
            )
        found[kind] = module
    return MappingProxyType(found)
