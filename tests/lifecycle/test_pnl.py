"""A trade's P&L through the real Runner + PaperBroker + StateStore, checked against hand
calculations (docs/exits.md "From exit to order to trade record", docs/paper-broker.md).

Every scenario uses the default paper rules on kraken_futures:
* taker fee 0.05 % of the fill's notional on every market fill (entries and exits);
* slippage 2 bps: buys fill at price × 1.0002, sells at price × 0.9998;
* a market order fills at the NEXT snapshot's price (these snapshots carry no candles);
* funding every hour on the hour: amount = −signed quantity × mark × rate, where mark is
  the last price seen before the snapshot that crossed the funding time and rate the latest
  published at or before it (a positive rate: longs pay, shorts receive).

The entry (tests/lifecycle/helpers.py ``signals``): liquidation cascade + extreme fear/greed →
conviction LOW → leverage 2; the sizing gives 0.0091 BTC at 100 000 USD: 1 000 USD base margin
(10 % of 10 000) × multiplier 0.455 (conviction gate LOW 0.7 × intelligence aligned_boost 1.3 ×
signal LOW 0.5, the other gates 1.0, multiplied exactly in decimal) × leverage 2 = 910 USD;
910 / 100 000 = 0.0091 BTC, exactly on the 0.0001 step (the binary float product
0.45499999999999996 used to give 909.99… USD → 0.0090 BTC, a step lost). Timeline: a warm-up snapshot
at T0 − 1 h (the 1 h liquidation window must be full), the decision at T0 (a funding time with
no position yet), the entry fill at T0 + 60 s.
"""

from __future__ import annotations

import sqlite3

import pytest

from adapters.store.state import StateStore
from tests.lifecycle.helpers import T0, Harness, enter, plan, plan_with, snapshot

BTC = "BTCUSDT"
FEE = 0.05 / 100  # kraken_futures taker
SLIP = 2 / 10_000  # paper_broker.slippage_bps
QTY = 0.0091


def test_the_settings_these_hand_calculations_use():
    p = plan()
    venue = p.venues.exchange(p.venues.execution_venue)
    assert (venue.id, venue.taker_fee_pct, venue.funding_interval_s) == ("kraken_futures", 0.05, 3600)
    assert p.paper_broker["slippage_bps"] == 2 and p.paper_broker["starting_balance_usd"] == 10_000
    assert T0 % 3600 == 0


def _open(direction: str, h: Harness | None = None, rate: float = 0.0001) -> Harness:
    """Warm-up, decision, entry fill (helpers.enter); the entry is 0.0091 BTC at 2x, market."""
    h = enter(direction, h, rate=rate)
    position = h.only_position()
    assert (position.direction, position.initial_quantity, position.leverage, position.conviction) == (
        direction,
        QTY,
        2,
        "LOW",
    )
    return h


# ------------------------------------------------------------------ a long: funding paid, profit target


def _long_profit_target(h: Harness | None = None) -> Harness:
    h = _open("LONG", h)
    h.step(snapshot(T0 + 3540, {BTC: 100_300.0}, rate=0.0001))  # +0.28 %: nothing fires
    h.step(snapshot(T0 + 3660, {BTC: 100_300.0}, rate=0.0005))  # crosses the 01:00 funding time
    exits = h.step(snapshot(T0 + 3720, {BTC: 102_100.0})).exits  # +2.08 % → profit target
    assert [(s.tier, s.reason) for s in exits] == [("profit_target", "TAKE_PROFIT")]
    assert len(h.step(snapshot(T0 + 3780, {BTC: 102_200.0})).trades) == 1  # the exit fills here
    return h


def test_long_net_pnl_equals_the_hand_calculation():
    h = _long_profit_target()
    (trade,) = h.store.trades()
    # entry: buy 0.0091 at the next price 100 000 × 1.0002           = 100 020
    #        fee 0.0091 × 100 020 × 0.0005 = 910.182 × 0.0005         = 0.455091
    assert trade.entry_price == pytest.approx(100_000 * (1 + SLIP)) == pytest.approx(100_020.0)
    # funding at T0+1h (between the 3540 s and 3660 s snapshots): the rate published at 3660 s
    # (0.0005) is later than 01:00 and not used; 0.0001 (published 3540 s) is. mark = the last
    # price before the crossing snapshot = 100 300:
    #        amount = −0.0091 × 100 300 × 0.0001 = −0.091273 (paid)
    (payment,) = h.store.funding()
    assert (payment.ts, payment.rate) == (T0 + 3600, 0.0001)
    assert payment.amount == pytest.approx(-QTY * 100_300 * 0.0001) == pytest.approx(-0.091273)
    assert trade.funding == pytest.approx(0.091273)
    # exit: the profit target fires at 3720 s (pnl (102 100 / 100 020 − 1) × 100 = +2.0796 % > 2.0);
    #        the reduce-only sell fills at the next price 102 200 × 0.9998 = 102 179.56
    #        fee 0.0091 × 102 179.56 × 0.0005 = 929.833996 × 0.0005   = 0.464916998
    assert trade.exit_price == pytest.approx(102_200 * (1 - SLIP)) == pytest.approx(102_179.56)
    # gross = 0.0091 × (102 179.56 − 100 020) = 0.0091 × 2 159.56      = 19.651996
    # fees  = 0.455091 + 0.464916998                                   = 0.920007998
    # net   = 19.651996 − 0.920007998 − 0.091273                       = 18.640715002
    # net % = 18.640715002 / (100 020 × 0.0091 = 910.182) × 100        = 2.048020...
    assert trade.gross_pnl == pytest.approx(19.651996, rel=1e-12)
    assert trade.fees == pytest.approx(0.455091 + 0.464916998, rel=1e-12)
    assert trade.net_pnl == pytest.approx(18.640715002, rel=1e-12)
    assert trade.net_pnl_pct == pytest.approx(18.640715002 / 910.182 * 100, rel=1e-12)
    # the broker's cash moved by exactly the net P&L: 10 000 + 19.651996 − 0.920007998 − 0.091273
    assert h.broker.cash == pytest.approx(10_000 + 18.640715002, rel=1e-12)
    assert (trade.exit_reason, trade.exit_tier, trade.quantity, trade.leverage) == (
        "TAKE_PROFIT",
        "profit_target",
        QTY,
        2,
    )


# ------------------------------------------------------------------ a short: funding received, stop loss


def test_short_stop_loss_net_pnl_equals_the_hand_calculation():
    h = _open("SHORT")
    h.step(snapshot(T0 + 3540, {BTC: 100_000.0}, direction="SHORT"))
    h.step(snapshot(T0 + 3660, {BTC: 100_000.0}, direction="SHORT"))
    exits = h.step(snapshot(T0 + 3720, {BTC: 102_500.0}, direction="SHORT")).exits
    # pnl of a short = −(102 500 / 99 980 − 1) × 100 = −2.5205 % ≤ −2.5: stop (FORCE_EXIT also holds; stop ranks first)
    assert [(s.tier, s.reason) for s in exits] == [("stop_loss", "STOP_LOSS")]
    (trade,) = h.step(snapshot(T0 + 3780, {BTC: 102_600.0}, direction="SHORT")).trades
    # entry: sell 0.0091 at 100 000 × 0.9998 = 99 980; fee 0.0091 × 99 980 × 0.0005 = 909.818 × 0.0005 = 0.454909
    # funding at 01:00: −(−0.0091) × 100 000 × 0.0001 = +0.091 received → funding = −0.091
    # exit: buy 0.0091 at 102 600 × 1.0002 = 102 620.52; fee 0.0091 × 102 620.52 × 0.0005
    #       = 933.846732 × 0.0005 = 0.466923366
    # gross = −0.0091 × (102 620.52 − 99 980) = −0.0091 × 2 640.52 = −24.028732
    # net   = −24.028732 − (0.454909 + 0.466923366) + 0.091      = −24.859564366
    assert (trade.entry_price, trade.exit_price) == (pytest.approx(99_980.0), pytest.approx(102_620.52))
    assert trade.funding == pytest.approx(-0.091)
    assert trade.gross_pnl == pytest.approx(-24.028732, rel=1e-12)
    assert trade.fees == pytest.approx(0.454909 + 0.466923366, rel=1e-12)
    assert trade.net_pnl == pytest.approx(-24.859564366, rel=1e-12)
    assert (trade.exit_reason, trade.exit_tier, trade.direction) == ("STOP_LOSS", "stop_loss", "SHORT")
    assert trade.peak_pnl_pct == 0.0  # never in profit
    assert h.broker.cash == pytest.approx(10_000 - 24.859564366, rel=1e-12)


@pytest.mark.parametrize(
    "direction, rate, paid",
    [
        # amount = −signed quantity × mark 100 000 × rate; funding (paid) = −amount
        # |amount| = 0.0091 × 100 000 × 0.0001 = 0.091
        ("LONG", 0.0001, +0.091),  # longs pay a positive rate
        ("SHORT", 0.0001, -0.091),  # shorts receive it
        ("LONG", -0.0001, -0.091),  # a negative rate: longs receive
        ("SHORT", -0.0001, +0.091),  # and shorts pay
    ],
)
def test_funding_sign_long_vs_short(direction, rate, paid):
    h = _open(direction, rate=rate)
    h.step(snapshot(T0 + 3540, {BTC: 100_000.0}, direction=direction, rate=rate))
    h.step(snapshot(T0 + 3660, {BTC: 100_000.0}, direction=direction, rate=rate))
    (payment,) = h.store.funding()
    assert payment.payment_id == f"kraken_futures-funding-{BTC}-{T0 + 3600:.0f}"
    assert payment.amount == pytest.approx(-paid)
    assert h.only_position().funding_paid == pytest.approx(paid)


# ------------------------------------------------------------------ a ladder rung, then the full exit


def test_partial_ladder_exit_then_full_exit():
    h = _open("LONG")
    exits = h.step(snapshot(T0 + 1860, {BTC: 100_600.0})).exits
    # hold 1 800 s ≥ 30 m and pnl (100 600 / 100 020 − 1) × 100 = +0.58 % > +0.5 %: rung 1 (25 %)
    assert [(s.tier, s.rungs, s.fraction) for s in exits] == [("ladder", (0,), 0.25)]
    h.step(snapshot(T0 + 1920, {BTC: 100_600.0}))
    # 25 % of 0.0091 = 0.002275 BTC, rounded DOWN to the 0.0001 step = 0.0022 BTC; 0.0069 BTC left
    # sold at 100 600 × 0.9998 = 100 579.88; fee 0.0022 × 100 579.88 × 0.0005 = 0.110637868
    # realised 0.0022 × (100 579.88 − 100 020) = 0.0022 × 559.88 = 1.231736
    part = h.only_position()
    assert part.ladder_done == (0,)
    assert part.quantity == pytest.approx(0.0069)
    assert part.realized_pnl == pytest.approx(1.231736, rel=1e-12)
    assert part.fees_paid == pytest.approx(0.455091 + 0.110637868, rel=1e-12)
    stored = h.store.open_positions()
    assert len(stored) == 1 and stored[0] == part  # the partial close is committed
    exits = h.step(snapshot(T0 + 1980, {BTC: 102_100.0})).exits
    assert [(s.tier, s.reason, s.fraction) for s in exits] == [("profit_target", "TAKE_PROFIT", 1.0)]
    (trade,) = h.step(snapshot(T0 + 2040, {BTC: 102_100.0})).trades
    # the rest, 0.0069, sold at 102 100 × 0.9998 = 102 079.58; fee 0.0069 × 102 079.58 × 0.0005
    #   = 704.349102 × 0.0005 = 0.352174551
    # gross = 1.231736 + 0.0069 × (102 079.58 − 100 020 = 2 059.58) = 1.231736 + 14.211102 = 15.442838
    # average exit = (0.0022 × 100 579.88 + 0.0069 × 102 079.58) / 0.0091
    #              = (221.275736 + 704.349102) / 0.0091 = 925.624838 / 0.0091 = 101 717.01516…
    # fees = 0.455091 + 0.110637868 + 0.352174551 = 0.917903419; no funding time crossed (T0+60 s … T0+2 040 s)
    # net  = 15.442838 − 0.917903419 = 14.524934581
    assert trade.gross_pnl == pytest.approx(15.442838, rel=1e-9)
    assert trade.exit_price == pytest.approx(925.624838 / 0.0091, rel=1e-12)
    assert trade.fees == pytest.approx(0.917903419, rel=1e-9)
    assert trade.funding == 0.0
    assert trade.net_pnl == pytest.approx(14.524934581, rel=1e-9)
    assert (trade.quantity, trade.exit_reason, trade.exit_tier, trade.duration_s) == (
        QTY,
        "TAKE_PROFIT",
        "profit_target",
        1980.0,
    )
    exit_fills = [f for f in h.store.fills() if f.side == "sell"]
    assert [f.quantity for f in exit_fills] == pytest.approx([0.0022, 0.0069])
    assert [f.price for f in exit_fills] == pytest.approx([100_579.88, 102_079.58])


def test_the_three_ladder_rungs_close_the_whole_position():
    h = _open("LONG")
    h.step(snapshot(T0 + 1860, {BTC: 100_600.0}))  # +0.58 % at 30 m: rung 1
    h.step(snapshot(T0 + 1920, {BTC: 100_600.0}))
    h.step(snapshot(T0 + 3660, {BTC: 101_200.0}))  # +1.18 % at 60 m: rung 2
    h.step(snapshot(T0 + 3720, {BTC: 101_200.0}))
    h.step(snapshot(T0 + 5460, {BTC: 101_700.0}))  # +1.68 % at 90 m (below the +2 % target): rung 3
    h.step(snapshot(T0 + 5520, {BTC: 101_700.0}))
    assert h.runner.positions == {} and h.store.open_positions() == []
    (trade,) = h.store.trades()
    assert trade.exit_reason == "LADDER_RUNG"


# ------------------------------------------------------------------ the trade record in SQLite and in the sink


def test_trade_record_fields_in_sqlite_and_in_the_trades_sink(tmp_path):
    db = tmp_path / "paper.db"
    with StateStore(db) as store:
        h = _long_profit_target(Harness(store=store))
        (sunk,) = h.records["trades"]
        (trade,) = store.trades()
    version = plan().version
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        (row,) = conn.execute("SELECT * FROM trades").fetchall()
        row = dict(row)
        orders = conn.execute(
            "SELECT client_order_id, side, order_type, reduce_only, status, quantity, version "
            "FROM orders WHERE position_id = ? ORDER BY created_at",
            (trade.id,),
        ).fetchall()
        positions = conn.execute("SELECT COUNT(*) FROM positions").fetchone()[0]
    expected = {
        "id": trade.id,
        "symbol": BTC,
        "direction": "LONG",
        "venue": "kraken_futures",
        "entry_ts": T0 + 60,
        "exit_ts": T0 + 3780,
        "duration_s": 3720.0,  # fill to fill
        "exit_reason": "TAKE_PROFIT",
        "exit_tier": "profit_target",
        "entry_version": version,
        "exit_version": version,
        "conviction": "LOW",
        "quantity": QTY,
    }
    assert {k: row[k] for k in expected} == expected
    assert {k: sunk[k] for k in expected} == expected
    assert sunk["net_pnl"] == row["net_pnl"] == trade.net_pnl
    assert sunk["attribution"] == dict(trade.attribution) and set(trade.attribution) == {
        "liquidation_cascade",
        "fear_greed",
    }
    assert positions == 0
    # the entry order, then ONE reduce-only market sell of the whole quantity, both stamped with the version
    assert [tuple(o) for o in orders] == [
        (trade.id, "buy", "market", 0, "filled", QTY, version),
        (orders[1][0], "sell", "market", 1, "filled", QTY, version),
    ]
    assert orders[1][0].startswith(f"{trade.id}-x0-")
    # the exit decision was logged once, with the chosen tier
    (decision,) = [r for r in h.records["exits"] if r["position"] == trade.id]
    assert decision["chosen"]["tier"] == "profit_target" and decision["ts"] == T0 + 3720


def test_entry_and_exit_versions_when_the_rules_change_while_the_position_is_open(tmp_path):
    """Restarted on a new rule version while the position is open: the trade keeps the
    version that opened it and records the one that closed it."""
    newer = plan_with(tmp_path, {"learning": lambda d: d["post_trade"].update(expectancy_half_life_trades=21)})
    assert newer.version != plan().version
    store = StateStore(tmp_path / "state.db")
    first = _open("LONG", Harness(store=store))
    first.step(snapshot(T0 + 3540, {BTC: 100_300.0}))
    second = Harness(newer, store=store, history=first.history)  # restart, like `rulebot paper`
    second.step(snapshot(T0 + 3720, {BTC: 102_100.0}))
    second.step(snapshot(T0 + 3780, {BTC: 102_200.0}))
    (trade,) = store.trades()
    assert (trade.entry_version, trade.exit_version) == (plan().version, newer.version)
    store.close()


def test_one_exit_order_per_position_at_a_time():
    """The exit order is out while BTC has no new price (a snapshot with only ETH): the position
    is not evaluated again, so no second exit order is sent although its price still says exit."""
    h = _open("LONG")
    h.step(snapshot(T0 + 3720, {BTC: 102_100.0}))  # profit target → exit order
    (out,) = h.broker.open_orders()
    assert (out.side, out.order_type, out.reduce_only, out.quantity) == ("sell", "market", True, QTY)
    for ts in (T0 + 3780, T0 + 3840):
        assert h.step(snapshot(ts, {"ETHUSDT": 2_500.0})).exits == []
    assert len(h.broker.open_orders()) == 1
    (trade,) = h.step(snapshot(T0 + 3900, {BTC: 102_100.0})).trades
    exit_orders = [o for o in h.store.orders(trade.id) if o.reduce_only]
    assert len(exit_orders) == 1 and exit_orders[0].status == "filled"


def test_a_liquidation_is_recorded_as_a_trade():
    h = _open("LONG")
    # 11 minutes on: a halving is within the sanity layer's bound by then (in one minute it
    # would be refused as a bad print: tests/market/test_sanity.py)
    h.step(snapshot(T0 + 720, {BTC: 50_000.0}))
    (trade,) = h.store.trades()
    # gross = 0.0091 × (50 510.1 − 100 020) = 0.0091 × −49 509.9 = −450.54009;
    # liquidation fee 0.0091 × 50 510.1 × 0.0005 = 459.64191 × 0.0005 = 0.229820955
    # net = −450.54009 − 0.455091 − 0.229820955 = −451.225001955
    assert (trade.exit_reason, trade.exit_tier, trade.exit_price) == ("LIQUIDATION", "", pytest.approx(50_510.1))
    assert trade.net_pnl == pytest.approx(-451.225001955, rel=1e-9)
