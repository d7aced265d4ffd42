"""Shared fixtures for the expression-language tests."""

from __future__ import annotations

import pytest

from engine.language.expr import NameSpec, Vocabulary

FLOATS = ("a", "b", "c", "d", "funding_rate_z", "oi_velocity_pct", "price_usd", "rsi")
BOOLS = ("p", "q", "is_perp")


def make_vocabulary() -> Vocabulary:
    units = {"funding_rate_z": "ratio", "oi_velocity_pct": "%", "price_usd": "USD", "rsi": "0-100"}
    return Vocabulary.of(
        *(NameSpec(n, "float", units.get(n, ""), f"test input {n}") for n in FLOATS),
        *(NameSpec(n, "bool", "", f"test flag {n}") for n in BOOLS),
    )


@pytest.fixture(scope="session")
def vocab() -> Vocabulary:
    return make_vocabulary()
