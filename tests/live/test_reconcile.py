"""Live mode's start-up reconciliation (engine/trading/reconcile.py, engine/cli/live.py): the
state database and the venue must agree on positions, open orders and a tradeable balance;
each difference is said, and the keys are read from the environment by name only."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.venues.broker import VenueBroker
from engine.cli import live
from engine.common.redaction import forget_secrets, redact
from engine.language.compiler import compile_ruleset
from engine.ports import Balance, LiveRefused, OrderRequest
from engine.trading.positions import OpenPosition
from tests.live.fake_exchange import FakeExchange

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def plan():
    return compile_ruleset(str(ROOT / "rules")).plans["live"]


class _Runner:
    """What reconcile_at_start reads of the runner: its positions and pending orders."""

    def __init__(self, positions=(), pending=()):
        self.positions = {p.id: p for p in positions}
        self.pending = dict.fromkeys(pending)


def _position(quantity: float = 0.01) -> OpenPosition:
    return OpenPosition("e1", "BTCUSDT", "LONG", "fake", 100.0, quantity, quantity, 2.0, 900.0, "rs-1")


def _start(venue: FakeExchange, runner: _Runner, state=None):
    broker = VenueBroker(venue, venue="fake", clock=lambda: venue.now, state=state)
    return live.reconcile_at_start(runner, broker, 0.5)


def test_in_step_books_start():
    venue = FakeExchange(held={"BTCUSDT": 0.01})
    assert _start(venue, _Runner([_position()])).in_step


def test_a_position_at_the_venue_the_state_does_not_know_refuses_the_start():
    venue = FakeExchange(held={"BTCUSDT": 0.01})
    with pytest.raises(LiveRefused, match=r"BTCUSDT: the state holds flat 0, the venue long 0.01") as refused:
        _start(venue, _Runner())
    assert refused.value.code == "RB617"


def test_a_position_in_the_state_the_venue_does_not_hold_refuses_the_start():
    with pytest.raises(LiveRefused, match=r"BTCUSDT: the state holds long 0.01, the venue flat 0"):
        _start(FakeExchange(), _Runner([_position()]))


def test_an_order_open_at_the_venue_unknown_to_the_state_refuses_the_start():
    venue = FakeExchange()
    venue.place_order(OrderRequest("manual-1", "BTCUSDT", "buy", 0.01, "limit", 90.0))
    with pytest.raises(LiveRefused, match=r"order manual-1: open at the venue \(BTCUSDT buy 0.01 limit\)"):
        _start(venue, _Runner())


def test_a_pending_order_the_venue_never_saw_refuses_the_start():
    with pytest.raises(LiveRefused, match=r"order e9: pending in the state, unknown to the venue"):
        _start(FakeExchange(), _Runner(pending=["e9"]))


def test_a_fill_made_while_rulebot_was_down_is_no_difference():
    venue = FakeExchange()
    venue.place_order(OrderRequest("e1", "BTCUSDT", "buy", 0.01))  # filled at the venue, not yet applied
    assert _start(venue, _Runner(pending=["e1"]), state=_state_before(venue)).in_step


def _state_before(venue: FakeExchange) -> dict:
    """A broker state saved before the venue's last fill (the run stopped, then it filled)."""
    return {**VenueBroker(venue, venue="fake", clock=lambda: 0.0).state(), "cursor": 0.0}


def test_a_balance_with_nothing_to_trade_on_refuses_the_start():
    venue = FakeExchange(cash=0.0)
    with pytest.raises(LiveRefused, match=r"balance: the venue reports equity 0.0"):
        _start(venue, _Runner())


def test_a_venue_that_does_not_answer_refuses_the_start():
    from engine.ports import VenueRetryable

    venue = FakeExchange()
    venue.fail("positions", VenueRetryable("timeout", venue="fake"))
    with pytest.raises(LiveRefused, match="did not answer the reconciliation"):
        _start(venue, _Runner())


def test_a_moved_balance_is_only_noted():
    venue = FakeExchange()
    venue.cash = 9_000.0
    state = {**VenueBroker(venue, venue="fake", clock=lambda: venue.now).state(), "cash": 10_000.0}
    found = _start(venue, _Runner(), state=state)
    assert found.in_step and "10.00 % apart" in found.notes[0]
    assert Balance(9_000.0, 9_000.0, 9_000.0) == venue.balance()


def test_missing_keys_are_refused_by_name_never_by_value(plan):
    forget_secrets()
    exchange = plan.venues.exchange("kraken_futures")
    environ = {"KRAKEN_FUTURES_API_KEY": "LEAKCANARY-key-1234"}
    with pytest.raises(LiveRefused, match="KRAKEN_FUTURES_API_SECRET is not set") as refused:
        live.read_credentials(exchange, environ)
    assert "LEAKCANARY" not in str(refused.value)
    assert redact("the key LEAKCANARY-key-1234 leaked") == "the key [REDACTED] leaked"  # registered as read
    forget_secrets()


def test_the_exchange_variable_picks_the_venue(plan):
    assert live.execution_venue(plan, {}) == "kraken_futures"
    assert live.execution_venue(plan, {"EXCHANGE": "blofin"}) == "blofin"
    assert live.execution_venue(plan, {"EXCHANGE": "kraken"}) == "kraken_futures"
    with pytest.raises(LiveRefused, match="EXCHANGE='binance' names none"):
        live.execution_venue(plan, {"EXCHANGE": "binance"})
