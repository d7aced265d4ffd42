"""The live broker (adapters/venues/broker.py) over an in-process venue: fills applied once
(also across a restart), lost answers looked up before anything is sent again, retryable
failures tried next cycle, rejections recorded, a fatal error engaging the kill switch, and
the protective stops kept in step with the positions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adapters.venues.broker import VenueBroker
from engine.bot import states
from engine.language.compiler import compile_ruleset
from engine.ports import (
    OPEN,
    REJECTED,
    STOP,
    FundingPayment,
    OrderOutcomeUnknown,
    OrderRequest,
    VenueAnswerMalformed,
    VenueFatal,
    VenueRejected,
    VenueRetryable,
)
from engine.trading.portfolio import Portfolio
from engine.trading.positions import OpenPosition
from tests.live.fake_exchange import FakeExchange

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def plan():
    return compile_ruleset(str(ROOT / "rules")).plans["live"]


def _broker(venue: FakeExchange, state=None) -> VenueBroker:
    return VenueBroker(venue, venue="fake", ticks={"BTCUSDT": 1.0}, clock=lambda: venue.now, state=state)


def _buy(cid: str = "e1", quantity: float = 0.01) -> OrderRequest:
    return OrderRequest(cid, "BTCUSDT", "buy", quantity)


def _position(quantity: float = 0.01, direction: str = "LONG", entry: float = 100_000.0) -> OpenPosition:
    return OpenPosition("e1", "BTCUSDT", direction, "fake", entry, quantity, quantity, 2.0, 900.0, "rs-1")


def test_fills_and_funding_are_reported_once_even_after_a_restart():
    venue = FakeExchange()
    broker = _broker(venue)
    broker.place_order(_buy())
    venue.funding.append(FundingPayment("p1", "BTCUSDT", 0.0001, -0.3, venue.now + 1))
    first = broker.observe()
    assert [getattr(e, "fill_id", getattr(e, "payment_id", "")) for e in first] == ["f1", "p1"]
    assert broker.observe() == []
    restarted = _broker(venue, json.loads(json.dumps(broker.state())))  # through the state blob, as stored
    assert restarted.observe() == []
    restarted.place_order(_buy("e2"))
    assert [e.fill_id for e in restarted.observe()] == ["f2"]  # a new fill still comes through


def test_an_order_whose_answer_was_lost_is_looked_up_and_never_sent_twice():
    venue = FakeExchange()
    venue.accept_then_fail.append(OrderOutcomeUnknown("timeout after sending", venue="fake"))
    broker = _broker(venue)
    state = broker.place_order(_buy())
    assert state.venue_order_id == "v1"  # found by its client order id at once
    assert venue.placed == ["e1"]


def test_a_lost_answer_that_cannot_be_looked_up_waits_for_the_next_cycle_then_is_found():
    venue = FakeExchange()
    venue.accept_then_fail.append(OrderOutcomeUnknown("timeout after sending", venue="fake"))
    venue.fail("order", VenueRetryable("timeout", venue="fake"))
    broker = _broker(venue)
    state = broker.place_order(_buy())
    assert state.status == OPEN and "outcome unknown" in state.reason
    assert [o.client_order_id for o in broker.open_orders()] == ["e1"]  # the runner keeps waiting for it
    events = broker.observe()
    assert venue.placed == ["e1"]  # looked up, not sent again
    assert [e.fill_id for e in events] == ["f1"]
    assert broker.order("e1").status == "filled"


def test_a_retryable_failure_is_tried_next_cycle_after_a_look_up():
    venue = FakeExchange()
    venue.fail("place_order", VenueRetryable("HTTP 503", venue="fake", status=503))
    broker = _broker(venue)
    assert broker.place_order(_buy()).status == OPEN
    assert venue.placed == []
    events = broker.observe()
    assert venue.calls.index("order") < venue.calls.index("place_order", 1)  # looked up before sent again
    assert venue.placed == ["e1"] and [e.fill_id for e in events] == ["f1"]
    assert broker.take_reconnected() and not broker.take_reconnected()  # the venue answers again: reconcile


def test_a_malformed_answer_is_retried_like_a_busy_venue():
    venue = FakeExchange()
    venue.fail("place_order", VenueAnswerMalformed("truncated JSON", venue="fake"))
    broker = _broker(venue)
    broker.place_order(_buy())
    broker.observe()
    assert venue.placed == ["e1"]


def test_a_rejected_order_is_recorded_rejected_with_the_reason():
    venue = FakeExchange()
    venue.fail("place_order", VenueRejected("insufficient funds", venue="fake"))
    state = _broker(venue).place_order(_buy())
    assert state.status == REJECTED and "insufficient funds" in state.reason


def test_a_fatal_error_engages_the_kill_switch_and_nothing_more_is_sent(plan):
    venue = FakeExchange()
    venue.fail("place_order", VenueFatal("invalid API key", venue="fake", status=401))
    broker = _broker(venue)
    assert broker.place_order(_buy()).status == REJECTED
    assert "invalid API key" in broker.halted
    calls = len(venue.calls)
    assert broker.place_order(_buy("e2")).status == REJECTED
    assert broker.observe() == []
    assert broker.protect(plan, [_position()]) == []
    assert len(venue.calls) == calls  # nothing more reached the venue
    portfolio = Portfolio(10_000.0, 10_000.0, venue_halt=broker.halted)
    state, reason, source = states.trading_state(plan, portfolio)
    assert (state, source) == (states.HALTED, states.KILL_SWITCH) and "invalid API key" in reason


def test_absurd_fills_are_refused():
    venue = FakeExchange()
    broker = _broker(venue)
    broker.place_order(_buy())
    venue.fills[0] = venue.fills[0].__class__(**{**_fields(venue.fills[0]), "price": 0.0})
    assert broker.observe() == []


def _fields(obj) -> dict:
    return {name: getattr(obj, name) for name in obj.__slots__}


def test_a_position_without_a_stop_gets_one_at_the_exchange(plan):
    venue = FakeExchange()
    broker = _broker(venue)
    placed = broker.protect(plan, [_position()])
    [stop] = placed
    assert stop.order_type == STOP and stop.reduce_only and stop.side == "sell" and stop.quantity == 0.01
    order = venue.orders[stop.client_order_id]
    assert order.status == OPEN
    assert broker.protective_exit(stop.client_order_id) == ("e1", "stop_loss")
    assert broker.open_orders() == []  # the broker's own: the recovery task must not cancel it
    assert broker.protect(plan, [_position()]) == []  # protected: nothing placed again


def test_the_stop_price_is_the_stop_tiers_loss_rounded_away_from_the_entry(plan):
    venue = FakeExchange()
    broker = _broker(venue)
    [long_stop] = broker.protect(plan, [_position(entry=100_000.5)])
    assert venue_stop_price(venue, long_stop.client_order_id) == 97_500.0  # 97 500.4875 down to the tick
    venue2 = FakeExchange()
    [short_stop] = _broker(venue2).protect(plan, [_position(direction="SHORT", entry=100_000.5)])
    assert venue_stop_price(venue2, short_stop.client_order_id) == 102_501.0  # 102 500.5125 up to the tick


def venue_stop_price(venue: FakeExchange, cid: str) -> float:
    return venue.stop_prices[cid]


def test_a_stop_is_resized_after_a_partial_exit_and_cancelled_when_the_position_closes(plan):
    venue = FakeExchange()
    broker = _broker(venue)
    [first] = broker.protect(plan, [_position()])
    broker.refresh()
    changed = broker.protect(plan, [_position(quantity=0.005)])
    assert [(s.client_order_id, s.status) for s in changed] == [
        (first.client_order_id, "cancelled"),
        (changed[1].client_order_id, OPEN),
    ]
    assert changed[1].quantity == 0.005
    broker.refresh()
    [cancelled] = broker.protect(plan, [])
    assert cancelled.status == "cancelled" and not broker.protective_orders


def test_a_stop_cancelled_at_the_venue_behind_the_bots_back_is_placed_again(plan):
    venue = FakeExchange()
    broker = _broker(venue)
    [first] = broker.protect(plan, [_position()])
    venue.cancel_order(first.client_order_id)
    broker.refresh()
    [again] = broker.protect(plan, [_position()])
    assert again.client_order_id != first.client_order_id and again.status == OPEN


def test_the_state_survives_a_restart_with_its_stops(plan):
    venue = FakeExchange()
    broker = _broker(venue)
    [stop] = broker.protect(plan, [_position()])
    restarted = _broker(venue, json.loads(json.dumps(broker.state())))
    restarted.refresh()
    assert restarted.protective_orders == {stop.client_order_id}
    assert restarted.protect(plan, [_position()]) == []
