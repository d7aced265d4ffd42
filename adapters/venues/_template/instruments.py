"""Contract specs: loaded from the venue once at start, cached, and checked against the
rules' offline specs (rules/venues.yaml ``instruments``). Every difference is named in one
InstrumentMismatch; the engine's base-unit sizes become whole size steps of contracts here,
rounded down, and prices land on the tick grid."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal


def contracts(base_quantity: Decimal, contract_size: Decimal, size_step: Decimal) -> Decimal:
    """Base units → contracts in whole size steps, rounded down (never more than asked)."""
    steps = (base_quantity / contract_size / size_step).to_integral_value(rounding=ROUND_DOWN)
    return steps * size_step
