"""Position sizing to the venue's contract specs (seed "Position Sizing").

margin   = equity × base_allocation_pct
notional = margin × multiplier (clamped) × leverage, capped at max_notional_usd
contracts = notional ÷ (price × contract_size), rounded DOWN to the size step
A size below the venue's minimum is refused with a reason, never rounded up. The
liquidation price must stay the declared buffer beyond the stop (anchors A.3).

The whole chain up to the size step is decimal: every float factor enters as
``Decimal(repr(x))`` (its shortest round-trip decimal, i.e. the number as declared), and the
multiplier should arrive as the exact product of its declared factors
(``multiplier_product``), not as their binary float product: 0.7 × 1.3 × 0.5 is 0.455, while
the float product 0.45499999999999996 can cost a whole size step.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_DOWN, Decimal, localcontext
from typing import Any

from engine.common.decimals import to_decimal

#: decimal digits kept while sizing: products of a few shortest-repr floats (17 digits at most
#: each) stay exact, where the default context (28 digits) could round them
PRECISION = 80

REFUSALS = (
    "SIZE_NO_PRICE",
    "SIZE_NO_INSTRUMENT",
    "SIZE_ZERO",
    "SIZE_BELOW_MINIMUM",
    "SIZE_STOP_INSIDE_LIQUIDATION_BUFFER",
)


@dataclass(frozen=True, slots=True)
class Sizing:
    ok: bool
    reason: str  # "OK" or a SIZE_* refusal
    venue_symbol: str
    price: float
    leverage: float
    multiplier: float  # after the clamp
    margin_usd: float  # margin actually required by the rounded size
    notional_usd: float
    contracts: float
    base_quantity: float
    liquidation_price: float | None
    stop_price: float | None

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__slots__}


def multiplier_product(factors: Iterable[float | Decimal]) -> Decimal:
    """The exact decimal product of the declared size multipliers (gate multipliers, the
    signal's conviction multiplier): ``multiplier_product([0.7, 1.3, 0.5]) == Decimal("0.455")``,
    where the float product is 0.45499999999999996. An empty list is 1."""
    product = Decimal(1)
    with localcontext(prec=PRECISION):
        for factor in factors:
            product *= to_decimal(factor)
    return product


def round_down(value: float | Decimal, step: float) -> float:
    """``value`` rounded down to a multiple of ``step``, exactly (decimal arithmetic)."""
    return _round(value, step, ROUND_DOWN)


def round_up(value: float | Decimal, step: float) -> float:
    return _round(value, step, ROUND_CEILING)


def _round(value: float | Decimal, step: float, mode: str) -> float:
    step_d = Decimal(str(step))
    value_d = value if isinstance(value, Decimal) else Decimal(str(value))
    return float((value_d / step_d).to_integral_value(rounding=mode) * step_d)


def contracts_for(notional: float | Decimal, price: float, contract_size: float, size_step: float) -> float:
    """Whole size steps that fit in ``notional``, in decimal arithmetic: a notional that is
    an exact multiple of a step's value never loses that step to binary rounding."""
    per_contract = to_decimal(price) * to_decimal(contract_size)
    return round_down(to_decimal(notional) / per_contract, size_step)


def leverage_for(risk, conviction: str, instrument_max: float) -> float:
    lev = risk.leverage
    chosen = lev.by_conviction.get(conviction, lev.default)
    return min(max(chosen, lev.min), lev.max, instrument_max)


def liquidation_price(direction: str, entry: float, leverage: float, maintenance_pct: float) -> float:
    """Isolated-margin liquidation: the price move that eats the margin down to maintenance."""
    move = 1.0 / leverage - maintenance_pct / 100.0
    return entry * (1 - move) if direction == "LONG" else entry * (1 + move)


def _refuse(reason: str, **known: Any) -> Sizing:
    base: dict[str, Any] = dict(
        venue_symbol="",
        price=0.0,
        leverage=0.0,
        multiplier=0.0,
        margin_usd=0.0,
        notional_usd=0.0,
        contracts=0.0,
        base_quantity=0.0,
        liquidation_price=None,
        stop_price=None,
    )
    base.update(known)
    return Sizing(False, reason, **base)


def size_entry(
    plan,
    *,
    symbol: str,
    direction: str,
    conviction: str,
    price: float | None,
    equity_usd: float,
    multiplier: float | Decimal,
    stop_loss_pct: float | None,
) -> Sizing:
    """``multiplier`` is the total size multiplier before the clamp: best the exact Decimal
    from ``multiplier_product`` (used as is); a float is taken as its shortest decimal."""
    risk, venue = plan.risk, plan.venues.exchange(plan.venues.execution_venue)
    venue_symbol = venue.symbols.get(symbol, "")
    instrument = venue.instruments.get(venue_symbol)
    if price is None or not math.isfinite(price) or price <= 0:
        return _refuse("SIZE_NO_PRICE", venue_symbol=venue_symbol)
    if instrument is None:
        return _refuse("SIZE_NO_INSTRUMENT", venue_symbol=venue_symbol, price=price)
    sizing = risk.sizing
    leverage = leverage_for(risk, conviction, instrument.max_leverage)
    total = to_decimal(multiplier)
    if total.is_nan() or math.isnan(equity_usd):  # nothing to size (and a decimal NaN cannot be compared)
        return _refuse("SIZE_ZERO", venue_symbol=venue_symbol, price=price, leverage=leverage)
    with localcontext(prec=PRECISION):
        # the clamp acts on the decimal product, so a product on the bound is the bound
        clamped = min(max(total, to_decimal(sizing.min_total_multiplier)), to_decimal(sizing.max_total_multiplier))
        notional = min(
            to_decimal(equity_usd) * to_decimal(sizing.base_allocation_pct) / 100 * clamped * to_decimal(leverage),
            to_decimal(sizing.max_notional_usd),
        )
        contracts = contracts_for(notional, price, instrument.contract_size, instrument.size_step)
    quantity = contracts * instrument.contract_size
    known = dict(
        venue_symbol=venue_symbol,
        price=price,
        leverage=leverage,
        multiplier=float(clamped),
        notional_usd=quantity * price,
        contracts=contracts,
        base_quantity=quantity,
        margin_usd=quantity * price / leverage,
    )
    if total <= 0 or notional <= 0:
        return _refuse("SIZE_ZERO", venue_symbol=venue_symbol, price=price, leverage=leverage)
    if contracts < instrument.min_size:
        return _refuse("SIZE_BELOW_MINIMUM", **known)
    liq = liquidation_price(direction, price, leverage, risk.liquidation.maintenance_margin_pct)
    stop = None
    if stop_loss_pct is not None:
        move = Decimal(str(stop_loss_pct)) / 100 / Decimal(str(leverage if plan.exits.pnl_basis == "margin" else 1))
        # an exchange-side stop must sit on the tick grid; round it toward the entry (tighter),
        # in decimals so a stop exactly on a tick stays there
        stop = (
            round_up(Decimal(str(price)) * (1 - move), instrument.tick_size)
            if direction == "LONG"
            else round_down(Decimal(str(price)) * (1 + move), instrument.tick_size)
        )
        buffer = abs(price - liq) * risk.liquidation.buffer_fraction
        unsafe = stop <= liq + buffer if direction == "LONG" else stop >= liq - buffer
        if unsafe:
            return _refuse("SIZE_STOP_INSIDE_LIQUIDATION_BUFFER", liquidation_price=liq, stop_price=stop, **known)
    return Sizing(True, "OK", liquidation_price=liq, stop_price=stop, **known)
