"""The market-data sanity layer (engine/market/sanity.py), one probe class of issue 14 at a
time: a price of 1e-9 for 15 minutes, a mark of 1.0 under a last of ~103,000, funding of
±1e9, one snapshot at 1e12, a genuine 40 % crash, the caps on sizes and skew — and what the
runner and the broker make of a refusal (no entry, fill, funding or liquidation at it; the
decision names it; REDUCING freezes entries, never exits)."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from adapters.paper.broker import PaperBroker
from engine.language.compiler import compile_ruleset
from engine.market.sanity import ACTIVE, REDUCING, MarketScreen
from engine.market.snapshot import parse_snapshot
from engine.ports import MARKET, OrderRequest
from engine.replay.dryrun import dry_run
from engine.replay.memstate import MemoryState
from engine.trading.runner import Runner, Sinks
from tests.lifecycle.market import snapshots as synthetic

ROOT = Path(__file__).resolve().parents[2]
T0 = 1_748_131_200.0  # a whole hour: T0 + k·3600 are funding times
BTC = 103_000.0


@functools.cache
def _plan():
    return compile_ruleset(str(ROOT / "rules"), ["paper"]).plans["paper"]


def _screen() -> MarketScreen:
    return MarketScreen.for_plan(_plan())


def _raw(k: int, price: float = BTC, candle: float | None = None, **fields) -> dict:
    """BTC's snapshot at minute ``k``: a price, its one-minute candle (at ``candle``, else the price)."""
    ts = T0 + 60 * k
    c = price if candle is None else candle
    return {"ts": ts, "symbols": {"BTCUSDT": {"price": price, "candles": [[ts - 60, c, c, c, c, 1.0]], **fields}}}


def _snap(k: int, price: float = BTC, candle: float | None = None, **fields):
    snapshot, problems = parse_snapshot(_raw(k, price, candle, **fields))
    assert snapshot is not None and not problems, problems
    return snapshot


def _walk(k: int) -> float:
    return BTC * (1 + 0.0001 * (k % 5))  # a quiet market


def test_a_price_of_1e_9_for_15_minutes_is_refused_every_minute_and_never_moves_the_reference():
    screen = _screen()
    for k in range(10):
        assert screen.screen(_snap(k, _walk(k))).refusals == ()
    for k in range(10, 25):
        screened = screen.screen(_snap(k, 1e-9, candle=_walk(k)))
        assert [(r.field, r.value) for r in screened.refusals] == [("price", 1e-9)], k
        assert "price" not in screened.snapshot.symbols["BTCUSDT"].values
        assert screened.snapshot.symbols["BTCUSDT"].candles  # the clean candle is still there
        assert screen.references["BTCUSDT"].price == _walk(9)
    reason = screened.refusals[0].reason
    assert reason.startswith("BTCUSDT price 1e-09 refused: ×9.7") and "from the last accepted price 103" in reason
    screened = screen.screen(_snap(25, _walk(25)))
    assert screened.refusals == () and screen.references["BTCUSDT"].price == _walk(25)
    assert screened.snapshot.symbols["BTCUSDT"].values["price"] == _walk(25)


def test_a_price_of_1e_9_for_15_minutes_makes_no_entry_or_fill_at_it():
    """The synthetic market trades often; BTC at 1e-9 for 15 minutes (its candles too) is not
    seen by the broker or the decisions, and no fill is near it."""
    raw = synthetic(240)
    bad = range(120, 135)
    for k in bad:
        raw[k]["symbols"]["BTCUSDT"]["price"] = 1e-9
        raw[k]["symbols"]["BTCUSDT"]["candles"] = [[raw[k]["ts"] - 60, 1e-9, 1e-9, 1e-9, 1e-9, 10.0]]
    plan, refusals, decisions = _plan(), [], []
    broker = PaperBroker.for_plan(plan)
    runner = Runner(
        plan,
        broker,
        MemoryState(),
        full_trail=False,
        sinks=Sinks(market=refusals.append, universe=decisions.append),
    )
    result, _, _ = dry_run(plan, (parse_snapshot(s)[0] for s in raw), broker=broker, store=MemoryState(), runner=runner)
    bad_ts = {raw[k]["ts"] for k in bad}
    assert {(r["ts"], r["field"]) for r in refusals} == {(ts, f) for ts in bad_ts for f in ("price", "candles")}
    assert result["metrics"]["trades"] >= 3
    btc = [f for f in broker.fills_since(0.0) if f.symbol == "BTCUSDT"]
    assert btc and all(f.price > 50_000 for f in btc)
    assert all(f.ts not in bad_ts for f in btc)  # no candle, no price: nothing to fill at
    at_bad = [d for d in decisions if d.symbol == "BTCUSDT" and d.ts in bad_ts and d.direction != "NEUTRAL"]
    assert all(d.outcome == "NO_TRADE" and d.first_blocker == "MARKET_DATA_REFUSED" for d in at_bad)
    assert max(abs(e - 10_000) for _, e in result["equity"]) < 2_000


def _long(broker: PaperBroker, leverage: float = 10.0) -> None:
    """A long BTC position opened at 103,000 (the order fills at minute 1's candle)."""
    broker.observe(_snap(0))
    order = broker.place_order(OrderRequest("long-1", "BTCUSDT", "buy", 0.01, MARKET, None, False, leverage))
    assert order.status == "open"
    fills = broker.observe(_snap(1))
    assert [f.client_order_id for f in fills] == ["long-1"]


def test_a_mark_of_1_under_a_last_of_103000_is_refused_and_liquidates_nothing():
    screen, broker, control = _screen(), PaperBroker.for_plan(_plan()), PaperBroker.for_plan(_plan())
    _long(broker)
    _long(control)
    screen.screen(_snap(0))
    screen.screen(_snap(1))
    raw = _snap(2, mark=1.0)
    screened = screen.screen(raw)
    assert [(r.field, r.value) for r in screened.refusals] == [("mark", 1.0)]
    assert "outside the band of ±10 %" in screened.refusals[0].reason
    assert "mark" not in screened.snapshot.symbols["BTCUSDT"].values
    assert screened.snapshot.symbols["BTCUSDT"].times["price"] == raw.ts  # the price is still in
    assert broker.observe(screened.snapshot) == []
    assert broker.positions()[0].quantity == 0.01
    assert [f.liquidity for f in control.observe(raw)] == ["liquidation"]  # what the refusal prevents


@pytest.mark.parametrize("rate", [1e9, -1e9])
def test_a_funding_rate_of_1e9_is_refused_and_pays_nothing(rate):
    screen, broker, control = _screen(), PaperBroker.for_plan(_plan()), PaperBroker.for_plan(_plan())
    _long(broker)
    _long(control)
    for k in (0, 1):
        screen.screen(_snap(k))
    raw = _snap(60, _walk(60), funding_rate=rate, funding_rate_ts=T0 + 3600)  # at the funding time
    screened = screen.screen(raw)
    assert [(r.field, r.value) for r in screened.refusals] == [("funding_rate", rate)]
    assert f"above the cap {_plan().requirements.market_data.funding_rate_cap:g}" in screened.refusals[0].reason
    sym = screened.snapshot.symbols["BTCUSDT"]
    assert "funding_rate" not in sym.values and "funding_rate" not in sym.times  # its time went with it
    assert broker.observe(screened.snapshot) == [] and broker.funding_received == 0
    payment = [e for e in control.observe(raw) if hasattr(e, "payment_id")]
    assert abs(payment[0].amount) > 1e8  # what the refusal prevents


def test_one_snapshot_at_1e12_is_refused_and_changes_no_decision():
    """Price and candles at 1e12 for one minute: refused (price and candle), and the run's
    directional decisions are those of the clean run, bar the refused cycle itself."""
    raw = synthetic(240)
    clean = _decisions(raw)
    k = 150
    ts = raw[k]["ts"]
    raw[k]["symbols"]["ETHUSDT"]["price"] = 1e12
    raw[k]["symbols"]["ETHUSDT"]["candles"] = [[ts - 60, 1e12, 1e12, 1e12, 1e12, 10.0]]
    refusals: list[dict] = []
    injected = _decisions(raw, refusals)
    assert {(r["ts"], r["symbol"], r["field"]) for r in refusals} == {
        (ts, "ETHUSDT", "price"),
        (ts, "ETHUSDT", "candles"),
    }
    assert len(clean) > 50
    at = [d for d in injected if (d["ts"], d["symbol"]) == (ts, "ETHUSDT")]
    assert all(d["first_blocker"] == "MARKET_DATA_REFUSED" for d in at)
    assert [d for d in injected if d not in at] == [d for d in clean if (d["ts"], d["symbol"]) != (ts, "ETHUSDT")]


def _decisions(raw: list[dict], refusals: list | None = None) -> list[dict]:
    plan, decisions = _plan(), []
    broker = PaperBroker.for_plan(plan)

    def keep(decision) -> None:
        if decision.direction != "NEUTRAL":
            decisions.append(
                {k: decision.as_dict()[k] for k in ("ts", "symbol", "direction", "outcome", "first_blocker")}
            )

    sinks = Sinks(universe=keep, market=(refusals if refusals is not None else []).append)
    runner = Runner(plan, broker, MemoryState(), full_trail=False, sinks=sinks)
    dry_run(plan, (parse_snapshot(s)[0] for s in raw), broker=broker, store=runner.store, runner=runner)
    return decisions


def test_a_genuine_crash_of_40_percent_is_refused_then_reduces_then_becomes_the_new_level():
    bounds = _plan().requirements.market_data
    screen, crashed = _screen(), BTC * 0.6
    states: list[tuple[float, str]] = []
    refused_at: list[float] = []
    for k in range(200):
        price = _walk(k) if k < 10 else crashed * (1 + 0.0001 * (k % 5))
        screened = screen.screen(_snap(k, price))
        if screened.refusals:
            assert {r.field for r in screened.refusals} == {"price", "candles"}
            refused_at.append(screened.snapshot.ts)
        if screened.transition is not None:
            states.append((screened.transition.ts - T0, screened.transition.state))
            assert screen.state == screened.transition.state
    crash = 60 * 10
    # refused from the crash until the level has held new_level_after; then the reference
    assert refused_at[0] - T0 == crash and refused_at[-1] - T0 == crash + bounds.new_level_after - 60
    assert screen.references["BTCUSDT"].price == pytest.approx(crashed, rel=1e-3)
    assert states == [(crash + bounds.reduce_after, REDUCING), (refused_at[-1] - T0 + bounds.recover_after, ACTIVE)]
    assert screen.state == ACTIVE and screen.alarm == ""


def test_reducing_gives_its_reason_as_the_alarm():
    screen = _screen()
    for k in range(5):
        screen.screen(_snap(k))
    for k in range(5, 30):
        screen.screen(_snap(k, BTC * 3))
    assert screen.state == REDUCING
    assert screen.alarm == "BTCUSDT's market data refused for 15 min in a row (exits only)"


@pytest.mark.parametrize(
    "field, ok, bad",
    [
        ("open_interest_usd", 1e12, 1.0001e12),
        ("liq_long_usd", 1e11, 2e11),
        ("liq_short_usd", 5e10, 1e15),
        ("taker_buy_usd", 1e11, 1.1e11),
        ("taker_sell_usd", 9e10, 1e12),
        ("exchange_netflow_usd", -1e11, -1.5e11),
        ("implied_skew", -100.0, 150.0),
    ],
)
def test_sizes_flows_and_skew_are_capped(field, ok, bad):
    screen = _screen()
    screen.screen(_snap(0))
    assert screen.screen(_snap(1, **{field: ok})).refusals == ()
    screened = screen.screen(_snap(2, **{field: bad}))
    assert [(r.field, r.value) for r in screened.refusals] == [(field, bad)]
    assert field not in screened.snapshot.symbols["BTCUSDT"].values
    assert "price" in screened.snapshot.symbols["BTCUSDT"].values  # nothing else is touched


def test_a_candle_volume_and_book_levels_are_capped():
    screen = _screen()
    screen.screen(_snap(0))
    heavy = _raw(1)
    heavy["symbols"]["BTCUSDT"]["candles"][0][5] = 2e11 / BTC  # 200 billion USD in one minute
    screened = screen.screen(parse_snapshot(heavy)[0])
    assert [r.field for r in screened.refusals] == ["candles"]
    assert screened.snapshot.symbols["BTCUSDT"].candles == ()
    assert "candles_1m" not in screened.snapshot.symbols["BTCUSDT"].times
    fine = {"bids": [[BTC - 1, 1.0]], "asks": [[BTC + 1, 1.0]]}
    assert screen.screen(_snap(2, book=fine)).refusals == ()
    for k, book, why in (
        (3, {"bids": [[BTC - 1, 2e10 / BTC]], "asks": [[BTC + 1, 1.0]]}, "above the cap 1e+10"),
        (4, {"bids": [[BTC - 1, 1.0]], "asks": [[BTC * 1.5, 1.0]]}, "outside the band of ±10 %"),
    ):
        screened = screen.screen(_snap(k, book=book))
        assert [r.field for r in screened.refusals] == ["book"] and why in screened.refusals[0].reason
        sym = screened.snapshot.symbols["BTCUSDT"]
        assert sym.book is None and "order_book" not in sym.times


def test_an_input_keeps_its_time_while_one_of_its_values_is_left():
    screen = _screen()
    screen.screen(_snap(0))
    snap = _snap(1, bid=BTC * 0.5, ask=BTC + 1, liq_long_usd=1e13, liq_short_usd=1e6, liquidations_ts=T0)
    sym = screen.screen(snap).snapshot.symbols["BTCUSDT"]
    assert "bid" not in sym.values and sym.values["ask"] == BTC + 1 and "order_book" in sym.times
    assert "liq_long_usd" not in sym.values and sym.times["liquidations"] == T0
    both = screen.screen(_snap(2, bid=BTC * 0.5, ask=BTC * 2)).snapshot.symbols["BTCUSDT"]
    assert "order_book" not in both.times and "price" in both.times


def test_the_entry_decision_names_the_refusal_and_reducing_freezes_entries_but_not_exits():
    """In the synthetic market, SOL's funding at 1e9 for 40 minutes (not a price input: no
    decision is blocked by the refusal itself): after reduce_after every entry is refused by
    the trading_state gate (TRADING_REDUCING) while open positions still exit, until
    recover_after without a refusal. Later, ETH's price at 1e12 blocks that decision, which
    names the refusal."""
    raw = synthetic(300)
    refused = range(75, 115)  # positions opened at minute 86 are held into REDUCING (from minute 90)
    for k in refused:
        raw[k]["symbols"]["SOLUSDT"]["funding_rate"] = 1e9
    raw[250]["symbols"]["ETHUSDT"]["price"] = 1e12  # a price input: that decision names it
    plan, decisions, market, exits = _plan(), [], [], []
    broker = PaperBroker.for_plan(plan)
    runner = Runner(
        plan,
        broker,
        MemoryState(),
        full_trail=True,
        sinks=Sinks(universe=decisions.append, market=market.append, exits=exits.append),
    )
    dry_run(plan, (parse_snapshot(s)[0] for s in raw), broker=broker, store=runner.store, runner=runner)
    states = [(m["ts"], m["state"]) for m in market if m["event"] == "trading_state"]
    start, end = raw[75]["ts"] + plan.requirements.market_data.reduce_after, raw[114]["ts"] + 3600
    assert states[:2] == [(start, REDUCING), (end, ACTIVE)]
    reducing = [d for d in decisions if start <= d.ts < end and d.direction != "NEUTRAL"]
    assert reducing and all(d.outcome == "NO_TRADE" for d in reducing)
    gate = [r for d in reducing if d.chain for r in d.chain.trail if r.kind == "trading_state"]
    assert gate and all(r.reason == "TRADING_REDUCING" for r in gate)
    assert any(d.first_blocker == "TRADING_REDUCING" for d in reducing)
    assert any(start <= e["ts"] < end and e["chosen"] for e in exits)  # exits still run
    assert all(e["version"] == plan.version for e in exits)  # an exit decision names its rules, as entries do
    assert any(d.outcome == "TRADE" for d in decisions if d.ts >= end)  # and entries come back
    named = [d for d in decisions if d.ts == raw[250]["ts"] and d.symbol == "ETHUSDT"]
    check = next(c for c in named[0].checks if c.id == "market_data_sane")
    assert named[0].first_blocker == "MARKET_DATA_REFUSED" and not check.passed
    assert check.reason == "MARKET_DATA_REFUSED" and check.detail.startswith("ETHUSDT price 1e+12 refused")
