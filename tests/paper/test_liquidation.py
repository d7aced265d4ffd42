"""Isolated-margin liquidation at entry × (1 − 1/leverage + mm %) for a long, the mirror for
a short; closed at that price with a taker fee, reported as a ``liquidation`` fill."""

from __future__ import annotations

from pytest import approx

from tests.paper.helpers import DAY, order, snap


def _open(broker, side: str, leverage: float, quantity: float = 0.1) -> None:
    """Fill at 50 000 (the fixture has no slippage): taker fee 0.1 × 50 000 × 0.0005 = 2.5."""
    broker.observe(snap(DAY, price=50_000))
    broker.place_order(order("entry", side, quantity, leverage=leverage))
    broker.observe(snap(DAY + 60, price=50_000))


def test_long_is_liquidated_when_a_candle_low_reaches_the_liquidation_price(flat):
    _open(flat, "buy", leverage=10)
    [pos] = flat.positions()
    assert pos.liquidation_price == approx(45_250.0)  # 50 000 × (1 − 1/10 + 0.5/100) = 50 000 × 0.905
    flat.place_order(order("tp", "sell", 0.1, limit=60_000, reduce_only=True))
    near = [(DAY + 60, 50_000, 50_100, 45_300, 46_000)]  # low 45 300 > 45 250: survives
    assert flat.observe(snap(DAY + 120, price=46_000, mark=46_000, candles=near)) == []
    through = [(DAY + 120, 46_000, 46_100, 45_200, 45_900)]
    [liq] = flat.observe(snap(DAY + 180, price=45_900, mark=45_900, candles=through))
    assert (liq.liquidity, liq.side, liq.quantity, liq.client_order_id) == (
        "liquidation",
        "sell",
        0.1,
        "liquidation-BTCUSDT-2",
    )
    assert liq.price == approx(45_250.0)  # at the liquidation price, not the low
    assert liq.fee == approx(2.2625)  # 0.1 × 45 250 × 0.05 / 100
    assert flat.positions() == [] and flat.open_orders() == []  # the take-profit went with it
    assert flat.realized_pnl == approx(-475.0)  # 0.1 × (45 250 − 50 000)
    assert flat.balance().cash == approx(9_520.2375)  # 10 000 − 475 − 2.5 − 2.2625


def test_short_is_liquidated_when_the_mark_reaches_the_liquidation_price(flat):
    _open(flat, "sell", leverage=5)
    assert flat.positions()[0].liquidation_price == approx(59_750.0)  # 50 000 × (1 + 1/5 − 0.005)
    assert flat.observe(snap(DAY + 120, price=59_700, mark=59_700)) == []
    [liq] = flat.observe(snap(DAY + 180, price=59_700, mark=59_800))  # the mark, not the price, decides
    assert (liq.side, liq.price, liq.liquidity) == ("buy", approx(59_750.0), "liquidation")
    assert liq.fee == approx(2.9875)  # 0.1 × 59 750 × 0.0005
    assert flat.realized_pnl == approx(-975.0)  # −0.1 × (59 750 − 50 000)
    assert flat.balance().cash == approx(9_019.5125)  # 10 000 − 975 − 2.5 − 2.9875


def test_short_liquidation_uses_the_candle_high(flat):
    _open(flat, "sell", leverage=20)  # liq 50 000 × (1 + 0.05 − 0.005) = 52 250
    [liq] = flat.observe(snap(DAY + 120, price=51_000, candles=[(DAY + 60, 50_000, 52_300, 49_900, 51_000)]))
    assert liq.price == approx(52_250.0)


def test_liquidation_loses_the_margin_down_to_maintenance(flat):
    """Loss at liquidation = notional × (1/leverage − mm %): here 5 000 × (0.1 − 0.005) = 475."""
    _open(flat, "buy", leverage=10)
    flat.observe(snap(DAY + 120, price=45_000, mark=45_000))
    assert flat.realized_pnl == approx(-5_000 * (0.1 - 0.005))


def test_on_an_ambiguous_candle_liquidation_comes_before_the_take_profit(flat):
    """Like freqtrade's stop-before-profit: the adverse extreme is assumed to come first."""
    _open(flat, "buy", leverage=10)  # liq 45 250
    flat.place_order(order("tp", "sell", 0.1, limit=52_000, reduce_only=True))
    [liq] = flat.observe(snap(DAY + 120, price=50_000, candles=[(DAY + 60, 50_000, 52_500, 45_000, 50_000)]))
    assert liq.liquidity == "liquidation"
    assert flat.cancel_order("tp").status == "cancelled"


def test_invalid_candles_are_skipped_and_the_price_is_used(flat):
    flat.observe(snap(DAY, price=50_000))
    flat.place_order(order("b1", "buy", 0.1))
    [fill] = flat.observe(snap(DAY + 60, price=50_100, candles=[(DAY, float("nan"), 50_200, 49_000, 50_100)]))
    assert fill.price == 50_100  # the NaN candle is not observed
