"""Floats into Decimals the way a person wrote them, for arithmetic that must come out exact
(sizes on a venue's step, quantities that net to zero, products of declared multipliers)."""

from __future__ import annotations

from decimal import Decimal


def to_decimal(value: float | Decimal) -> Decimal:
    """``value`` as a Decimal: a Decimal as is, an int exactly, a float as its shortest
    round-trip decimal (``repr``), so 0.7 is 0.7 and not 0.6999999999999999555910790149937.

    ``Decimal(0.7)`` would carry the binary error into every product; ``Decimal(str(x))``
    is the same as ``repr`` for a float but not for a numpy scalar, hence ``float()`` first."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    return Decimal(repr(float(value)))
