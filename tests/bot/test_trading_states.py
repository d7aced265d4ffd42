"""Each trading state's effect on a real Runner (engine/bot/states.py; the runner's
``held`` claims): ACTIVE enters and exits; REDUCING exits but never enters; a HALTED held by an
operator or a task neither enters nor makes a discretionary exit, while the stop still closes;
and the precedence among claims."""

from __future__ import annotations

import pytest

from engine.bot.states import Claim, conditions, resolve, trading_state, withholds_exits
from engine.trading.portfolio import AccountStats, Portfolio
from tests.lifecycle.helpers import HOUR, T0, Harness, enter, plan, snapshot

BTC = "BTCUSDT"
HALT = Claim("HALTED", "maintenance", "operator", T0 - 2 * HOUR)
REDUCE = Claim("REDUCING", "news", "operator", T0 - 2 * HOUR)


def _entries_with(*held: Claim) -> list:
    h = Harness()
    h.runner.held = held
    h.step(snapshot(T0 - HOUR, {BTC: 100_000.0}))
    return h.step(snapshot(T0, {BTC: 100_000.0})).entries


def test_active_enters_reducing_and_halted_do_not():
    assert [e.symbol for e in _entries_with()] == [BTC]
    assert _entries_with(REDUCE) == []
    assert _entries_with(HALT) == []


def _opened(*held: Claim) -> Harness:
    """A LONG opened while ACTIVE; then the claims are held from the next cycle on."""
    h = enter("LONG")
    h.runner.held = held
    return h


@pytest.mark.parametrize("held, closes", [((), True), ((REDUCE,), True), ((HALT,), False)])
def test_a_profit_target_closes_unless_an_operator_halted(held, closes):
    h = _opened(*held)
    exits = h.step(snapshot(T0 + 3720, {BTC: 102_100.0})).exits  # +2.1 %: the profit target fires
    assert [(s.tier, s.reason) for s in exits] == ([("profit_target", "TAKE_PROFIT")] if closes else [])
    if not closes:
        assert h.only_position().quantity > 0 and h.records["exits"] == []


@pytest.mark.parametrize("held", [(), (REDUCE,), (HALT,), (Claim("HALTED", "out of step", "reconciliation", T0),)])
def test_the_stop_closes_in_every_state(held):
    h = _opened(*held)
    exits = h.step(snapshot(T0 + 600, {BTC: 97_000.0})).exits  # −3 %: past the 2.5 % stop
    assert [(s.tier, s.reason) for s in exits] == [("stop_loss", "STOP_LOSS")]
    assert len(h.step(snapshot(T0 + 660, {BTC: 97_000.0})).trades) == 1
    logged = h.records["exits"][0]
    assert logged.get("trading_state") == ("HALTED" if withholds_exits(held) else None)


def _portfolio(*held: Claim, **account) -> Portfolio:
    return Portfolio(10_000.0, 10_000.0, held=held, account=AccountStats(**account))


def test_precedence_halted_over_reducing_earliest_first_and_conditions_after_held():
    p = plan()
    assert trading_state(p, _portfolio()) == ("ACTIVE", "", "")
    assert trading_state(p, _portfolio(REDUCE)) == ("REDUCING", "news", "operator")
    later = Claim("HALTED", "watchdog: heartbeats stale", "watchdog", T0)
    assert trading_state(p, _portfolio(REDUCE, later, HALT)) == ("HALTED", "maintenance", "operator")
    breach = _portfolio(REDUCE, peak_equity_usd=12_000.0)  # drawdown 16.67 % > 10 %
    assert trading_state(p, breach) == ("HALTED", "drawdown 16.67 % > 10 %", "kill_switch")
    assert trading_state(p, _portfolio(HALT, peak_equity_usd=12_000.0))[2] == "operator"  # held earlier
    assert [c.source for c in conditions(p, breach)] == ["kill_switch"]
    assert resolve([Claim("REDUCING", "b", "policy"), Claim("REDUCING", "a", "market_data")])[1] == "b"
    assert not withholds_exits([Claim("HALTED", "drawdown", "kill_switch")])  # a breach halts entries only
