"""engine.common.decimals.to_decimal: a float as the number a person wrote, one function for
sizing and the paper broker."""

from __future__ import annotations

from decimal import Decimal

import numpy as np

from engine.common.decimals import to_decimal


def test_a_float_is_its_shortest_round_trip_decimal():
    assert to_decimal(0.7) == Decimal("0.7")
    assert to_decimal(0.1) + to_decimal(0.2) == Decimal("0.3")
    assert str(to_decimal(1e-9)) == "1E-9"


def test_numpy_floats_convert_like_python_floats():
    assert to_decimal(np.float64(0.07)) == Decimal("0.07")
    assert to_decimal(np.float32(0.5)) == Decimal("0.5")


def test_ints_are_exact_and_decimals_pass_through():
    big = 2**60 + 1  # a float would round it
    assert to_decimal(big) == Decimal(big)
    value = Decimal("0.4550000000000000000001")
    assert to_decimal(value) is value


def test_sizing_and_the_paper_broker_use_this_one_function():
    from adapters.paper import broker
    from engine.trading import sizing

    assert sizing.to_decimal is to_decimal
    assert broker._dec is to_decimal
    assert broker._add(0.1, 0.2) == 0.3  # decimal addition, not 0.30000000000000004
