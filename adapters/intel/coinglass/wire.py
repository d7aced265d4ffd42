"""CoinGlass answers parsed at the edge into frozen typed values (reference §3.3, §3.4).

Every documented shape variant is accepted (fear & greed as a list of one object or as an
object, its times in seconds or milliseconds; OHLC values as strings or numbers; rows in
either order); anything else raises VenueAnswerMalformed naming the endpoint and why, and
the whole answer is refused. Numbers are read exactly (``Decimal``); ``null`` and ``""`` are
missing. A value that is a number but cannot be true (a negative volume, a fear & greed
outside 0–100, NaN or infinity, a row stamped outside the asked window) is dropped and
described in ``problems``: it is never passed on.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from engine.ports import VenueAnswerMalformed

VENUE = "coinglass"
_MS_THRESHOLD = 1e12  # reference §3.4: a time above this is in milliseconds, else in seconds


@dataclass(frozen=True, slots=True)
class TakerVolume:
    """Taker buy and sell volume over the asked range, summed over exchanges (USD)."""

    buy_usd: float | None
    sell_usd: float | None


@dataclass(frozen=True, slots=True)
class CoinLiquidations:
    """One coin's liquidations over the last hour, all exchanges (USD)."""

    long_usd: float | None
    short_usd: float | None


@dataclass(frozen=True, slots=True)
class FearGreedPoint:
    ts: float  # epoch s, start of the day the value is for
    value: float  # 0–100


@dataclass(frozen=True, slots=True)
class ExchangeBalance:
    exchange: str
    total_balance: float  # coin units
    change_1d: float | None  # coin units


@dataclass(frozen=True, slots=True)
class HistoryRow:
    """One history row: ``ts`` is the start of its interval; ``values`` are its numbers."""

    ts: float  # epoch s
    values: Mapping[str, float]


def _bad(endpoint: str, why: str) -> VenueAnswerMalformed:
    return VenueAnswerMalformed(f"coinglass {endpoint}: {why}", venue=VENUE, endpoint=endpoint)


def number(value: Any, endpoint: str, field: str, problems: list[str]) -> float | None:
    """A number sent as a JSON number or a string, read exactly; None when missing or not finite."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise _bad(endpoint, f"{field} is {type(value).__name__}, not a number")
    try:
        exact = Decimal(value.strip()) if isinstance(value, str) else Decimal(str(value))
    except InvalidOperation:
        raise _bad(endpoint, f"{field} is not a number: {str(value)[:40]!r}") from None
    result = float(exact) if exact.is_finite() else math.nan
    if not math.isfinite(result):
        problems.append(f"{endpoint}: {field} is not finite ({value!r}); dropped")
        return None
    return result


def _at_least(value: float | None, floor: float, endpoint: str, field: str, problems: list[str]) -> float | None:
    if value is not None and value < floor:
        problems.append(f"{endpoint}: {field} {value:g} is below {floor:g}; dropped")
        return None
    return value


def _object(data: Any, endpoint: str, what: str) -> Mapping[str, Any]:
    if not isinstance(data, dict):
        raise _bad(endpoint, f"{what} is {type(data).__name__}, not an object")
    return data


def _list(data: Any, endpoint: str, what: str) -> list[Any]:
    if not isinstance(data, list):
        raise _bad(endpoint, f"{what} is {type(data).__name__}, not a list")
    return data


def epoch_s(value: Any, endpoint: str, field: str) -> float:
    """A time in seconds or milliseconds (reference §3.4) as epoch seconds."""
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise _bad(endpoint, f"{field} is missing or not a time: {str(value)[:40]!r}")
    try:
        t = float(Decimal(value.strip()) if isinstance(value, str) else value)
    except (InvalidOperation, ValueError):
        raise _bad(endpoint, f"{field} is not a time: {str(value)[:40]!r}") from None
    if not math.isfinite(t) or t <= 0:
        raise _bad(endpoint, f"{field} is not a time: {value!r}")
    return t / 1000.0 if t > _MS_THRESHOLD else t


# ----------------------------------------------------------------- the eight endpoints


def taker_volume(data: Any, problems: list[str]) -> TakerVolume:
    """#1 taker-buy-sell-volume/exchange-list: the totals, or the exchanges' sum without them."""
    endpoint = "taker_buy_sell"
    body = _object(data, endpoint, "data")
    buy = number(body.get("buy_vol_usd"), endpoint, "buy_vol_usd", problems)
    sell = number(body.get("sell_vol_usd"), endpoint, "sell_vol_usd", problems)
    if buy is None and sell is None and "exchange_list" in body:
        buy, sell = _summed_exchanges(_list(body["exchange_list"], endpoint, "exchange_list"), problems)
    return TakerVolume(
        _at_least(buy, 0.0, endpoint, "buy_vol_usd", problems),
        _at_least(sell, 0.0, endpoint, "sell_vol_usd", problems),
    )


def _summed_exchanges(rows: list[Any], problems: list[str]) -> tuple[float | None, float | None]:
    endpoint = "taker_buy_sell"
    buys: list[float] = []
    sells: list[float] = []
    for row in rows:
        row = _object(row, endpoint, "an exchange_list entry")
        buy = _at_least(
            number(row.get("buy_vol_usd"), endpoint, "buy_vol_usd", problems), 0, endpoint, "buy_vol_usd", problems
        )
        sell = _at_least(
            number(row.get("sell_vol_usd"), endpoint, "sell_vol_usd", problems), 0, endpoint, "sell_vol_usd", problems
        )
        if buy is not None and sell is not None:
            buys.append(buy)
            sells.append(sell)
    return (math.fsum(buys), math.fsum(sells)) if buys else (None, None)


def coin_liquidations(data: Any, problems: list[str]) -> dict[str, CoinLiquidations]:
    """#2 liquidation/coin-list: each coin's last-hour liquidations, by upper-case coin."""
    endpoint = "liquidations"
    out: dict[str, CoinLiquidations] = {}
    for row in _list(data, endpoint, "data"):
        row = _object(row, endpoint, "a coin entry")
        coin = row.get("symbol")
        if not isinstance(coin, str) or not coin:
            raise _bad(endpoint, "an entry has no symbol")
        long_usd = number(row.get("long_liquidation_usd_1h"), endpoint, "long_liquidation_usd_1h", problems)
        short_usd = number(row.get("short_liquidation_usd_1h"), endpoint, "short_liquidation_usd_1h", problems)
        out[coin.upper()] = CoinLiquidations(
            _at_least(long_usd, 0.0, endpoint, f"{coin} long_liquidation_usd_1h", problems),
            _at_least(short_usd, 0.0, endpoint, f"{coin} short_liquidation_usd_1h", problems),
        )
    return out


def fear_greed(data: Any, problems: list[str]) -> tuple[FearGreedPoint, ...]:
    """#3 index/fear-greed-history, oldest first. ``data`` is a list holding one object (the
    docs) or the object itself (observed); times are in seconds (docs) or ms (observed)."""
    endpoint = "fear_greed"
    if isinstance(data, list):
        if not data:
            return ()
        if len(data) != 1:
            raise _bad(endpoint, f"data is a list of {len(data)} entries, not of one object")
        data = data[0]
    body = _object(data, endpoint, "data")
    values = _list(body.get("data_list"), endpoint, "data_list")
    times = _list(body.get("time_list"), endpoint, "time_list")
    if len(values) != len(times):
        raise _bad(endpoint, f"data_list has {len(values)} values but time_list {len(times)} times")
    points: dict[float, FearGreedPoint] = {}
    for raw_t, raw_v in zip(times, values, strict=True):
        ts = epoch_s(raw_t, endpoint, "time_list")
        value = number(raw_v, endpoint, "data_list", problems)
        if value is None:
            continue
        if not 0.0 <= value <= 100.0:
            problems.append(f"{endpoint}: value {value:g} at {ts:.0f} is outside 0-100; dropped")
            continue
        points[ts] = FearGreedPoint(ts, value)
    return tuple(points[t] for t in sorted(points))


def exchange_balances(data: Any, problems: list[str]) -> tuple[ExchangeBalance, ...]:
    """#4 exchange/balance/list: each exchange's balance of the coin (coin units)."""
    endpoint = "exchange_balance"
    out: dict[str, ExchangeBalance] = {}
    for row in _list(data, endpoint, "data"):
        row = _object(row, endpoint, "an exchange entry")
        name = row.get("exchange_name")
        if not isinstance(name, str) or not name:
            raise _bad(endpoint, "an entry has no exchange_name")
        total = _at_least(
            number(row.get("total_balance"), endpoint, "total_balance", problems),
            0.0,
            endpoint,
            f"{name} total_balance",
            problems,
        )
        if total is None:
            continue
        out[name] = ExchangeBalance(
            name, total, number(row.get("balance_change_1d"), endpoint, "balance_change_1d", problems)
        )
    return tuple(out[name] for name in sorted(out))


#: History endpoints → (snapshot-independent field names kept, each field's floor or None).
HISTORY_FIELDS: dict[str, dict[str, float | None]] = {
    "funding_history": {"close": None},
    "open_interest_history": {"close": 0.0},
    "liquidation_history": {"long_liquidation_usd": 0.0, "short_liquidation_usd": 0.0},
    "long_short_ratio": {
        "top_position_long_percent": 0.0,
        "top_position_short_percent": 0.0,
        "top_position_long_short_ratio": 0.0,
    },
}


def history(endpoint: str, data: Any, window: tuple[float, float], problems: list[str]) -> tuple[HistoryRow, ...]:
    """#5–#8 history rows, sorted by time (the API sends either order), each with the fields
    of ``HISTORY_FIELDS``. A row stamped outside ``window`` (epoch s, the asked start and
    end) is dropped: the docs' examples show impossible times."""
    fields = HISTORY_FIELDS[endpoint]
    start, end = window
    rows: dict[float, HistoryRow] = {}
    for raw in _list(data, endpoint, "data"):
        row = _object(raw, endpoint, "a row")
        ts = epoch_s(row.get("time"), endpoint, "time")
        if not start <= ts <= end:
            problems.append(f"{endpoint}: a row stamped {ts:.0f} lies outside the asked window; dropped")
            continue
        values: dict[str, float] = {}
        for field, floor in fields.items():
            value = number(row.get(field), endpoint, field, problems)
            if floor is not None:
                value = _at_least(value, floor, endpoint, field, problems)
                if value is not None and field == "close" and value == 0.0:
                    problems.append(f"{endpoint}: open interest of 0 at {ts:.0f}; dropped")
                    value = None
            if value is not None:
                values[field] = value
        rows[ts] = HistoryRow(ts, values)
    return tuple(rows[t] for t in sorted(rows))


def published(
    rows: Sequence[HistoryRow], published_by: float, interval_s: float, lag_s: float
) -> tuple[HistoryRow, ...]:
    """The rows published by ``published_by``, in their order: a row for ``[t, t + interval)``
    is published at ``t + interval + lag`` (reference §3.5), never at ``t``."""
    return tuple(row for row in rows if row.ts + interval_s + lag_s <= published_by)


def latest(rows: Sequence[HistoryRow], published_by: float, interval_s: float, lag_s: float) -> HistoryRow | None:
    """The newest row published by ``published_by`` (:func:`published`)."""
    known = published(rows, published_by, interval_s, lag_s)
    return known[-1] if known else None
