"""A saved broker state is checked whole before anything is restored: a hand-edited or
corrupt state is refused with a ValueError naming the field (the CLI turns it into RB804),
never restored into a broker that fails later, mid-run, or trades on nonsense."""

from __future__ import annotations

import copy
import json

import pytest
from jsonschema import Draft202012Validator

from adapters.paper.broker import PaperBroker
from adapters.paper.state_schema import STATE_SCHEMA, first_problem
from tests.paper.helpers import DAY, make_broker, order, snap


@pytest.fixture()
def saved(kraken) -> dict:
    """A state with an open limit order, a filled order, a rejected one, a position, a fill,
    a funding payment, quotes and rates: every part check_state looks at."""
    broker = make_broker(kraken)
    broker.observe(snap(DAY + 600, price=50_000, rate=0.0001))
    broker.place_order(order("b1", "buy", 0.2, leverage=10))
    broker.place_order(order("bad", "buy", -1.0))  # rejected, kept as it came
    broker.observe(snap(DAY + 660, price=50_000))
    broker.place_order(order("tp", "sell", 0.1, limit=55_000, reduce_only=True))
    broker.observe(snap(DAY + 3600 + 5, price=50_100))  # a funding time passes
    state = json.loads(json.dumps(broker.state(), allow_nan=False))
    assert state["positions"] and state["fills"] and state["payments"]
    assert {o["status"] for o in state["orders"]} == {"filled", "rejected", "open"}
    return state


def _set(state: dict, path: tuple, value) -> dict:
    edited = copy.deepcopy(state)
    target = edited
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return edited


def test_a_real_state_is_accepted(kraken, saved):
    assert PaperBroker.from_state(kraken, saved).state() == saved


@pytest.mark.parametrize(
    "path, value, named",
    [
        (("fees",), "abc", "fees must be a finite number"),
        (("fees",), None, "fees must be a finite number"),
        (("fees",), float("nan"), "fees must be a finite number, found nan"),
        (("order_seq",), 3.0, "order_seq must be a whole number"),
        (("now",), "x", "now must be null or a time"),
        (("now",), 1e300, "now must be null or a time in epoch seconds from 2009-01-03"),
        (("fill_seq",), "x", "fill_seq must be a whole number"),
        (("order_seq",), -1, "order_seq must be a whole number"),
        (("order_seq",), True, "order_seq must be a whole number"),
        (("realized",), float("inf"), "realized must be a finite number"),
        (("settings", "starting_balance"), -10_000.0, "settings.starting_balance must be a number > 0"),
        (("settings", "slippage_bps"), -1.0, "settings.slippage_bps must be a number ≥ 0"),
        (("settings", "starting_balance"), 0.0, "settings.starting_balance must be a number > 0"),
        (
            ("positions", "BTCUSDT", 2),
            0.0,
            "positions.BTCUSDT must be [quantity, entry price, leverage] as finite numbers: a non-zero quantity",
        ),
        (("positions", "BTCUSDT", 0), "0.2", "positions.BTCUSDT must be [quantity, entry price, leverage]"),
        (("positions", "XRPUSDT"), [1.0, 1.0, 1.0], "positions.XRPUSDT must be a position in a symbol"),
        (("orders", 2, "leverage"), 0.0, "orders[2].leverage must be a number > 0"),
        (("orders", 2, "limit_price"), None, "orders[2].limit_price must be a price > 0"),
        (("orders", 2, "status"), "pending", "orders[2].status must be open, filled, cancelled or rejected"),
        (("orders", 2, "filled_quantity"), 5.0, "orders[2].filled_quantity must be between 0 and the quantity"),
        (("orders", 0, "symbol"), "XRPUSDT", "orders[0].symbol must be a symbol"),
        (("orders", 0, "extra"), 1, "orders[0] must be an object with"),
        (("fills", 0, "price"), 0.0, "fills[0].price must be a number > 0"),
        (("payments", 0, "amount"), "1", "payments[0].amount must be a finite number"),
        (("quotes", "BTCUSDT"), [1, 2], "quotes.BTCUSDT must be an object of numbers"),
        (("rates", "BTCUSDT"), [[1.0]], "rates.BTCUSDT must be a list of [time, rate] pairs"),
        (("orders",), {}, "orders must be a list"),
        (("orders", 1, "quantity"), float("inf"), "orders[1].quantity must be a finite number"),
        (("fills", 0, "liquidity"), "dark pool", "fills[0].liquidity must be maker, taker or liquidation"),
        (("quotes", "BTCUSDT", "spread"), 1.0, "quotes.BTCUSDT must be an object of numbers"),
        (("quotes", "BTCUSDT", "mark"), "1", "quotes.BTCUSDT must be an object of numbers"),
        (("rates", "BTCUSDT", 0, 1), None, "rates.BTCUSDT must be a list of [time, rate] pairs"),
    ],
)
def test_a_malformed_state_is_refused_naming_the_field(kraken, saved, path, value, named):
    with pytest.raises(ValueError) as refused:
        PaperBroker.from_state(kraken, _set(saved, path, value))
    assert named in str(refused.value)


def test_a_missing_or_extra_top_level_key_is_refused(kraken, saved):
    for edited in ({k: v for k, v in saved.items() if k != "fills"}, {**saved, "surplus": 1}):
        with pytest.raises(ValueError, match="the state must be an object with"):
            PaperBroker.from_state(kraken, edited)
    with pytest.raises(ValueError, match="must be an object"):
        PaperBroker.from_state(kraken, [saved])


def test_the_first_bad_field_is_named_with_what_was_found(kraken, saved):
    with pytest.raises(ValueError) as refused:
        PaperBroker.from_state(kraken, _set(_set(saved, ("fees",), "abc"), ("funding",), "def"))
    assert str(refused.value) == "fees must be a finite number, found 'abc'"
    missing = {k: v for k, v in saved["orders"][0].items() if k != "reason"}
    with pytest.raises(ValueError) as refused:
        PaperBroker.from_state(kraken, _set(saved, ("orders", 0), missing))
    assert str(refused.value).startswith(
        "orders[0] must be an object with client_order_id, created_at, filled_quantity"
    )
    assert str(refused.value).endswith("venue_order_id, found no 'reason'")
    with pytest.raises(ValueError, match=r"^the state must be an object with .*, found an unexpected 'surplus'$"):
        PaperBroker.from_state(kraken, {**saved, "surplus": 1})
    with pytest.raises(ValueError, match=r"^orders must be a list, found \{'a': 1\}$"):
        PaperBroker.from_state(kraken, _set(saved, ("orders",), {"a": 1}))


def test_a_rejected_order_is_kept_as_it_came(kraken, saved):
    """Only the types of a rejected request are checked: it never traded, so nothing acts on it."""
    index = next(i for i, o in enumerate(saved["orders"]) if o["status"] == "rejected")
    odd = _set(
        _set(_set(saved, ("orders", index, "side"), "sideways"), ("orders", index, "quantity"), -1.0),
        ("orders", index, "symbol"),
        "XRPUSDT",
    )
    assert PaperBroker.from_state(kraken, odd).order(saved["orders"][index]["client_order_id"]).side == "sideways"


def _subschemas(node, trail=()):
    """Every (trail, subschema) of a schema, except what sits under ``if`` (a condition, not a field)."""
    if isinstance(node, dict):
        yield trail, node
        for key, sub in node.items():
            if key != "if":
                yield from _subschemas(sub, (*trail, key))
    elif isinstance(node, list):
        for index, sub in enumerate(node):
            yield from _subschemas(sub, (*trail, index))


def test_the_state_schema_is_draft_2020_12_and_a_saved_state_meets_it(saved):
    """Any standard validator accepts what the broker writes (the finite-number and integer
    rules the broker adds are what JSON itself means)."""
    Draft202012Validator.check_schema(STATE_SCHEMA)
    assert list(Draft202012Validator(STATE_SCHEMA).iter_errors(saved)) == []
    assert first_problem(saved) is None


def test_every_field_of_the_state_schema_is_described_and_every_object_is_strict():
    fields = [
        (trail, sub)
        for trail, sub in _subschemas(STATE_SCHEMA)
        if trail[-2:-1] in (("properties",), ("prefixItems",)) or trail[-1:] in (("items",), ("additionalProperties",))
    ]
    assert fields and [trail for trail, sub in fields if not sub.get("description")] == []
    loose = [
        trail
        for trail, sub in _subschemas(STATE_SCHEMA)
        if sub.get("type") == "object" and sub.get("additionalProperties") is not False and "properties" in sub
    ]
    assert loose == []


def test_the_schema_records_have_the_fields_of_the_port_types():
    """A field added to OrderState, Fill or FundingPayment must be added to the schema too."""
    from adapters.paper.state_schema import FILL, ORDER, PAYMENT
    from engine.ports import Fill, FundingPayment, OrderState

    assert set(ORDER["properties"]) == set(OrderState.__dataclass_fields__) | {"leverage"}
    assert set(FILL["properties"]) == set(Fill.__dataclass_fields__)
    assert set(PAYMENT["properties"]) == set(FundingPayment.__dataclass_fields__)
