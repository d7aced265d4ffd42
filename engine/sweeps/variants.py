"""The variants of a sweep spec: every combination of its parameters' values (a grid), or a
seeded random draw of distinct combinations. Each has a stable id (its position in the grid),
so a rerun of the same spec names the same variant the same way (resuming relies on it)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from engine.sweeps.spec import Spec


@dataclass(frozen=True, slots=True)
class Variant:
    id: str  # "g0042": its index in the full grid, whatever the search
    values: tuple[tuple[str, Any], ...]  # (parameter path, value), in the spec's order

    def as_dict(self) -> dict[str, Any]:
        return dict(self.values)


def expand(spec: Spec) -> tuple[Variant, ...]:
    """The spec's variants, in grid order (a random search: its draw, sorted by id)."""
    size = spec.size()
    chosen: list[int] | range = range(size)
    if spec.method == "random" and spec.trials < size:
        chosen = sorted(random.Random(spec.seed).sample(range(size), spec.trials))
    return tuple(_variant(spec, index) for index in chosen)


def _variant(spec: Spec, index: int) -> Variant:
    """The grid's ``index``-th combination, the last parameter varying fastest."""
    digits = len(str(max(spec.size() - 1, 0)))
    values = []
    rest = index
    for parameter in reversed(spec.parameters):
        rest, k = divmod(rest, len(parameter.values))
        values.append((parameter.path, parameter.values[k]))
    return Variant(f"g{index:0{digits}d}", tuple(reversed(values)))


def variant_at(spec: Spec, indices: Sequence[int]) -> Variant:
    """The variant taking each parameter's ``indices[k]``-th value (its grid id, whatever the search)."""
    index = 0
    for parameter, k in zip(spec.parameters, indices, strict=True):
        index = index * len(parameter.values) + k
    return _variant(spec, index)
