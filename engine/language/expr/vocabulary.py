"""The typed names an expression may read.

Every input an expression uses must be declared with a type and a unit, so typos fail at
load time (with a suggestion) instead of silently reading nothing at trade time, and so
docs and JSON-schema exports can say what each name means.
"""

from __future__ import annotations

import keyword
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from .functions import FUNCTIONS

TYPES = ("float", "bool")
_JSON_TYPES = {"float": "number", "bool": "boolean"}


@dataclass(frozen=True, slots=True)
class NameSpec:
    name: str
    type: str  # "float" | "bool"
    unit: str  # e.g. "USD", "ratio", "%", "s", "count", "0-100", "" for bool
    description: str

    def __post_init__(self) -> None:
        # Only names the expression parser can produce, so a declared name is always usable.
        if not (self.name.isascii() and self.name.isidentifier()) or keyword.iskeyword(self.name):
            raise ValueError(f"invalid input name {self.name!r}: must be an ASCII identifier")
        if self.name.startswith("__"):
            raise ValueError(f"invalid input name {self.name!r}: dunder names are reserved")
        if self.type not in TYPES:
            raise ValueError(f"input {self.name!r}: type must be one of {TYPES}, got {self.type!r}")


PREVIOUS = "prev"  # prev(name): the name's value one evaluation earlier (vocabularies with ``previous``)


def previous_name(name: str) -> str:
    """The environment key that holds ``prev(name)``: not an identifier, so no input can take it."""
    return f"{PREVIOUS}({name})"


@dataclass(frozen=True)
class Vocabulary:
    names: Mapping[str, NameSpec]
    previous: bool = False  # expressions may read prev(name): the caller keeps the last values

    def __post_init__(self) -> None:
        names = dict(self.names)
        for key, spec in names.items():
            if key != spec.name:
                raise ValueError(f"vocabulary key {key!r} does not match spec name {spec.name!r}")
            if key in FUNCTIONS:
                raise ValueError(f"input name {key!r} would shadow the function {key}()")
        object.__setattr__(self, "names", MappingProxyType(names))

    def __hash__(self) -> int:
        return hash((frozenset(self.names.items()), self.previous))

    @classmethod
    def of(cls, *specs: NameSpec) -> Vocabulary:
        return cls(_union({}, specs))

    def merged(self, other: Vocabulary) -> Vocabulary:
        """Union of both; a name declared twice must be declared identically."""
        return Vocabulary(_union(dict(self.names), other.names.values()), self.previous or other.previous)

    def with_previous(self) -> Vocabulary:
        """The same names, with ``prev(name)`` allowed."""
        return Vocabulary(self.names, True)

    def as_json_schema_annotations(self) -> dict:
        """{name: {"type": "number"|"boolean", "unit": ..., "description": ...}}, sorted by name."""
        return {
            name: {"type": _JSON_TYPES[spec.type], "unit": spec.unit, "description": spec.description}
            for name, spec in sorted(self.names.items())
        }


def _union(into: dict[str, NameSpec], specs) -> dict[str, NameSpec]:
    for spec in specs:
        seen = into.get(spec.name)
        if seen is not None and seen != spec:
            raise ValueError(f"input {spec.name!r} declared twice with different specs: {seen} vs {spec}")
        into[spec.name] = spec
    return into
