"""The size multiplier is exact: ``engine.trading.sizing.multiplier_product`` multiplies the declared
factors in decimal, and ``size_entry`` takes that Decimal as is, so a size never loses a step to
the binary float product of the factors.

The case that motivated it (tests/lifecycle/test_pnl.py): conviction gate LOW 0.7 ×
intelligence aligned_boost 1.3 × signal LOW 0.5 is 0.455, but the float product is
0.45499999999999996. At 10 000 USD equity, 10 % base allocation, 2x (LOW) and 100 000 USD/BTC:

    exact:  1 000 × 0.455 × 2 = 910 USD;        910 / 100 000 = 0.0091 BTC (on the 0.0001 step)
    float:  1 000 × 0.45499999999999996 × 2 = 909.9999999999999 USD → 0.0090999… → 0.0090 BTC
"""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from engine.trading.sizing import leverage_for, multiplier_product
from tests.entry.builders import sized

FACTORS = (0.7, 1.3, 0.5)  # conviction LOW, intelligence aligned_boost, signal LOW


def size(plan, **kw):
    """The sizing of a LOW-conviction BTCUSDT LONG at 100,000 USD unless ``kw`` says otherwise."""
    return sized(plan, **{"conviction": "LOW", "price": 100_000.0, **kw})


# ------------------------------------------------------------------ the product


def test_the_float_product_is_not_the_declared_product():
    float_product = 1.0
    for factor in FACTORS:
        float_product *= factor
    assert float_product == 0.45499999999999996 != 0.455
    assert multiplier_product(FACTORS) == Decimal("0.455")


@pytest.mark.parametrize(
    "factors, product",
    [
        ([], "1"),  # no factor: neutral
        ([1.0, 1.0, 1.0], "1"),
        ([0.7, 1.0, 1.0, 1.3, 1.0, 1.0, 0.5], "0.455"),  # the whole chain of the lifecycle scenario
        ([0.1, 0.2], "0.02"),  # float: 0.020000000000000004
        ([1.1, 1.1, 1.1], "1.331"),  # float: 1.3310000000000004
        ([2.5, 1.3, 1.5], "4.875"),
        ([Decimal("0.7"), 1.3], "0.91"),  # a Decimal factor is used as is
        ([2, 0.5], "1"),  # an int exactly
    ],
)
def test_multiplier_product_is_the_decimal_product(factors, product):
    assert multiplier_product(factors) == Decimal(product)


# ------------------------------------------------------------------ the size


def test_the_decimal_product_keeps_the_step_the_float_product_loses(kraken):
    exact = size(kraken, multiplier=multiplier_product(FACTORS))
    # 10 000 × 10 % × 0.455 × 2 = 910 USD; 910 / 100 000 = 0.0091 BTC, exactly on the step
    assert exact.ok and exact.leverage == 2 and exact.multiplier == 0.455
    assert Decimal(str(exact.contracts)) == Decimal("0.0091")
    assert exact.notional_usd == pytest.approx(910.0) and exact.margin_usd == pytest.approx(455.0)
    # the float product, as a float multiplier, is taken for what it is (its shortest decimal
    # 0.45499999999999996): 909.9999999999999 USD → 0.0090999… BTC → 0.0090, one step less
    lossy = size(kraken, multiplier=0.7 * 1.3 * 0.5)
    assert lossy.ok and Decimal(str(lossy.contracts)) == Decimal("0.0090")


def test_a_float_multiplier_is_still_accepted(kraken):
    # MEDIUM 3x: 10 000 × 10 % × 1.3 × 3 = 3 900 USD; 3 900 / 60 000 = 0.065 BTC
    s = size(kraken, conviction="MEDIUM", price=60_000.0, multiplier=1.3)
    assert s.ok and Decimal(str(s.contracts)) == Decimal("0.065") and s.multiplier == 1.3
    assert size(kraken, multiplier=Decimal("1.3"), conviction="MEDIUM", price=60_000.0) == s


@pytest.mark.parametrize(
    "factors, clamped, contracts",
    [
        # the clamp [0.2, 3.0] acts on the decimal product
        ((2.5, 1.3, 1.5), 3.0, "0.06"),  # 4.875 → 3.0: 1 000 × 3.0 × 2 = 6 000 / 100 000
        ((0.4, 0.4, 0.5), 0.2, "0.004"),  # 0.08 → 0.2: 1 000 × 0.2 × 2 = 400 / 100 000
        ((0.4, 0.5), 0.2, "0.004"),  # exactly the floor
        ((0.1, 0.2, 100.0), 2.0, "0.04"),  # 2.0 (float product 2.0000000000000004): 4 000 / 100 000
    ],
)
def test_the_clamp_acts_on_the_decimal_product(kraken, factors, clamped, contracts):
    s = size(kraken, multiplier=multiplier_product(factors))
    assert s.ok and s.multiplier == clamped and Decimal(str(s.contracts)) == Decimal(contracts)


@pytest.mark.parametrize("multiplier", [Decimal(0), Decimal("-0.5"), 0.0])
def test_a_zero_or_negative_decimal_multiplier_is_refused(kraken, multiplier):
    assert size(kraken, multiplier=multiplier).reason == "SIZE_ZERO"


def test_a_nan_equity_or_multiplier_is_refused_not_raised(kraken):
    assert size(kraken, equity_usd=math.nan).reason == "SIZE_ZERO"
    assert size(kraken, multiplier=math.nan).reason == "SIZE_ZERO"


# ------------------------------------------------------------------ property: exact arithmetic


def _exact_contracts(
    plan, *, symbol: str, conviction: str, price: Decimal, equity: Decimal, factors: list[Decimal]
) -> tuple[Fraction, Decimal]:
    """The size in exact rational arithmetic, straight from the formula in engine/trading/sizing.py:
    (clamped multiplier, contracts rounded down to the step)."""
    risk, venue = plan.risk, plan.venues.exchange(plan.venues.execution_venue)
    instrument = venue.instruments[venue.symbols[symbol]]
    sizing = risk.sizing

    def q(x) -> Fraction:
        return Fraction(str(x))

    product = Fraction(1)
    for factor in factors:
        product *= Fraction(factor)
    clamped = min(max(product, q(sizing.min_total_multiplier)), q(sizing.max_total_multiplier))
    leverage = q(leverage_for(risk, conviction, instrument.max_leverage))
    notional = min(
        Fraction(equity) * q(sizing.base_allocation_pct) / 100 * clamped * leverage, q(sizing.max_notional_usd)
    )
    step = q(instrument.size_step)
    steps = math.floor(notional / (Fraction(price) * q(instrument.contract_size)) / step)
    return clamped, Decimal(steps) * Decimal(str(instrument.size_step))


NICE = st.decimals(min_value="0.01", max_value="3.00", places=2)  # two decimals, like the rules


@settings(max_examples=300, deadline=None, database=None)
@given(
    factors=st.lists(NICE, min_size=1, max_size=7),
    equity=st.decimals(min_value="100.00", max_value="500000.00", places=2),
    price=st.decimals(min_value="0.50", max_value="150000.00", places=2),
    symbol=st.sampled_from(["BTCUSDT", "ETHUSDT", "SOLUSDT"]),
    conviction=st.sampled_from(["HIGH", "MEDIUM", "LOW"]),
    venue=st.sampled_from(["kraken", "blofin"]),
)
@example(
    factors=[Decimal("0.7"), Decimal("1.3"), Decimal("0.5")],
    equity=Decimal("10000.00"),
    price=Decimal("100000.00"),
    symbol="BTCUSDT",
    conviction="LOW",
    venue="kraken",
)
def test_size_equals_the_exact_decimal_size(kraken, blofin, factors, equity, price, symbol, conviction, venue):
    plan = kraken if venue == "kraken" else blofin
    clamped, expected = _exact_contracts(
        plan, symbol=symbol, conviction=conviction, price=price, equity=equity, factors=factors
    )
    s = size(
        plan,
        symbol=symbol,
        conviction=conviction,
        price=float(price),
        equity_usd=float(equity),
        multiplier=multiplier_product(float(f) for f in factors),
    )
    instrument = plan.venues.exchange(plan.venues.execution_venue).instruments[s.venue_symbol]
    if expected < Decimal(str(instrument.min_size)):
        assert (s.ok, s.reason) == (False, "SIZE_BELOW_MINIMUM")
    else:
        assert s.ok, s.reason
        assert s.multiplier == float(clamped)
    assert Decimal(str(s.contracts)) == expected
