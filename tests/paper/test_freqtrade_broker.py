"""The freqtrade fill model (adapters/paper/freqtrade.py), candle by candle: where entries and
its own stop and ROI exits fill and how they are dated, funding at the hour, the same-candle
reversal, the force exit when the data ends, and what it refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.paper.broker import PaperBroker
from adapters.paper.freqtrade import FreqtradeBroker
from engine.language.compiler import compile_ruleset
from engine.market.snapshot import parse_snapshot
from engine.ports import BUY, MARKET, SELL, Fill, FundingPayment, OrderRequest

ROOT = Path(__file__).resolve().parents[2]
T0 = 1_735_689_600  # 2025-01-01 00:00 UTC, a full hour


@pytest.fixture(scope="module")
def plan():
    return compile_ruleset(str(ROOT / "examples" / "freqtrade-ema-cross" / "rules")).plans["paper"]


def bar(k: int, o: float, h: float, low: float, c: float, **extra):
    """The snapshot of the k-th 5-minute BTC candle after T0, at its close."""
    ts = T0 + 300 * k
    values = {"price": c, "candles": [[ts, o, h, low, c, 1.0]], "candles_1m_ts": ts + 300, **extra}
    return parse_snapshot({"ts": ts + 300, "symbols": {"BTCUSDT": values}})[0]


def entry(side: str, cid: str = "e1") -> OrderRequest:
    return OrderRequest(cid, "BTCUSDT", side, 0.01, MARKET, None, False, 1.0)


def test_the_profile_picks_the_model(plan):
    broker = PaperBroker.for_plan(plan)
    assert isinstance(broker, FreqtradeBroker)
    assert broker.executes_tiers == {"stop_loss", "roi"}
    assert broker.exits.roi == ((0.0, 0.02), (30.0, 0.005), (60.0, 0.01), (90.0, 0.015))


def test_an_entry_fills_at_the_next_open_dated_then_and_its_stop_fills_in_the_candle(plan):
    broker = PaperBroker.for_plan(plan)
    broker.observe(bar(0, 100_000, 100_100, 99_900, 100_000))
    broker.place_order(entry(BUY))
    (filled,) = broker.observe(bar(1, 100_050.0, 100_200, 99_990, 100_100))
    assert (filled.price, filled.ts) == (100_050.0, T0 + 300)  # the candle's open, at its open time
    assert broker.protective_exit("e1-ft-stop") is None
    events = broker.observe(bar(2, 100_000, 100_000, 97_000, 97_500))  # through the stop
    (stop,) = [e for e in events if isinstance(e, Fill)]
    assert stop.price == 97_548.8  # 100,050 × 0.975 = 97,548.75, up to the 0.1 tick
    assert stop.ts == T0 + 600 and stop.side == SELL
    assert broker.protective_exit(stop.client_order_id) == ("e1", "stop_loss", "STOP_LOSS")
    assert not broker.positions()


def test_roi_fills_at_the_rate_of_the_tier_in_force(plan):
    broker = PaperBroker.for_plan(plan)
    broker.observe(bar(0, 100_000, 100_000, 100_000, 100_000))
    broker.place_order(entry(BUY))
    broker.observe(bar(1, 100_000.0, 100_000, 100_000, 100_000))
    events = broker.observe(bar(2, 100_000, 103_000, 100_000, 102_500))  # +2 % net needs ~102,100
    (roi,) = [e for e in events if isinstance(e, Fill)]
    assert roi.price == 102_102.1  # 100,000 × 1.0005 × 1.02 ÷ 0.9995, to the nearest 0.1
    assert broker.protective_exit(roi.client_order_id) == ("e1", "roi", "ROI")


def test_funding_is_charged_at_the_full_hour_on_the_mark_then(plan):
    broker = PaperBroker.for_plan(plan)
    broker.observe(bar(10, 100_000, 100_000, 100_000, 100_000))
    broker.place_order(entry(BUY))
    broker.observe(bar(11, 100_000.0, 100_010, 99_990, 100_000))
    events = broker.observe(
        bar(12, 100_000, 100_010, 99_990, 100_000, mark=100_200.0, funding_rate=0.0001, funding_rate_ts=T0 + 3600)
    )
    (payment,) = [e for e in events if isinstance(e, FundingPayment)]
    assert payment.ts == T0 + 3600
    assert payment.amount == pytest.approx(-0.0001 * 100_200 * 0.01)  # a long pays a positive rate


def test_an_opposite_entry_waits_for_the_trade_to_close_in_the_next_candle(plan):
    broker = PaperBroker.for_plan(plan)
    broker.observe(bar(0, 100_000, 100_000, 100_000, 100_000))
    broker.place_order(entry(BUY, "long"))
    broker.observe(bar(1, 100_000.0, 100_010, 99_990, 100_000))
    waiting = broker.place_order(entry(SELL, "short"))
    assert waiting.status == "open"
    broker.observe(bar(2, 100_000, 100_010, 99_990, 100_000))  # the long stays open: no reversal
    assert broker.order("short").status == "cancelled"
    broker.place_order(entry(SELL, "short2"))
    events = broker.observe(bar(3, 99_000.0, 99_000, 97_000, 97_500))  # the long's stop: reverse at the open
    fills = [e for e in events if isinstance(e, Fill)]
    # the stop fills at its price, 97,500; the short enters at the candle's open, as freqtrade does
    assert [(f.client_order_id, f.price) for f in fills] == [("long-ft-stop", 97_500.0), ("short2", 99_000.0)]
    assert broker.positions()[0].quantity < 0


def test_a_second_entry_the_same_way_is_cancelled(plan):
    broker = PaperBroker.for_plan(plan)
    broker.observe(bar(0, 100_000, 100_000, 100_000, 100_000))
    broker.place_order(entry(BUY, "a"))
    broker.observe(bar(1, 100_000.0, 100_010, 99_990, 100_000))
    assert broker.place_order(entry(BUY, "b")).status == "cancelled"


def test_what_is_open_when_the_data_ends_closes_at_the_last_open(plan):
    broker = PaperBroker.for_plan(plan)
    broker.observe(bar(0, 100_000, 100_000, 100_000, 100_000))
    broker.place_order(entry(BUY))
    broker.observe(bar(1, 100_000.0, 100_010, 99_990, 100_000))
    broker.observe(bar(2, 100_020.0, 100_030, 99_990, 100_000))
    (closed,) = broker.close_at_end()
    assert (closed.price, closed.ts) == (100_020.0, T0 + 600)
    assert broker.protective_exit(closed.client_order_id) == ("e1", "", "FORCE_EXIT")
    assert not broker.positions()


def test_run_refuses_the_model(tmp_path):
    from tests.test_cli import run

    rules = ROOT / "examples" / "freqtrade-ema-cross" / "rules"
    sample = ROOT / "data" / "sample" / "sample.snapshots.parquet"
    state, logs = tmp_path / "s.db", tmp_path / "logs"
    done = run(
        "run",
        "--paper",
        "--feed",
        f"replay:{sample}",
        "--rules",
        str(rules),
        "--state",
        str(state),
        "--logs",
        str(logs),
    )
    assert done.returncode == 1, done.stderr
    assert "fill_model: freqtrade" in done.stderr and "dry-run" in done.stderr
    assert not state.exists()


def test_an_exit_the_runner_sends_ends_the_trade_it_closes(plan):
    broker = PaperBroker.for_plan(plan)
    broker.observe(bar(0, 100_000, 100_000, 100_000, 100_000))
    broker.place_order(entry(BUY))
    broker.observe(bar(1, 100_000.0, 100_010, 99_990, 100_000))
    broker.place_order(OrderRequest("x1", "BTCUSDT", SELL, 0.01, MARKET, None, True, 1.0))  # an expression exit, say
    events = broker.observe(bar(2, 100_100.0, 100_110, 95_000, 96_000))  # would have reached the stop
    assert [(e.client_order_id, e.price) for e in events if isinstance(e, Fill)] == [("x1", 100_100.0)]
    assert broker.close_at_end() == [] and not broker.positions()


def test_nothing_enters_on_the_last_candle(plan):
    broker = PaperBroker.for_plan(plan)
    broker.observe(bar(0, 100_000, 100_000, 100_000, 100_000))
    broker.place_order(entry(BUY))
    broker.final_snapshot()
    assert broker.observe(bar(1, 100_000.0, 100_010, 99_990, 100_000)) == []
    assert broker.order("e1").status == "cancelled" and "last candle" in broker.order("e1").reason
    assert broker.close_at_end() == []
