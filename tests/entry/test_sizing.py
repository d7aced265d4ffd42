"""Sizing against the real contract specs of rules/venues.yaml (reference/exchanges.md
§1.9 Kraken PF_ and §2.3 BloFin), with every expected number computed by hand.

margin   = equity × base_allocation_pct (10 %)
notional = margin × clamp(multiplier, 0.2, 3.0) × leverage, capped at 50 000 USD
contracts = notional ÷ (price × contract_size), rounded DOWN to size_step; below min_size → refused
stop (price basis) = price × (1 ∓ 2.5 %); liquidation = price × (1 ∓ (1/leverage − 0.5 %))
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from types import SimpleNamespace

import pytest

from engine.trading.entry import decide_entry
from engine.trading.sizing import REFUSALS, leverage_for, liquidation_price, round_down
from tests.entry.builders import portfolio, signal_record, sized
from tests.entry.conftest import BLOFIN

NOW = 1_700_000_000.0

STANDARD = {
    "components": [
        {"id": "liquidation_cascade", "direction": "LONG", "confidence": 0.8},
        {"id": "whale_flow", "direction": "LONG", "confidence": 0.8},
        {"id": "funding_rate", "direction": "LONG", "confidence": 0.8},
    ]
}


def _short(spec):
    return {"components": [dict(c, direction="SHORT") for c in spec["components"]]}


size = sized


def on_grid(value: float, step: float) -> bool:
    return Decimal(str(value)) % Decimal(str(step)) == 0


# ------------------------------------------------------------------ the specs themselves


def test_offline_specs_match_the_exchange_reference(kraken, blofin):
    k = kraken.venues.exchange("kraken_futures").instruments
    assert (k["PF_XBTUSD"].size_step, k["PF_XBTUSD"].tick_size, k["PF_XBTUSD"].contract_size) == (0.0001, 1, 1)
    assert (k["PF_ETHUSD"].size_step, k["PF_ETHUSD"].tick_size, k["PF_ETHUSD"].contract_size) == (0.001, 0.1, 1)
    b = blofin.venues.exchange("blofin").instruments["BTC-USDT"]
    assert (b.contract_size, b.size_step, b.min_size) == (0.001, 1, 1)  # size in contracts of 0.001 BTC
    assert blofin.venues.execution_venue == "blofin"


# ------------------------------------------------------------------ round_down


@pytest.mark.parametrize(
    "value, step, expected",
    [
        (0.12349, 0.0001, "0.1234"),  # BTC: the fifth decimal is cut, never rounded
        (0.1234, 0.0001, "0.1234"),  # an exact multiple stays
        (1.59909, 0.001, "1.599"),  # ETH
        (0.3, 0.1, "0.3"),  # float floor(0.3 / 0.1) would give 0.2; decimal arithmetic gives 0.3
        (48.99, 1, "48"),  # BloFin contracts
        (59988.69986, 1, "59988"),  # XBT tick 1
        (3002.30034, 0.1, "3002.3"),  # ETH tick 0.1
        (98123, 1000, "98000"),  # negative precision (PF_PEPEUSD step 1000, reference §1.9)
    ],
)
def test_round_down_is_exact(value, step, expected):
    assert Decimal(str(round_down(value, step))) == Decimal(expected)


# ------------------------------------------------------------------ Kraken PF_XBTUSD / PF_ETHUSD


def test_xbt_long_rounds_down_to_the_size_step(kraken):
    # MEDIUM → 3x; notional = 10000 × 10 % × 1.0 × 3 = 3000 USD; 3000 / 24293 = 0.1234923… BTC → 0.1234
    s = size(kraken, price=24293.0)
    assert s.ok and s.reason == "OK"
    assert (s.venue_symbol, s.leverage, s.multiplier) == ("PF_XBTUSD", 3, 1.0)
    assert Decimal(str(s.contracts)) == Decimal("0.1234") and s.base_quantity == s.contracts
    assert s.notional_usd == pytest.approx(0.1234 * 24293)  # 2997.7562 (the rounded size, not 3000)
    assert s.margin_usd == pytest.approx(2997.7562 / 3)  # 999.2520667
    # LONG: stop 24293 × 0.975 = 23685.675 → tick 1, rounded toward the entry (up) = 23686;
    # liquidation 24293 × (1 − (1/3 − 0.005)) = 16316.79833
    assert s.stop_price == 23686
    assert s.liquidation_price == pytest.approx(16316.798333333)


def test_eth_short_rounds_down_to_the_size_step(kraken):
    # HIGH → 4x; notional = 1000 × 1.2 × 4 = 4800; 4800 / 3001.7 = 1.5990938… ETH → 1.599
    s = size(kraken, symbol="ETHUSDT", direction="SHORT", conviction="HIGH", price=3001.7, multiplier=1.2)
    assert s.ok and s.venue_symbol == "PF_ETHUSD" and s.leverage == 4
    assert Decimal(str(s.contracts)) == Decimal("1.599")
    assert s.notional_usd == pytest.approx(4799.7183)  # 1.599 × 3001.7
    # SHORT: stop above, liquidation above: 3001.7 × 1.025 = 3076.7425 → tick 0.1, toward the entry
    # (down) = 3076.7; liquidation 3001.7 × (1 + 0.245) = 3737.1165
    assert Decimal(str(s.stop_price)) == Decimal("3076.7")
    assert s.liquidation_price == pytest.approx(3737.1165)
    assert s.stop_price < s.liquidation_price


def test_stop_and_liquidation_long_and_short_at_3x(kraken):
    long, short = size(kraken), size(kraken, direction="SHORT")
    # 60000 × 0.975 = 58500, 60000 × (1 − 0.328333) = 40300; mirrored for SHORT: 61500, 79700
    assert (long.stop_price, long.liquidation_price) == (pytest.approx(58500), pytest.approx(40300))
    assert (short.stop_price, short.liquidation_price) == (pytest.approx(61500), pytest.approx(79700))
    assert long.contracts == short.contracts == 0.05  # 3000 / 60000


@pytest.mark.parametrize(
    "direction, leverage, expected",
    [
        ("LONG", 4, 75.5),
        ("SHORT", 4, 124.5),  # move = 1/4 − 0.5 % = 24.5 %
        ("LONG", 2, 50.5),
        ("SHORT", 2, 149.5),  # move = 1/2 − 0.5 % = 49.5 %
    ],
)
def test_liquidation_price_formula(direction, leverage, expected):
    assert liquidation_price(direction, 100.0, leverage, 0.5) == pytest.approx(expected)


def test_below_minimum_size_is_refused_never_rounded_up(kraken):
    # LOW → 2x; multiplier 0.1 clamps to 0.2; 150 × 10 % × 0.2 × 2 = 6 USD; 6 / 100000 = 0.00006 BTC < 0.0001
    s = size(kraken, equity_usd=150.0, conviction="LOW", multiplier=0.1, price=100000.0)
    assert (s.ok, s.reason, s.contracts) == (False, "SIZE_BELOW_MINIMUM", 0.0)
    assert s.stop_price is None and s.liquidation_price is None


def test_exactly_the_minimum_size_is_accepted(kraken):
    # same 6 USD at 60000 → 0.0001 BTC = min_size
    s = size(kraken, equity_usd=150.0, conviction="LOW", multiplier=0.1, price=60000.0)
    assert s.ok and Decimal(str(s.contracts)) == Decimal("0.0001")


def test_max_notional_cap(kraken):
    # 1e6 × 10 % × 3.0 × 4 = 1 200 000 → capped at 50 000; 50000 / 60000 = 0.83333 → 0.8333 BTC
    s = size(kraken, equity_usd=1_000_000.0, conviction="HIGH", multiplier=3.0)
    assert s.ok and Decimal(str(s.contracts)) == Decimal("0.8333")
    assert s.notional_usd == pytest.approx(49998.0) and s.notional_usd <= kraken.risk.sizing.max_notional_usd
    assert s.margin_usd == pytest.approx(12499.5)


@pytest.mark.parametrize(
    "multiplier, clamped, contracts",
    [
        (10.0, 3.0, "0.15"),  # 1000 × 3.0 × 3 = 9000 / 60000
        (3.0, 3.0, "0.15"),
        (1.0, 1.0, "0.05"),  # 3000 / 60000
        (0.2, 0.2, "0.01"),  # 600 / 60000
        (0.05, 0.2, "0.01"),  # clamped up to the floor
    ],
)
def test_multiplier_clamp(kraken, multiplier, clamped, contracts):
    s = size(kraken, multiplier=multiplier)
    assert s.ok and s.multiplier == clamped and Decimal(str(s.contracts)) == Decimal(contracts)


@pytest.mark.parametrize("multiplier", [0.0, -1.0])
def test_zero_or_negative_multiplier_is_refused(kraken, multiplier):
    s = size(kraken, multiplier=multiplier)
    assert (s.ok, s.reason) == (False, "SIZE_ZERO")


@pytest.mark.parametrize("price", [None, 0.0, -5.0, float("nan"), float("inf")])
def test_no_usable_price_is_refused(kraken, price):
    assert size(kraken, price=price).reason == "SIZE_NO_PRICE"


def test_unmapped_symbol_has_no_instrument(kraken):
    assert size(kraken, symbol="XRPUSDT").reason == "SIZE_NO_INSTRUMENT"


def test_refusal_codes_are_declared():
    assert set(REFUSALS) == {
        "SIZE_NO_PRICE",
        "SIZE_NO_INSTRUMENT",
        "SIZE_ZERO",
        "SIZE_BELOW_MINIMUM",
        "SIZE_STOP_INSIDE_LIQUIDATION_BUFFER",
    }


# ------------------------------------------------------------------ leverage


@pytest.mark.parametrize("conviction, leverage", [("HIGH", 4), ("MEDIUM", 3), ("LOW", 2), ("NONE", 3)])
def test_leverage_by_signal_conviction(kraken, conviction, leverage):
    assert leverage_for(kraken.risk, conviction, 50) == leverage  # NONE → default 3
    assert size(kraken, conviction=conviction).leverage == leverage


def test_leverage_clamps():
    risk = SimpleNamespace(
        leverage=SimpleNamespace(default=3, min=2, max=5, by_conviction={"HIGH": 10, "MEDIUM": 3, "LOW": 1})
    )
    assert leverage_for(risk, "HIGH", 50) == 5  # above max → max
    assert leverage_for(risk, "LOW", 50) == 2  # below min → min
    assert leverage_for(risk, "MEDIUM", 2) == 2  # the instrument's own maximum wins
    assert leverage_for(risk, "HIGH", 4) == 4


def test_the_compiler_refuses_leverage_outside_its_band(rulesets):
    result = rulesets.compile({"risk.leverage.by_conviction.HIGH": 8}, profiles=("paper",))
    assert not result.ok and "RB320" in {d.code for d in result.diagnostics}


def test_higher_leverage_inside_the_band_is_used(rulesets):
    # max 8 and HIGH 8: liquidation 1/8 − 0.5 % = 12 % away, the 2.5 % stop is well clear
    plan = rulesets.plan("paper", {"risk.leverage.max": 8, "risk.leverage.by_conviction.HIGH": 8})
    s = size(plan, conviction="HIGH")
    # 1000 × 1.0 × 8 = 8000 / 60000 = 0.13333 → 0.1333; liquidation 60000 × 0.88 = 52800
    assert s.ok and s.leverage == 8 and Decimal(str(s.contracts)) == Decimal("0.1333")
    assert s.liquidation_price == pytest.approx(52800)


# ------------------------------------------------------------------ stop inside the liquidation buffer

LEVERAGE_40 = {
    "risk.leverage.default": 40,
    "risk.leverage.min": 40,
    "risk.leverage.max": 40,
    "risk.leverage.by_conviction.HIGH": 40,
    "risk.leverage.by_conviction.MEDIUM": 40,
    "risk.leverage.by_conviction.LOW": 40,
}


def test_compiler_refuses_40x_with_a_2_5_percent_stop(rulesets):
    """At 40x liquidation is 1/40 − 0.5 % = 2 % away: a 2.5 % stop is past it (RB345)."""
    result = rulesets.compile(LEVERAGE_40, profiles=("paper",))
    assert not result.ok
    assert [d.code for d in result.diagnostics if d.is_error] == ["RB345"]


def _with_leverage(plan, leverage: float):
    """The compiler refuses such a plan, so the runtime guard is reached by swapping the
    leverage into an already compiled plan (the guard is defence in depth)."""
    lev = dataclasses.replace(
        plan.risk.leverage,
        default=leverage,
        min=leverage,
        max=leverage,
        by_conviction={"HIGH": leverage, "MEDIUM": leverage, "LOW": leverage},
    )
    return dataclasses.replace(plan, risk=dataclasses.replace(plan.risk, leverage=lev))


@pytest.mark.parametrize(
    "direction, liq, stop",
    [
        ("LONG", 58800.0, 58500.0),  # 60000 × (1 − 0.02), 60000 × 0.975: the stop is beyond liquidation
        ("SHORT", 61200.0, 61500.0),
    ],
)
def test_stop_beyond_liquidation_is_refused_at_40x(kraken, direction, liq, stop):
    s = size(_with_leverage(kraken, 40), direction=direction)
    assert (s.ok, s.reason) == (False, "SIZE_STOP_INSIDE_LIQUIDATION_BUFFER")
    assert s.leverage == 40
    assert s.liquidation_price == pytest.approx(liq) and s.stop_price == pytest.approx(stop)


def test_stop_just_short_of_liquidation_but_inside_the_buffer_is_refused(kraken):
    # 33x: liquidation 1/33 − 0.5 % = 2.5303 % away → 58481.8; buffer 5 % of 1518.2 = 75.9
    # → the stop must be above 58557.7; the 2.5 % stop at 58500 is short of liquidation yet inside
    s = size(_with_leverage(kraken, 33), direction="LONG")
    assert s.reason == "SIZE_STOP_INSIDE_LIQUIDATION_BUFFER"
    assert s.liquidation_price < s.stop_price < s.liquidation_price + 0.05 * (60000 - s.liquidation_price)


def test_stop_outside_the_buffer_is_accepted_at_30x(kraken):
    # 30x: liquidation 1/30 − 0.5 % = 2.8333 % away → 58300; buffer 85 → the 58500 stop is clear
    s = size(_with_leverage(kraken, 30), direction="LONG")
    assert s.ok and s.liquidation_price == pytest.approx(58300)


# ------------------------------------------------------------------ BloFin (size in contracts)


def test_blofin_btc_in_contracts_of_0_001_btc(blofin):
    # 3000 USD / (61234.5 × 0.001 = 61.2345 USD per contract) = 48.99 → 48 contracts = 0.048 BTC
    s = size(blofin, price=61234.5)
    assert s.ok and s.venue_symbol == "BTC-USDT"
    assert s.contracts == 48 and Decimal(str(s.base_quantity)) == Decimal("0.048")
    assert s.notional_usd == pytest.approx(2939.256)  # 0.048 × 61234.5
    assert s.margin_usd == pytest.approx(979.752)


def test_blofin_eth_contracts_of_0_01_eth(blofin):
    # LOW → 2x: 2000 USD / (3001.7 × 0.01 = 30.017) = 66.63 → 66 contracts = 0.66 ETH
    s = size(blofin, symbol="ETHUSDT", conviction="LOW", price=3001.7)
    assert s.ok and s.venue_symbol == "ETH-USDT" and s.contracts == 66
    assert Decimal(str(s.base_quantity)) == Decimal("0.66")
    assert s.notional_usd == pytest.approx(1981.122)


def test_blofin_below_one_contract_is_refused(blofin):
    # 150 × 10 % × 0.2 × 2 = 6 USD < one contract (60 USD at 60000) → 0.1 → 0 contracts < min_size 1
    s = size(blofin, equity_usd=150.0, conviction="LOW", multiplier=0.1)
    assert (s.ok, s.reason, s.contracts) == (False, "SIZE_BELOW_MINIMUM", 0)


def test_blofin_order_intent_carries_contracts_and_base_quantity(rulesets, blofin):
    record = signal_record(blofin, "BTCUSDT", STANDARD, NOW)
    decision = decide_entry(
        blofin,
        record,
        {"price": 60000.0, "spread_bps": 2.0, "price_age_s": 5.0},
        portfolio({"equity_usd": 10000}),
        {},
        NOW,
    )
    # total 1.3 × 0.85 × 1.0 = 1.105; 1000 × 1.105 × 3 = 3315 USD / 60 USD per contract = 55.25 → 55
    intent = decision.intent
    assert decision.outcome == "TRADE"
    assert (intent.venue, intent.venue_symbol, intent.contracts) == ("blofin", "BTC-USDT", 55)
    assert Decimal(str(intent.base_quantity)) == Decimal("0.055")
    assert intent.notional_usd == pytest.approx(3300)
    assert len(intent.client_order_id) <= 32 and intent.client_order_id.isalnum()  # BloFin clientOrderId rule


# ------------------------------------------------------------------ limit price on the tick grid


def _decide(plan, symbol, spec, price):
    record = signal_record(plan, symbol, spec, NOW)
    return decide_entry(
        plan, record, {"price": price, "spread_bps": 2.0, "price_age_s": 5.0}, portfolio({"equity_usd": 10000}), {}, NOW
    )


def test_market_entry_has_no_limit_price(kraken):
    intent = _decide(kraken, "BTCUSDT", STANDARD, 60000.7).intent
    assert intent.order_type == "market" and intent.limit_price is None


def test_limit_price_long_xbt_rounded_to_tick_1(rulesets):
    plan = rulesets.plan("paper", {"risk.orders.entry_type": "limit"})
    # 60000.7 × (1 − 2 bps) = 59988.69986 → tick 1 → 59988
    intent = _decide(plan, "BTCUSDT", STANDARD, 60000.7).intent
    assert intent.order_type == "limit" and intent.limit_price == 59988
    assert on_grid(intent.limit_price, 1)


def test_limit_price_short_eth_rounded_to_tick_0_1(rulesets):
    plan = rulesets.plan("paper", {"risk.orders.entry_type": "limit"})
    # 3001.7 × (1 + 2 bps) = 3002.30034 → tick 0.1, a sell limit rounds UP (passive side) → 3002.4
    intent = _decide(plan, "ETHUSDT", _short(STANDARD), 3001.7).intent
    assert intent.side == "sell" and Decimal(str(intent.limit_price)) == Decimal("3002.4")


def test_limit_price_blofin_btc_rounded_to_tick_0_1(rulesets):
    plan = rulesets.plan("paper", {"risk.orders.entry_type": "limit", **BLOFIN})
    # 61234.56 × (1 − 2 bps) = 61222.313088 → tick 0.1 → 61222.3
    intent = _decide(plan, "BTCUSDT", STANDARD, 61234.56).intent
    assert Decimal(str(intent.limit_price)) == Decimal("61222.3")


@pytest.mark.parametrize(
    "symbol, direction, price, tick",
    [
        ("BTCUSDT", "LONG", 61234.0, 1),  # 61234 × 0.975 = 59703.15, tick 1
        ("ETHUSDT", "SHORT", 3001.7, 0.1),  # 3001.7 × 1.025 = 3076.7425, tick 0.1
    ],
)
def test_stop_price_is_on_the_tick_grid(kraken, symbol, direction, price, tick):
    spec = STANDARD if direction == "LONG" else _short(STANDARD)
    intent = _decide(kraken, symbol, spec, price).intent
    assert intent is not None and on_grid(intent.stop_price, tick)


# ------------------------------------------------------------------ binary division before the decimal floor


def test_exact_multiple_of_the_step_keeps_every_contract(blofin):
    # LOW → 2x: 1561.7 × 10 % × 1.0 × 2 = 312.34 USD (float 312.34 exactly as written);
    # one ETH-USDT contract at 3123.4 is 0.01 ETH = 31.234 USD → exactly 10 contracts.
    # Engine: 312.34 / (3123.4 × 0.01 = 31.234000000000002) = 9.999999999999998 → 9 contracts.
    s = size(blofin, symbol="ETHUSDT", conviction="LOW", price=3123.4, equity_usd=1561.7)
    assert s.contracts == 10
