"""Balance arithmetic, the state round trip (a run split in two halves gives identical
results), determinism, and that PaperBroker answers every ExchangePort method."""

from __future__ import annotations

import inspect
import json

import pytest
from pytest import approx

from adapters.paper.broker import PaperBroker
from engine.ports import Balance, ExchangePort, Fill, FundingPayment, OrderState, Ticker, VenuePosition
from tests.paper.helpers import DAY, make_broker, order, snap, sym

HOUR = 3600.0


def test_balance_cash_equity_and_available_margin(flat):
    flat.observe(snap(DAY, price=50_000))
    flat.place_order(order("b1", "buy", 0.1, leverage=5))
    flat.observe(snap(DAY + 60, price=50_000))  # long 0.1 at 50 000, fee 2.5
    flat.observe(snap(DAY + 120, price=51_000, mark=50_900))
    flat.place_order(order("add", "buy", 0.05, limit=49_000, leverage=5))
    flat.place_order(order("tp", "sell", 0.1, limit=55_000, reduce_only=True))
    balance = flat.balance()
    assert balance.cash == approx(9_997.5)  # 10 000 − 2.5
    assert balance.equity == approx(10_087.5)  # 9 997.5 + 0.1 × (50 900 mark − 50 000)
    # 10 087.5 − position margin 0.1 × 50 000 / 5 = 1 000 − order margin 0.05 × 49 000 / 5 = 490
    # (the reduce-only take-profit holds no margin)
    assert balance.available_margin == approx(8_597.5)


def test_pending_market_orders_reserve_margin_at_the_last_value(flat):
    flat.observe(snap(DAY, price=50_000))
    flat.place_order(order("b1", "buy", 0.1, leverage=4))
    assert flat.balance().available_margin == approx(8_750.0)  # 10 000 − 0.1 × 50 000 / 4


def test_cash_includes_funding(flat):
    flat.observe(snap(DAY + 600, price=50_000, rate=0.0001))
    flat.place_order(order("b1", "buy", 0.1))
    flat.observe(snap(DAY + 660, price=50_000))
    flat.observe(snap(DAY + HOUR + 1, price=50_000))
    assert flat.funding_received == approx(-0.5)  # −0.1 × 50 000 × 0.0001
    assert flat.balance().cash == approx(9_997.0)  # 10 000 − fee 2.5 − funding 0.5


def _script():
    """A run touching every feature: fills, ladder, funding (rate changes), NaN, liquidation."""

    def eth(ts, price, **kw):
        return snap(
            ts,
            sym("BTCUSDT", price=50_000, rate=0.0001),
            sym("ETHUSDT", price=price, **kw),
        )

    return [
        lambda b: b.observe(snap(DAY + 600, price=50_000, mark=50_010, rate=0.0001)),
        lambda b: b.place_order(order("b1", "buy", 0.2, leverage=10)),
        lambda b: b.place_order(order("e1", "sell", 2.0, symbol="ETHUSDT", limit=3_100, leverage=3)),
        lambda b: b.observe(eth(DAY + 660, 3_000, rate=-0.0002)),
        lambda b: b.place_order(order("tp1", "sell", 0.05, limit=50_500, reduce_only=True)),
        lambda b: b.place_order(order("tp2", "sell", 0.05, limit=51_000, reduce_only=True)),
        lambda b: b.observe(eth(DAY + HOUR + 5, 3_150, candles=[(DAY + HOUR, 3_050, 3_160, 3_040, 3_150)])),
        lambda b: b.observe(
            snap(DAY + HOUR + 65, price=float("nan"), candles=[(DAY + HOUR + 5, 50_000, 50_600, 49_900, 50_550)])
        ),
        lambda b: b.observe(snap(DAY + 2 * HOUR + 5, price=51_200, mark=51_150, rate=0.0003)),
        lambda b: b.cancel_order("tp1"),
        lambda b: b.observe(snap(DAY + 3 * HOUR, price=46_000, mark=45_000)),
        lambda b: b.observe(eth(DAY + 4 * HOUR, 2_900)),
    ]


def _run(broker, steps):
    return [repr(step(broker)) for step in steps]


def test_state_round_trip_mid_run_gives_identical_results(kraken):
    steps = _script()
    whole = make_broker(kraken)
    expected = _run(whole, steps)
    assert any("liquidation" in line for line in expected) and any("FundingPayment" in line for line in expected)
    for cut in range(len(steps) + 1):
        first = make_broker(kraken)
        got = _run(first, steps[:cut])
        resumed = PaperBroker.from_state(kraken, json.loads(json.dumps(first.state(), allow_nan=False)))
        got += _run(resumed, steps[cut:])
        assert got == expected, f"diverged after a cut at step {cut}"
        assert resumed.state() == whole.state() and resumed.balance() == whole.balance()


def test_the_same_inputs_give_the_same_ids_and_numbers(kraken):
    a, b = make_broker(kraken), make_broker(kraken)
    assert _run(a, _script()) == _run(b, _script())
    assert json.dumps(a.state(), sort_keys=True) == json.dumps(b.state(), sort_keys=True)


def test_state_from_another_venue_is_refused(kraken, blofin):
    with pytest.raises(ValueError, match="cannot resume"):
        PaperBroker.from_state(blofin, make_broker(kraken).state())


def test_for_plan_takes_the_profile_settings(plan):
    broker = PaperBroker.for_plan(plan)
    assert (broker.venue.id, broker.starting_balance, broker.slippage_bps, broker.maintenance_margin_pct) == (
        "kraken_futures",
        10_000,
        2,
        0.5,
    )
    assert PaperBroker.for_plan(plan, "blofin").venue.id == "blofin"


def _protocol_methods() -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in vars(ExchangePort).items()
        if callable(member) and not name.startswith("_")
    }


def test_signatures_match_the_exchange_port():
    methods = _protocol_methods()
    assert len(methods) == 9
    for name, expected in methods.items():
        actual = inspect.signature(getattr(PaperBroker, name))
        assert actual == expected, f"{name}{actual} != {name}{expected}"


def test_every_protocol_method_answers_with_its_type(flat):
    port: ExchangePort = flat
    flat.observe(snap(DAY + 600, price=50_000, bid=49_990, ask=50_010, rate=0.0001))
    placed = port.place_order(order("b1", "buy", 0.1))
    resting = port.place_order(order("l1", "buy", 0.1, limit=40_000))
    flat.observe(snap(DAY + 660, price=50_000))  # b1 fills
    flat.observe(snap(DAY + HOUR + 60, price=50_000, mark=50_005))  # funding at 01:00
    calls = {
        "ticker": port.ticker("BTCUSDT"),
        "place_order": placed,
        "cancel_order": port.cancel_order("l1"),
        "open_orders": port.open_orders(),
        "positions": port.positions(),
        "balance": port.balance(),
        "fills_since": port.fills_since(0),
        "funding_since": port.funding_since(0),
        "order": port.order("b1"),
    }
    assert set(calls) == set(_protocol_methods())
    assert calls["ticker"] == Ticker("BTCUSDT", 50_000, 50_005, 49_990, 50_010, DAY + HOUR + 60)
    assert isinstance(placed, OrderState) and resting.status == "open"
    assert calls["order"].status == "filled" and port.order("never-sent") is None
    assert calls["cancel_order"].status == "cancelled" and calls["open_orders"] == []
    assert [type(p) for p in calls["positions"]] == [VenuePosition]
    assert isinstance(calls["balance"], Balance)
    assert [type(f) for f in calls["fills_since"]] == [Fill]
    assert [type(p) for p in calls["funding_since"]] == [FundingPayment]
    assert port.fills_since(DAY + HOUR + 61) == [] and port.funding_since(DAY + HOUR + 1) == []


def test_a_symbol_never_observed_has_a_nan_ticker(broker):
    ticker = broker.ticker("DOGEUSDT")
    assert ticker.last != ticker.last and (ticker.mark, ticker.ts) == (None, 0.0)
