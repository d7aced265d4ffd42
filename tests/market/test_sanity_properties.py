"""Issue 14's property of the market-data sanity layer: random absurd-but-finite values
injected into a real recording (a window of data/sample) are never traded on.

Each example injects a few values — prices (1e-9, 1e12, ×3, ÷3), marks, bids, asks, funding
rates (±1e9, ±0.5), open interest, liquidations, taker volumes, net flows, implied skew,
candle prices and volumes, order-book levels — at random cycles and symbols, for a run of
cycles, and replays the window with the scalar dry-run (paper broker, MemoryState, the
default paper plan, which trades about twenty times in the window). Then:

(a) no fill, exit or liquidation is made at a refused value: every market fill is a clean,
    not-injected candle open or price plus slippage, every liquidation is crossed by a
    clean reading, no fill price is an injected value, every exit decision was taken at a
    clean price, and no entry is decided at a cycle whose price input was injected;
(b) equity never moves in one cycle by more than the declared bounds allow (see
    :func:`_cycle_bound`);
(c) every injection is reported through the runner's market sink, and nothing else is.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from adapters.paper.broker import PaperBroker
from adapters.snapshots.columnar import read_columnar
from engine.language.compiler import compile_ruleset
from engine.market.sanity import allowed_log_move
from engine.market.snapshot import SCALARS, Book, Snapshot, SymbolSnapshot
from engine.replay.dryrun import dry_run
from engine.replay.memstate import MemoryState
from engine.trading.entry import PRICE_INPUTS
from engine.trading.runner import Runner, Sinks

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample" / "sample.snapshots.parquet"
WARM, FIRST, LAST = 2100, 2400, 3300  # sample rows: features warm from WARM, the run is FIRST..LAST
SYMBOLS = ("BTCUSDT", "ETHUSDT")
MAX_PRICE_RUN = 20  # cycles: well below new_level_after (30 min), so an injected level never becomes real

#: kind → (the refused field, the magnitudes drawn from); a magnitude is absolute or "×k" of the clean price
KINDS: dict[str, tuple[str, tuple]] = {
    "price": ("price", (1e-9, 1e12, "×3", "×0.3333")),
    "mark": ("mark", (1.0, 1e12, "×1.5", "×0.5")),
    "bid": ("bid", (1e-9, "×0.5", "×1.3")),
    "ask": ("ask", (1e12, "×2", "×0.7")),
    "funding_rate": ("funding_rate", (1e9, -1e9, 0.5, -0.5)),
    "open_interest_usd": ("open_interest_usd", (5e12, 1e15)),
    "liq_long_usd": ("liq_long_usd", (5e11, 1e15)),
    "liq_short_usd": ("liq_short_usd", (5e11, 1e15)),
    "taker_buy_usd": ("taker_buy_usd", (2e11, 1e14)),
    "taker_sell_usd": ("taker_sell_usd", (2e11, 1e14)),
    "exchange_netflow_usd": ("exchange_netflow_usd", (-1e12, 3e11)),
    "implied_skew": ("implied_skew", (500.0, -1e6)),
    "candle_price": ("candles", (1e-9, 1e12, "×3", "×0.3333")),
    "candle_volume": ("candles", (1e13,)),  # USD of volume × close in one minute
    "book_size": ("book", (1e11,)),  # USD at one level
    "book_price": ("book", ("×3", "×0.3")),
}


@dataclass(frozen=True)
class Injection:
    row: int  # offset into the run
    symbol: str
    kind: str
    magnitude: int  # index into KINDS[kind][1]
    length: int  # cycles


PRICE_KINDS = {"price", "mark", "bid", "ask", "candle_price", "book_price"}


@functools.cache
def _plan():
    return compile_ruleset(str(ROOT / "rules"), ["paper"]).plans["paper"]


@functools.cache
def _window() -> tuple[Snapshot, ...]:
    return tuple(read_columnar(SAMPLE))[WARM:LAST]


def _magnitude(spec, clean: float) -> float:
    return clean * float(spec[1:]) if isinstance(spec, str) else float(spec)


def _inject(sym: SymbolSnapshot, ts: float, kind: str, spec) -> tuple[SymbolSnapshot, float]:
    """The symbol with one absurd value put in; and that value."""
    clean = sym.values["price"]
    value = _magnitude(spec, clean)
    if kind == "candle_price":
        candles = tuple(replace(c, open=value, high=value, low=value, close=value) for c in sym.candles)
        return replace(sym, candles=candles), value
    if kind == "candle_volume":
        return replace(sym, candles=tuple(replace(c, volume=spec / c.close) for c in sym.candles)), spec
    if kind.startswith("book"):
        size = spec / clean if kind == "book_size" else 1.0
        level = clean if kind == "book_size" else value
        book = Book(((level * 0.9999, size),), ((level * 1.0001, size),))
        return replace(sym, book=book, times=MappingProxyType({**sym.times, "order_book": ts})), value
    values = {**sym.values, kind: value}
    times = {**sym.times, SCALARS[kind][0]: sym.times.get(SCALARS[kind][0], ts)}
    return replace(sym, values=MappingProxyType(values), times=MappingProxyType(times)), value


def _apply(window, injections: list[Injection]):
    """The window with the injections made; the (ts, symbol, field) injected → (kind, value)."""
    out = list(window)
    injected: dict[tuple[float, str, str], tuple[str, float]] = {}
    for inj in injections:
        kind_field, specs = KINDS[inj.kind]
        for row in range(FIRST - WARM + inj.row, min(len(out), FIRST - WARM + inj.row + inj.length)):
            snap = out[row]
            sym, value = _inject(snap.symbols[inj.symbol], snap.ts, inj.kind, specs[inj.magnitude % len(specs)])
            out[row] = replace(snap, symbols=MappingProxyType({**snap.symbols, inj.symbol: sym}))
            injected[(snap.ts, inj.symbol, kind_field)] = (inj.kind, value)
    return out, injected


def _longest_price_run(injected, times: list[float]) -> int:
    longest = 0
    for symbol in SYMBOLS:
        run = 0
        for ts in times:
            run = run + 1 if (ts, symbol, "price") in injected else 0
            longest = max(longest, run)
    return longest


@dataclass
class _Run:
    result: dict
    runner: Runner
    refusals: list[dict]
    states: list[dict]
    decisions: list
    exits: list[dict]
    cycles: list[tuple[float, float, dict]]  # ts, equity, symbol → (|quantity|, valuation)


def _replay(plan, snapshots: list[Snapshot]) -> _Run:
    refusals: list[dict] = []
    states: list[dict] = []
    decisions: list = []
    exits: list[dict] = []
    cycles: list[tuple[float, float, dict]] = []

    def market(record: dict) -> None:
        (refusals if record["event"] == "refused" else states).append(record)

    sinks = Sinks(universe=decisions.append, exits=exits.append, market=market)
    broker = PaperBroker.for_plan(plan)
    runner = Runner(plan, broker, MemoryState(), full_trail=False, sinks=sinks)

    def on_cycle(snapshot: Snapshot) -> None:
        held = {p.symbol: abs(p.quantity) for p in broker.positions()}
        cycles.append(
            (
                snapshot.ts,
                broker.balance().equity,
                {s: (held.get(s, 0.0), broker._value(s, math.nan)) for s in SYMBOLS},
            )
        )

    result, runner, state = dry_run(
        plan,
        iter(snapshots),
        broker=broker,
        store=runner.store,
        start=snapshots[FIRST - WARM].ts,
        runner=runner,
        on_cycle=on_cycle,
    )
    assert state.steps == state.cycles == LAST - FIRST  # every cycle stepped: every refusal reached the sink
    return _Run(result, runner, refusals, states, decisions, exits, cycles)


def test_the_clean_window_trades_and_refuses_nothing():
    run = _replay(_plan(), list(_window()))
    assert run.refusals == [] and run.states == []
    assert run.result["market_data"]["refused"] == 0
    assert run.result["metrics"]["trades"] >= 10  # the property below covers real trading
    assert run.result["metrics"]["exposure_pct"] > 10


injections = st.lists(
    st.builds(
        Injection,
        row=st.integers(0, LAST - FIRST - 1),
        symbol=st.sampled_from(SYMBOLS),
        kind=st.sampled_from(sorted(KINDS)),
        magnitude=st.integers(0, 3),
        length=st.integers(1, 15),
    ),
    min_size=1,
    max_size=5,
)


@pytest.mark.slow
@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow],
)
@given(injections)
# the probes, during positions held in the window
@example([Injection(270, "BTCUSDT", "price", 0, 15)])  # 1e-9 for 15 minutes
@example([Injection(290, "BTCUSDT", "mark", 0, 10), Injection(325, "ETHUSDT", "mark", 0, 5)])  # a mark of 1.0
@example([Injection(250, "BTCUSDT", "funding_rate", 0, 120), Injection(320, "ETHUSDT", "funding_rate", 1, 80)])
@example([Injection(k, s, kind, 1, 1) for k, s in ((285, "BTCUSDT"), (330, "ETHUSDT")) for kind in ("price",)])
@example([Injection(286, "BTCUSDT", "candle_price", 1, 1), Injection(286, "BTCUSDT", "price", 1, 1)])  # 1e12
def test_absurd_values_are_never_traded_on_and_always_reported(injections):
    plan, window = _plan(), list(_window())
    snapshots, injected = _apply(window, injections)
    times = [s.ts for s in snapshots]
    if _longest_price_run(injected, times) > MAX_PRICE_RUN:
        injected = {}  # a level held this long is accepted as real by design: test the clean window instead
        snapshots = window
    run = _replay(plan, snapshots)
    clean = {s.ts: s for s in window}
    _assert_every_injection_reported(run, injected)
    _assert_no_fill_at_a_refused_value(run, plan, clean, injected)
    _assert_no_exit_or_entry_at_a_refused_value(run, clean, injected)
    _assert_equity_within_the_bounds(run, plan, injected)


# ------------------------------------------------------------------ (c) reported


def _assert_every_injection_reported(run: _Run, injected) -> None:
    reported = {(r["ts"], r["symbol"], r["field"]) for r in run.refusals}
    assert set(injected) - reported == set(), "injected values that were not refused"
    assert reported - set(injected) == set(), "clean readings refused"
    assert len(run.refusals) == len(reported) == run.result["market_data"]["refused"]
    for r in run.refusals:
        assert r["symbol"] in r["reason"] and r["field"] in r["reason"] and "refused" in r["reason"]


# ------------------------------------------------------------------ (a) never traded on


def _clean_readings(clean, injected, ts: float, symbol: str) -> dict[str, list[float]]:
    """What the broker may legitimately see of ``symbol`` at ``ts``: the clean values not replaced."""
    sym = clean[ts].symbols[symbol]
    out: dict[str, list[float]] = {"open": [], "low": [], "high": [], "price": [], "mark": []}
    if (ts, symbol, "candles") not in injected:
        out["open"] += [c.open for c in sym.candles[:1]]
        out["low"] += [c.low for c in sym.candles]
        out["high"] += [c.high for c in sym.candles]
    if (ts, symbol, "price") not in injected:
        out["price"].append(sym.values["price"])
    return out


def _assert_no_fill_at_a_refused_value(run: _Run, plan, clean, injected) -> None:
    broker = run.runner.broker
    slip = plan.paper_broker["slippage_bps"] / 10_000
    bad_prices = {value for kind, value in injected.values() if kind in PRICE_KINDS}
    fills = broker.fills_since(0.0)
    assert fills == run.runner.store.fills  # the store recorded every fill the broker made, and only those
    for fill in fills:
        seen = _clean_readings(clean, injected, fill.ts, fill.symbol)
        for value in bad_prices:
            for factor in (1.0, 1 + slip, 1 - slip):
                assert not math.isclose(fill.price, value * factor, rel_tol=1e-9), (fill, value)
        if fill.liquidity == "liquidation":  # crossed by a clean reading
            if fill.side == "sell":
                assert min(seen["low"] + seen["price"]) <= fill.price, fill
            else:
                assert max(seen["high"] + seen["price"]) >= fill.price, fill
        elif fill.liquidity == "taker":  # a market order at the first clean open (else the price), slipped
            reference = seen["open"] or seen["price"]
            factor = 1 + slip if fill.side == "buy" else 1 - slip
            assert any(math.isclose(fill.price, r * factor, rel_tol=1e-12) for r in reference), (fill, seen)
        else:  # a resting limit order, within the clean range traded
            assert min(seen["low"] + seen["price"]) <= fill.price <= max(seen["high"] + seen["price"]), fill


def _assert_no_exit_or_entry_at_a_refused_value(run: _Run, clean, injected) -> None:
    # an exit is decided at the symbol's latest accepted price: a clean price or candle close of the last minutes
    entries = {t["id"]: (t["entry_price"], t["direction"]) for t in run.result["trades"]}
    entries |= {p.id: (p.entry_price, p.direction) for p in run.runner.positions.values()}
    for record in run.exits:
        entry, direction = entries[record["position"]]
        price = entry * (1 + (1 if direction == "LONG" else -1) * record["pnl_pct"] / 100)
        recent = [
            value
            for ts in clean
            if record["ts"] - 1800 <= ts <= record["ts"]
            for name, values in _clean_readings(clean, injected, ts, record["symbol"]).items()
            if name in ("price", "high", "low")  # close lies within them
            for value in values
        ]
        assert min(recent) * (1 - 1e-9) <= price <= max(recent) * (1 + 1e-9), record
    for decision in (d for d in run.decisions if d.direction != "NEUTRAL"):  # a NEUTRAL vote decides nothing
        refused = {f for (ts, s, f) in injected if ts == decision.ts and s == decision.symbol} & PRICE_INPUTS
        if refused:
            assert decision.outcome == "NO_TRADE" and decision.first_blocker == "MARKET_DATA_REFUSED", decision
            detail = next(c.detail for c in decision.checks if c.id == "market_data_sane")
            assert all(f in detail for f in refused), detail


# ------------------------------------------------------------------ (b) equity


def _cycle_bound(plan, symbol: str, ts: float, previous_ts: float, reference: float, before, after) -> float:
    """The most equity can move in one cycle through ``symbol``, by the declared bounds.

    Every price the broker may use in the cycle — the valuation before and after, a candle's
    open (a fill) and extremes (a liquidation crossing), the mark at a funding time — was
    accepted within ``allowed_log_move(t − r)`` of the symbol's reference ``r``: its last
    accepted price, which is the last clean price before the cycle (injected prices are
    refused, clean ones accepted: (c)). Any two of them are therefore within a factor
    e^m, m = 2·allowed, of each other, and of V, the lower of the two valuations. The
    quantity held before (q_b) or after (q_a) the cycle moves equity by at most
    (q_b + q_a)·V·(e^m − 1) through price, plus fees and slippage on at most that quantity
    at a price ≤ V·e^m, plus funding at |rate| ≤ cap per funding time in the cycle."""
    qb, vb = before
    qa, va = after
    if qb + qa == 0:
        return 0.0
    bounds = plan.requirements.market_data
    m = 2 * allowed_log_move(bounds.price_move_pct, ts - reference)
    value = min(v for v in (vb, va) if not math.isnan(v))
    venue = PaperBroker.for_plan(plan).venue
    fundings = math.floor(ts / venue.funding_interval_s) - math.floor(previous_ts / venue.funding_interval_s)
    costs = plan.paper_broker["slippage_bps"] / 10_000 + venue.taker_fee_pct / 100
    return (qb + qa) * value * (math.expm1(m) + math.exp(m) * (costs + bounds.funding_rate_cap * fundings))


def _assert_equity_within_the_bounds(run: _Run, plan, injected) -> None:
    starting = plan.paper_broker["starting_balance_usd"]
    first = run.cycles[0][0]
    previous = (first - 60, starting, dict.fromkeys(SYMBOLS, (0.0, math.nan)))
    clean_price_at = dict.fromkeys(SYMBOLS, first - 60)  # the warm-up before the run is clean
    for ts, equity, held in run.cycles:
        bound = sum(_cycle_bound(plan, s, ts, previous[0], clean_price_at[s], previous[2][s], held[s]) for s in SYMBOLS)
        assert abs(equity - previous[1]) <= bound * (1 + 1e-9) + 1e-9, (ts, equity, previous[1], bound)
        previous = (ts, equity, held)
        for s in SYMBOLS:
            if (ts, s, "price") not in injected:
                clean_price_at[s] = ts
