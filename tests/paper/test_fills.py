"""Market and limit fills: next-price fills, slippage, maker/taker fees, gaps, realised P&L."""

from __future__ import annotations

from pytest import approx

from tests.paper.helpers import DAY, order, snap, sym


def test_the_venues_hold_the_numbers_these_tests_compute_with(kraken, blofin, plan):
    assert (kraken.maker_fee_pct, kraken.taker_fee_pct, kraken.funding_interval_s) == (0.02, 0.05, 3600)
    assert (blofin.maker_fee_pct, blofin.taker_fee_pct, blofin.funding_interval_s) == (0.02, 0.06, 28800)
    assert plan.risk.liquidation.maintenance_margin_pct == 0.5
    assert dict(plan.paper_broker) == {"starting_balance_usd": 10000, "slippage_bps": 2}


def test_market_buy_waits_for_the_next_price_and_pays_slippage_and_taker_fee(broker):
    broker.observe(snap(DAY, price=50_000))
    placed = broker.place_order(order("b1", "buy", 0.1))
    assert placed.status == "open" and broker.fills_since(0) == []  # nothing fills at the price already seen
    [fill] = broker.observe(snap(DAY + 60, price=51_000))
    assert fill.price == approx(51_010.2)  # 51 000 × (1 + 2/10 000)
    assert fill.fee == approx(2.55051)  # 0.1 × 51 010.2 × 0.05 / 100
    assert (fill.liquidity, fill.side, fill.quantity, fill.ts) == ("taker", "buy", 0.1, DAY + 60)
    assert broker.open_orders() == []
    [pos] = broker.positions()
    assert (pos.quantity, pos.entry_price, pos.leverage) == (0.1, approx(51_010.2), 5.0)
    assert broker.balance().cash == approx(9_997.44949)  # 10 000 − 2.55051


def test_market_sell_fills_lower_by_the_slippage(broker):
    broker.observe(snap(DAY, price=50_000))
    broker.place_order(order("s1", "sell", 0.1))
    [fill] = broker.observe(snap(DAY + 60, price=50_000))
    assert fill.price == approx(49_990.0)  # 50 000 × (1 − 2/10 000)
    assert broker.positions()[0].quantity == -0.1


def test_market_order_fills_at_the_first_candle_open_not_the_snapshot_price(broker):
    broker.observe(snap(DAY, price=50_000))
    broker.place_order(order("b1", "buy", 0.1))
    candles = [(DAY, 50_500, 51_200, 50_400, 51_100), (DAY + 60, 51_100, 51_400, 51_000, 51_300)]
    [fill] = broker.observe(snap(DAY + 120, price=51_300, candles=candles))
    assert fill.price == approx(50_510.1)  # first open 50 500 × 1.0002


def test_round_trip_realises_pnl_net_of_both_taker_fees(broker):
    broker.observe(snap(DAY, price=50_000))
    broker.place_order(order("b1", "buy", 0.1))
    broker.observe(snap(DAY + 60, price=50_000))  # buy fills at 50 010
    broker.place_order(order("s1", "sell", 0.1, reduce_only=True))
    broker.observe(snap(DAY + 120, price=52_000))  # sell fills at 51 989.6
    assert broker.positions() == []
    assert broker.realized_pnl == approx(197.96)  # 0.1 × (51 989.6 − 50 010)
    assert broker.fees_paid == approx(5.09998)  # 0.1×50 010×0.0005 = 2.5005 + 0.1×51 989.6×0.0005 = 2.59948
    assert broker.balance().cash == approx(10_192.86002)  # 10 000 + 197.96 − 5.09998
    assert broker.balance().equity == approx(10_192.86002)  # flat: equity = cash


def test_short_round_trip_profits_when_the_price_falls(flat):
    flat.observe(snap(DAY, price=50_000))
    flat.place_order(order("s1", "sell", 0.2))
    flat.observe(snap(DAY + 60, price=50_000))  # short 0.2 at 50 000
    flat.place_order(order("b1", "buy", 0.2, reduce_only=True))
    flat.observe(snap(DAY + 120, price=48_000))  # cover at 48 000
    assert flat.realized_pnl == approx(400.0)  # 0.2 × (50 000 − 48 000)
    assert flat.fees_paid == approx(9.8)  # 0.2×50 000×0.0005 = 5 + 0.2×48 000×0.0005 = 4.8


def test_limit_buy_rests_until_a_candle_low_reaches_it_and_pays_the_maker_fee(broker):
    broker.observe(snap(DAY, price=50_000))
    broker.place_order(order("l1", "buy", 0.1, limit=49_000))
    assert broker.observe(snap(DAY + 60, price=49_600, candles=[(DAY, 50_000, 50_100, 49_500, 49_600)])) == []
    [fill] = broker.observe(snap(DAY + 120, price=49_300, candles=[(DAY + 60, 49_800, 49_900, 48_800, 49_300)]))
    assert (fill.price, fill.liquidity) == (49_000, "maker")  # the limit, no slippage
    assert fill.fee == approx(0.98)  # 0.1 × 49 000 × 0.02 / 100


def test_limit_sell_fills_when_a_candle_high_reaches_it(broker):
    broker.observe(snap(DAY, price=50_000))
    broker.place_order(order("l1", "sell", 0.1, limit=51_000))
    [fill] = broker.observe(snap(DAY + 60, price=50_500, candles=[(DAY, 50_000, 51_000, 49_900, 50_500)]))
    assert fill.price == 51_000  # high 51 000 ≥ limit: touched is filled


def _two(btc_candles, eth_candles):
    return (
        sym("BTCUSDT", price=btc_candles[-1][4], candles=btc_candles),
        sym("ETHUSDT", price=eth_candles[-1][4], candles=eth_candles),
    )


def test_limit_gapped_through_at_the_open_fills_at_the_better_open(broker):
    broker.observe(snap(DAY, price=50_000))
    broker.place_order(order("buy", "buy", 0.1, limit=49_000))
    broker.place_order(order("sell", "sell", 0.1, symbol="ETHUSDT", limit=3_000))
    gap_down = [(DAY, 48_500, 48_900, 48_000, 48_800)]  # opens below the buy limit
    gap_up = [(DAY, 3_100, 3_150, 3_050, 3_120)]  # opens above the sell limit
    fills = broker.observe(snap(DAY + 60, *_two(gap_down, gap_up)))
    assert {f.client_order_id: f.price for f in fills} == {"buy": 48_500, "sell": 3_100}
    assert {f.liquidity for f in fills} == {"maker"}


def test_without_candles_the_price_is_a_one_point_candle(broker):
    broker.observe(snap(DAY, price=50_000))
    broker.place_order(order("l1", "buy", 0.1, limit=49_000))
    assert broker.observe(snap(DAY + 60, price=49_500)) == []  # 49 500 > 49 000: not crossed
    [fill] = broker.observe(snap(DAY + 120, price=48_900))
    assert fill.price == 48_900  # below the limit: the price is the "open", better than 49 000


def test_marketable_limit_fills_at_the_next_open_never_at_the_last_seen_price(broker):
    broker.observe(snap(DAY, price=48_000))
    broker.place_order(order("l1", "buy", 0.1, limit=49_000))  # above the market
    [fill] = broker.observe(snap(DAY + 60, price=48_200, candles=[(DAY, 48_100, 48_300, 48_050, 48_200)]))
    assert fill.price == 48_100  # the open 48 100 ≤ 49 000


def test_adding_to_a_position_averages_the_entry(flat):
    flat.observe(snap(DAY, price=50_000))
    flat.place_order(order("b1", "buy", 0.1))
    flat.observe(snap(DAY + 60, price=50_000))
    flat.place_order(order("b2", "buy", 0.3))
    flat.observe(snap(DAY + 120, price=54_000))
    [pos] = flat.positions()
    assert pos.quantity == 0.4  # 0.1 + 0.3, exact (decimal addition)
    assert pos.entry_price == approx(53_000.0)  # (0.1×50 000 + 0.3×54 000) / 0.4


def test_a_bigger_opposite_order_flips_the_position(flat):
    flat.observe(snap(DAY, price=50_000))
    flat.place_order(order("b1", "buy", 0.1))
    flat.observe(snap(DAY + 60, price=50_000))
    flat.place_order(order("s1", "sell", 0.3, leverage=3))
    flat.observe(snap(DAY + 120, price=51_000))
    [pos] = flat.positions()
    assert (pos.quantity, pos.entry_price, pos.leverage) == (-0.2, 51_000, 3)  # 0.1 − 0.3; new short at the fill
    assert flat.realized_pnl == approx(100.0)  # 0.1 closed × (51 000 − 50 000)


def test_nan_prices_are_not_observed(broker):
    broker.observe(snap(DAY, price=50_000, mark=50_010))
    broker.place_order(order("b1", "buy", 0.1))
    assert broker.observe(snap(DAY + 60, price=float("nan"), mark=float("inf"))) == []
    ticker = broker.ticker("BTCUSDT")
    assert (ticker.last, ticker.mark, ticker.ts) == (50_000, 50_010, DAY)  # nothing new was seen
    [fill] = broker.observe(snap(DAY + 120, price=50_000))
    assert fill.price == approx(50_010.0)  # 50 000 × 1.0002


def test_older_or_equal_snapshots_are_ignored(broker):
    broker.observe(snap(DAY, price=50_000))
    broker.place_order(order("b1", "buy", 0.1))
    assert broker.observe(snap(DAY, price=40_000)) == []
    assert broker.observe(snap(DAY - 60, price=40_000)) == []
    assert broker.open_orders()[0].client_order_id == "b1"
