"""A saved broker state is checked whole before anything is restored: a hand-edited or
corrupt state is refused with a ValueError naming the field (the CLI turns it into RB804),
never restored into a broker that fails later, mid-run, or trades on nonsense."""

from __future__ import annotations

import copy
import json

import pytest

from adapters.paper.broker import PaperBroker
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
        (("now",), "x", "now must be null or a time"),
        (("now",), 1e300, "now must be null or a time in epoch seconds from 2009-01-03"),
        (("fill_seq",), "x", "fill_seq must be a whole number"),
        (("order_seq",), -1, "order_seq must be a whole number"),
        (("order_seq",), True, "order_seq must be a whole number"),
        (("realized",), float("inf"), "realized must be a finite number"),
        (("settings", "starting_balance"), -10_000.0, "settings.starting_balance must be a number ≥ 0"),
        (("settings", "starting_balance"), 0.0, "settings.starting_balance must be a number > 0"),
        (("positions", "BTCUSDT", 2), 0.0, "positions.BTCUSDT must be a non-zero quantity"),
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
