"""``_finite`` / ``_positive`` take fast paths for plain floats and None (they run for every
observed value); every input must still get the answer of the general rule."""

from __future__ import annotations

import math

import numpy as np
import pytest

from adapters.paper.broker import _finite, _positive


def general_finite(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def general_positive(value):
    value = general_finite(value)
    return value if value is not None and value > 0 else None


VALUES = [
    None,
    True,
    False,
    "1.0",
    b"1",
    [1.0],
    0,
    1,
    -1,
    2**80,
    0.0,
    -0.0,
    1.5,
    -1.5,
    5e-324,
    -5e-324,
    1.7976931348623157e308,
    math.inf,
    -math.inf,
    math.nan,
    np.float64(2.5),
    np.float64(math.nan),
    np.float64(-1.0),
    np.int64(3),
]


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_fast_paths_agree_with_the_general_rule(value):
    for fast, general in ((_finite, general_finite), (_positive, general_positive)):
        got, want = fast(value), general(value)
        assert type(got) is type(want) and (got == want or (got is None and want is None)), (fast, value)
        if isinstance(want, float):
            assert math.copysign(1, got) == math.copysign(1, want)
