"""Market-intelligence sources behind ``engine.ports.IntelPort``, by the `kind` of a
rules/venues.yaml `intelligence` entry. An explicit registry: a new source is added here.

A factory takes the compiled entry and keyword options — ``cache_dir`` (required: where its
answers are kept, e.g. ``<state>/coinglass-cache/``), ``environ``, ``base_url``, ``transport``,
``clock``, ``sleep``, ``price_of`` — and returns the client (see each source's ``build``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from adapters.intel.coinglass import build as build_coinglass
from engine.ports import IntelPort

IntelFactory = Callable[..., IntelPort]

INTEL: dict[str, IntelFactory] = {
    "coinglass": build_coinglass,
}


def build_intel(source: Mapping[str, Any], **options: Any) -> IntelPort:
    """The client of one compiled `intelligence` entry, by its kind."""
    factory = INTEL.get(str(source.get("kind")))
    if factory is None:
        raise KeyError(
            f"no market-intelligence client of kind {source.get('kind')!r}; known: {', '.join(sorted(INTEL))}"
        )
    return factory(source, **options)
