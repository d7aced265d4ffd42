"""The shape of a saved paper-broker state (``PaperBroker.state()``) as a JSON Schema.

A state is resumed only if it is exactly what the broker writes, so a hand-edited or
corrupt one is refused before anything is restored (RB804) instead of failing mid-run or
trading on nonsense. This schema says everything about one value at a time: keys, types,
finite numbers, ranges, enumerations, and what a standing (not rejected) order needs. What
depends on the venue or on two values together — symbols the venue trades, a fill not
larger than its order, the broker clock against the run's cursor — is checked in code.

Not generated into ``schemas/``: those are the rule-file contracts that ``rulebot schema``
exports for editors, and the engine never imports adapters. Each node's ``x-expected`` is
the phrase a refusal uses ("fees must be a finite number, found 'abc'").
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from engine.common.times import EARLIEST_TS, LATEST_TS, TIME_RANGE

STATE_VERSION = 1
ORDER_STATUSES = ("open", "filled", "cancelled", "rejected")
SIDES = ("buy", "sell")
ORDER_TYPES = ("market", "limit")
LIQUIDITIES = ("maker", "taker", "liquidation")

FINITE = "a finite number"


def _number(description: str, expected: str = FINITE, **bounds: float) -> dict[str, Any]:
    return {"type": "number", "description": description, "x-expected": expected, **bounds}


def _positive(description: str, expected: str = "a number > 0") -> dict[str, Any]:
    return _number(description, expected, exclusiveMinimum=0)


def _text(description: str) -> dict[str, Any]:
    return {"type": "string", "description": description, "x-expected": "a string"}


def _choice(description: str, values: Sequence[str], expected: str) -> dict[str, Any]:
    return {"type": "string", "enum": list(values), "description": description, "x-expected": expected}


def _record(description: str, fields: dict[str, dict[str, Any]], **more: Any) -> dict[str, Any]:
    """A strict object: every field required, no other; refusals list the fields."""
    return {
        "type": "object",
        "description": description,
        "required": list(fields),
        "additionalProperties": False,
        "properties": fields,
        **more,
    }


def _by_symbol(description: str, value: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "description": description, "x-expected": "an object", "additionalProperties": value}


_STANDING_ORDER = {
    "description": "What an order that was accepted (not rejected) must hold: it is filled or may still fill.",
    "properties": {
        "side": _choice("Buy or sell.", SIDES, "buy or sell"),
        "order_type": _choice("Market or limit.", ORDER_TYPES, "market or limit"),
        "quantity": _positive("The quantity asked for, in base units."),
        "filled_quantity": _number(
            "Base units filled so far, at most the quantity (compared in code).",
            "between 0 and the quantity",
            minimum=0,
        ),
        "leverage": _positive("The leverage the order was placed with."),
    },
    "if": {"properties": {"order_type": {"const": "limit"}}},
    "then": {
        "description": "A standing limit order rests at its price.",
        "properties": {"limit_price": _positive("The limit price.", "a price > 0")},
    },
}

ORDER = _record(
    "An order as the venue knows it, with the leverage it was placed with. A rejected order is kept "
    "as the request came, so only its types are checked.",
    {
        "client_order_id": _text("The client's id of the order, unique per venue."),
        "venue_order_id": _text("The broker's own id (paper-N); empty for a rejected order."),
        "symbol": _text("The rulebot symbol (BTCUSDT)."),
        "side": _text("Buy or sell."),
        "quantity": _number("The quantity asked for (after rounding to the size step), in base units."),
        "filled_quantity": _number("Base units filled so far."),
        "order_type": _text("Market or limit."),
        "limit_price": {
            "type": ["number", "null"],
            "description": "The limit price; null for a market order.",
            "x-expected": "a number or null",
        },
        "status": _choice("Where the order stands.", ORDER_STATUSES, "open, filled, cancelled or rejected"),
        "reduce_only": {
            "type": "boolean",
            "description": "Whether the order may only reduce a position.",
            "x-expected": "true or false",
        },
        "reason": _text("Why it was rejected or cancelled, or a note such as a clip to the position."),
        "created_at": _number("When the broker accepted it, epoch seconds (0 before the first snapshot)."),
        "leverage": _number("The leverage asked for."),
    },
    **{"if": {"properties": {"status": {"const": "rejected"}}}, "else": _STANDING_ORDER},
)

POSITION = {
    "type": "array",
    "description": "An open position: [signed quantity in base units (+ long, − short), entry price, leverage].",
    "x-expected": "[quantity, entry price, leverage] as finite numbers: a non-zero quantity, "
    "an entry price > 0 and a leverage > 0",
    "prefixItems": [
        {"type": "number", "not": {"const": 0}, "description": "Signed quantity in base units: + long, − short."},
        {"type": "number", "exclusiveMinimum": 0, "description": "Average entry price."},
        {"type": "number", "exclusiveMinimum": 0, "description": "Leverage."},
    ],
    "minItems": 3,
    "maxItems": 3,
}

FILL = _record(
    "One fill the broker reported (kept for fills_since).",
    {
        "fill_id": _text("Unique per venue: a fill is applied once."),
        "client_order_id": _text("The order it filled (the venue's own id for a liquidation)."),
        "symbol": _text("The rulebot symbol."),
        "side": _choice("Buy or sell.", SIDES, "buy or sell"),
        "quantity": _positive("Base units filled."),
        "price": _positive("The fill price."),
        "fee": _number("Fee in the quote currency, positive = paid."),
        "liquidity": _choice("Maker, taker or liquidation.", LIQUIDITIES, "maker, taker or liquidation"),
        "ts": _number("When it happened, epoch seconds."),
    },
)

PAYMENT = _record(
    "One funding settlement (kept for funding_since).",
    {
        "payment_id": _text("Unique per venue: a payment is applied once."),
        "symbol": _text("The rulebot symbol."),
        "rate": _number("The funding rate applied, a fraction per interval."),
        "amount": _number("Quote currency, positive = received, negative = paid."),
        "ts": _number("When it happened, epoch seconds."),
    },
)

_PRICE_OR_NULL = {"type": ["number", "null"], "description": "A price, or null when none was observed yet."}
QUOTE = {
    "type": "object",
    "description": "The last observed quote of one symbol.",
    "x-expected": "an object of numbers (last, mark, bid, ask, value: a price or null; ts)",
    "required": ["last", "mark", "bid", "ask", "value", "ts"],
    "additionalProperties": False,
    "properties": {
        "last": {**_PRICE_OR_NULL, "description": "Last traded price, or null."},
        "mark": {**_PRICE_OR_NULL, "description": "Mark price, or null."},
        "bid": {**_PRICE_OR_NULL, "description": "Best bid, or null."},
        "ask": {**_PRICE_OR_NULL, "description": "Best ask, or null."},
        "value": {**_PRICE_OR_NULL, "description": "The price positions are valued at (mark, else last), or null."},
        "ts": {"type": "number", "description": "When it was observed, epoch seconds."},
    },
}

RATES = {
    "type": "array",
    "description": "Funding rates of one symbol as published, oldest first.",
    "x-expected": "a list of [time, rate] pairs",
    "items": {
        "type": "array",
        "description": "[published at, epoch seconds; rate, a fraction per interval].",
        "prefixItems": [{"type": "number", "description": "Published at."}, {"type": "number", "description": "Rate."}],
        "minItems": 2,
        "maxItems": 2,
    },
}

STATE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "paper-broker state",
    **_record(
        "Everything a paper broker needs to continue exactly where it stopped. Numbers are finite "
        "(JSON has no NaN or Infinity) and whole numbers are integers, not 1.0.",
        {
            "version": {
                "const": STATE_VERSION,
                "description": "The state format version.",
                "x-expected": f"{STATE_VERSION}",
            },
            "venue": _text("The venue id the state was saved for."),
            "settings": _record(
                "The broker's settings, from the profile at the start of the run.",
                {
                    "starting_balance": _positive("The account's starting cash, USD."),
                    "slippage_bps": _number("Market-order slippage, basis points.", "a number ≥ 0", minimum=0),
                    "maintenance_margin_pct": _number("Maintenance margin, percent.", "a number ≥ 0", minimum=0),
                },
            ),
            "now": {
                "type": ["number", "null"],
                "minimum": EARLIEST_TS,
                "maximum": LATEST_TS,
                "description": "The time of the last observed snapshot (the broker's clock); null before the first.",
                "x-expected": f"null or a time in epoch seconds from {TIME_RANGE}",
            },
            "order_seq": {
                "type": "integer",
                "minimum": 0,
                "description": "Orders accepted so far (the next venue order id).",
                "x-expected": "a whole number ≥ 0",
            },
            "fill_seq": {
                "type": "integer",
                "minimum": 0,
                "description": "Fills made so far (the next fill id).",
                "x-expected": "a whole number ≥ 0",
            },
            "realized": _number("Realized profit and loss, USD."),
            "fees": _number("Fees paid, USD."),
            "funding": _number("Funding received (negative: paid), USD."),
            "orders": {
                "type": "array",
                "description": "The orders accepted or rejected, in placement order: every open one, settled ones for 7 days.",
                "x-expected": "a list",
                "items": ORDER,
            },
            "positions": _by_symbol("Open positions by symbol.", POSITION),
            "fills": {
                "type": "array",
                "description": "The fills of the last 7 days, oldest first.",
                "x-expected": "a list",
                "items": FILL,
            },
            "payments": {
                "type": "array",
                "description": "The funding payments of the last 7 days, oldest first.",
                "x-expected": "a list",
                "items": PAYMENT,
            },
            "quotes": _by_symbol("The last quote of each observed symbol.", QUOTE),
            "rates": _by_symbol("Funding-rate history per symbol, pruned as it ages.", RATES),
        },
    ),
}


# ------------------------------------------------------------------ checking against it

#: Keywords whose next schema-path step names a subschema (a property, an index).
_NAMED = frozenset({"properties", "patternProperties", "prefixItems", "allOf", "anyOf", "oneOf"})
#: Keywords that step into the instance (a property value, an array item).
_INTO_INSTANCE = frozenset({"properties", "patternProperties", "prefixItems", "items", "additionalProperties"})


def _is_number(checker: Any, value: Any) -> bool:
    """JSON numbers are finite; Python's json module still reads NaN and Infinity."""
    return type(value) in (int, float) and math.isfinite(value)


def _is_integer(checker: Any, value: Any) -> bool:
    """A count is an int: 1.0 is not a sequence number (draft 2020-12 would accept it)."""
    return type(value) is int


@cache
def _validator() -> Any:
    from jsonschema import Draft202012Validator, validators

    types = Draft202012Validator.TYPE_CHECKER.redefine_many({"number": _is_number, "integer": _is_integer})
    return validators.extend(Draft202012Validator, type_checker=types)(STATE_SCHEMA)


def _expected(node: Mapping[str, Any]) -> str | None:
    """What a node says a value must be; a strict object lists its fields."""
    if "x-expected" in node:
        return str(node["x-expected"])
    if node.get("additionalProperties") is False and "properties" in node:
        return "an object with " + ", ".join(sorted(node["properties"]))
    return None


def _described(schema_path: Sequence[Any]) -> tuple[int, str]:
    """The deepest node on a failing schema path that says what it expects, and how many
    steps into the instance it sits (the last path step is the keyword that failed)."""
    node, depth, found = STATE_SCHEMA, 0, (0, _expected(STATE_SCHEMA) or "")
    steps = list(schema_path)[:-1]
    while steps:
        keyword = steps.pop(0)
        node = node[keyword]
        if keyword in _NAMED:
            node = node[steps.pop(0)]
        depth += keyword in _INTO_INSTANCE
        expected = _expected(node)
        if expected is not None:
            found = (depth, expected)
    return found


def _where(path: Sequence[Any]) -> str:
    """``orders[2].leverage``; the whole state is "the state"."""
    text = "".join(f"[{step}]" if isinstance(step, int) else f".{step}" for step in path).lstrip(".")
    return text or "the state"


def _found(value: Any, error: Any | None) -> str:
    """What was there instead: the missing or unexpected key of an object whose keys are
    wrong (``error`` failed on it), else the value, its text cut at 100 characters (a
    state can hold thousands of orders)."""
    if isinstance(value, Mapping) and error is not None and error.validator == "required":
        return "no " + ", ".join(repr(k) for k in error.validator_value if k not in value)
    if isinstance(value, Mapping) and error is not None and error.validator == "additionalProperties":
        return "an unexpected " + ", ".join(repr(k) for k in value if k not in error.schema.get("properties", {}))
    text = repr(value)
    return text if len(text) <= 100 else text[:97] + "..."


def first_problem(state: Any) -> str | None:
    """The first field of ``state`` that breaks the schema, as "<field> must be <what>, found
    <what was there>", or None for a well-formed state."""
    error = next(iter(_validator().iter_errors(state)), None)
    if error is None:
        return None
    depth, expected = _described(error.absolute_schema_path)
    path = list(error.absolute_path)[:depth]
    value = state
    for step in path:
        value = value[step]
    found = _found(value, error if len(path) == len(error.absolute_path) else None)
    return f"{_where(path)} must be {expected}, found {found}"
