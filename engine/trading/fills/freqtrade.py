"""freqtrade 2026.9 backtesting's price arithmetic, rule by rule (../shared/reference/
freqtrade-backtest-semantics.md, rules 5–10): where a stop triggers and fills, the rate at
which a ROI tier is reached, the profit ratio with both fees and funding, funding itself.

Pure functions of numbers: no clock, no state. Prices are rounded to a tick with Decimal
arithmetic on the floats' shortest representations (as ccxt's ``decimal_to_precision`` and
freqtrade's ``price_to_precision`` do), so a price on the tick stays exactly itself.
tests/fills/test_freqtrade_math.py checks every function against the oracle's 1,486 trades.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

_MODES = {"up": ROUND_CEILING, "down": ROUND_FLOOR, "nearest": ROUND_HALF_UP}


def to_tick(price: float, tick: float, mode: str) -> float:
    """``price`` on the ``tick`` grid, rounded ``up``, ``down`` or to the ``nearest`` (half up)."""
    step = Decimal(repr(tick))
    steps = (Decimal(repr(price)) / step).to_integral_value(rounding=_MODES[mode])
    return float(steps * step)


def stop_price(open_rate: float, stoploss: float, leverage: float, short: bool, tick: float) -> float:
    """Rule 5: the stop set once at entry, ``stoploss`` (0.025 for −2.5 %) of the stake at
    ``leverage``, rounded to the tick towards the entry (it never lies beyond the loss)."""
    if short:
        return to_tick(open_rate * (1 + stoploss / leverage), tick, "down")
    return to_tick(open_rate * (1 - stoploss / leverage), tick, "up")


def stop_hit(stop: float, low: float, high: float, short: bool) -> bool:
    """Rule 5: a long's stop triggers when it is at or above the candle's low (a short's: at
    or below its high)."""
    return stop <= high if short else stop >= low


def stop_fill(stop: float, open_: float, low: float, high: float, short: bool) -> float:
    """Rule 6: at the stop price — or at the open when the whole candle lies beyond the stop."""
    beyond = stop < low if short else stop > high
    return open_ if beyond else stop


def open_value(amount: float, open_rate: float, fee: float, short: bool) -> float:
    """Rule 9: what the entry cost (a long) or brought (a short), its fee included."""
    return amount * open_rate * (1 - fee if short else 1 + fee)


def close_value(amount: float, close_rate: float, fee: float, funding: float, short: bool) -> float:
    """Rule 9: what the exit brings (a long) or costs (a short), its fee and the funding
    (``funding``: received positive, paid negative) included."""
    if short:
        return amount * close_rate * (1 + fee) - funding
    return amount * close_rate * (1 - fee) + funding


def profit_ratio(
    amount: float, open_rate: float, close_rate: float, fee: float, funding: float, short: bool, leverage: float
) -> float:
    """Rule 9: the trade's profit ratio on its stake, both fees and funding included, to 8 decimals."""
    opened = open_value(amount, open_rate, fee, short)
    closed = close_value(amount, close_rate, fee, funding, short)
    ratio = (1 - closed / opened) if short else (closed / opened - 1)
    return round(ratio * leverage, 8)


def roi_rate(
    amount: float, open_rate: float, roi: float, fee: float, funding: float, short: bool, leverage: float
) -> float:
    """Rule 8.1: the close rate at which the profit ratio equals ``roi`` (unrounded)."""
    opened = open_value(amount, open_rate, fee, short)
    if short:
        return (opened * (1 - roi / leverage) + funding) / (amount * (1 + fee))
    return (opened * (1 + roi / leverage) - funding) / (amount * (1 - fee))


def active_roi(tiers: Sequence[tuple[float, float]], age_min: float) -> tuple[float, float] | None:
    """Rule 7: the (minutes, ratio) tier with the largest key ≤ the trade's age in minutes."""
    found = None
    for key, ratio in sorted(tiers):
        if key <= age_min:
            found = (key, ratio)
    return found


def roi_fill(
    rate: float, tier_key: float, age_min: float, open_: float, low: float, high: float, short: bool, tick: float
) -> float:
    """Rule 8: a tier that starts on this very candle with the open already beyond its rate
    fills at the open; otherwise the rate clamped into the candle; then to the nearest tick."""
    starts_now = age_min == tier_key and tier_key > 0
    if starts_now and (open_ < rate if short else open_ > rate):
        price = open_
    else:
        price = min(max(rate, low), high)
    return to_tick(price, tick, "nearest")


def funding_fee(events: Iterable[tuple[float, float]], amount: float, short: bool) -> float:
    """Rule 10: the trade's funding, received positive: Σ rate × mark open × amount over the
    ``(rate, mark_open)`` events from the entry candle to the current one (longs pay a
    positive rate, shorts receive it)."""
    total = 0.0
    for rate, mark in events:
        total += rate * mark * amount
    return total if short else -total
