"""Input coverage: per signal component, the cycles with usable inputs and with a vote —
the same from both replay paths, true to what the sample holds, and shown in the summary,
the JSON and metrics.json with a warning for every component that never votes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from adapters.paper.broker import PaperBroker
from adapters.snapshots.columnar import read_columnar, read_recording
from engine.cli import main
from engine.language.compiler import compile_ruleset
from engine.market.snapshot import parse_snapshot
from engine.replay.dryrun import dry_run, dry_run_recording
from engine.replay.memstate import MemoryState
from engine.replay.recording import recording_from_snapshots
from engine.trading.signals.coverage import coverage_warnings
from engine.trading.signals.engine import SignalEngine
from tests.dryrun.test_fast_path import _thinner
from tests.lifecycle.market import snapshots as synthetic_snapshots

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample" / "sample.snapshots.parquet"
# liquidations arrive from 2025-05-25 15:20 (data/sample/README.md)
WINDOW = {"start": 1748131200.0, "end": 1748304000.0}  # 2025-05-25 00:00 → 05-27 00:00 UTC


@pytest.fixture(scope="module")
def plan():
    return compile_ruleset(str(ROOT / "rules")).plans["paper"]


def _both(plan, snapshots, recording, **window) -> tuple[dict, dict]:
    scalar, _, _ = dry_run(plan, iter(snapshots), broker=PaperBroker.for_plan(plan), store=MemoryState(), **window)
    fast, _, _ = dry_run_recording(plan, recording, broker=PaperBroker.for_plan(plan), store=MemoryState(), **window)
    assert fast["fingerprint"] == scalar["fingerprint"]
    return scalar["coverage"], fast["coverage"]


def test_both_paths_count_the_same_on_a_sample_window_and_it_is_what_the_sample_holds(plan):
    scalar, fast = _both(plan, list(read_columnar(SAMPLE)), read_recording(SAMPLE), **WINDOW)
    assert scalar == fast
    assert fast["symbols"] == ["BTCUSDT", "ETHUSDT"]
    assert fast["cycles"] == 2 * (48 * 60 + 1)  # every minute of the window, both symbols
    components = fast["components"]
    for never_fed in ("whale_flow", "order_flow_momentum"):
        assert components[never_fed]["inputs_present"] == 0
        assert components[never_fed]["voted_long"] == components[never_fed]["voted_short"] == 0
    assert components["funding_rate"]["inputs_present_pct"] == 100.0
    liquidations = components["liquidation_cascade"]
    assert 0 < liquidations["inputs_present"] < fast["cycles"]
    assert liquidations["voted_long"] > 0 and liquidations["voted_short"] == 0
    by_symbol = liquidations["by_symbol"]
    assert by_symbol["BTCUSDT"]["cycles"] + by_symbol["ETHUSDT"]["cycles"] == fast["cycles"]
    assert by_symbol["ETHUSDT"]["inputs_present"] > by_symbol["BTCUSDT"]["inputs_present"]  # ETH's feed runs longer


def test_both_paths_count_the_same_on_sparse_inputs(plan):
    market = [parse_snapshot(s)[0] for s in _thinner(synthetic_snapshots(240, 2))]
    scalar, fast = _both(plan, market, recording_from_snapshots(market))
    assert scalar == fast
    funding = fast["components"]["funding_rate"]["by_symbol"]
    assert funding["ETHUSDT"]["inputs_present"] == 0 < funding["BTCUSDT"]["inputs_present"]
    fear = fast["components"]["fear_greed"]
    assert 0 < fear["inputs_present"] < fear["cycles"]  # arrives in the second half only


def test_an_instant_evaluated_twice_is_counted_once(plan):
    engine = SignalEngine(plan)
    snapshot = next(iter(read_columnar(SAMPLE)))
    engine.update(snapshot)
    for _ in range(3):
        engine.evaluate("BTCUSDT", snapshot.ts)
    assert engine.coverage.counts["BTCUSDT"][0] == 1
    assert engine.coverage.counts["ETHUSDT"][0] == 0


def _component(cycles: int, present: int, long: int = 0, short: int = 0, **inputs: int) -> dict:
    return {
        "cycles": cycles,
        "inputs_present": present,
        "inputs_present_pct": round(100 * present / cycles, 2),
        "voted_long": long,
        "voted_short": short,
        "inputs": inputs,
    }


def test_the_warning_names_why_a_component_never_voted():
    coverage = {
        "cycles": 100,
        "components": {
            "whale_flow": _component(100, 0, exchange_netflow=0),
            "oi_velocity": _component(100, 0, open_interest=0, price=0),
            "funding_rate": _component(100, 100, funding_rate=100),
            "liquidation_cascade": _component(100, 12, liquidations=12),
            "hurst": _component(100, 100, 3, 0, candles_1m=100),
        },
    }
    assert coverage_warnings(coverage) == [
        "whale_flow never voted: its input exchange_netflow is missing or stale in every cycle"
        " — changing its weight changes nothing",
        "oi_velocity never voted: its inputs open_interest, price are missing or stale in every cycle"
        " — changing its weight changes nothing",
        "funding_rate never voted: its inputs were present in every cycle but it stayed below its thresholds"
        " — changing its weight changes nothing, its thresholds might",
        "liquidation_cascade never voted: its inputs were present in 12.0 % of cycles but it stayed below"
        " its thresholds — changing its weight changes nothing, its thresholds might",
    ]
    assert coverage_warnings({"cycles": 0, "components": {}}) == []


def test_the_summary_json_and_metrics_json_carry_it(tmp_path):
    window = ["--from", "2025-05-25T00:00:00Z", "--to", "2025-05-27T00:00:00Z", "--rules", str(ROOT / "rules")]
    text = CliRunner().invoke(main, ["dry-run", str(SAMPLE), *window])
    assert text.exit_code == 0, text.output
    assert "signal coverage over 5,762 symbol-cycles (BTCUSDT, ETHUSDT):" in text.output
    row = next(line for line in text.output.splitlines() if line.strip().startswith("whale_flow"))
    assert row.split()[1:5] == ["0.0", "%", "0.0", "%"]
    assert (
        "warning: whale_flow never voted: its input exchange_netflow is missing or stale in every cycle"
        " — changing its weight changes nothing"
    ) in text.output
    assert "warning: order_flow_momentum never voted: its input order_book" in text.output
    assert "warning: liquidation_cascade" not in text.output
    out = tmp_path / "out"
    done = CliRunner().invoke(main, ["dry-run", str(SAMPLE), "--format", "json", "--out", str(out), *window])
    assert done.exit_code == 0, done.output
    summary = json.loads(done.stdout)  # the "files written to" line goes to stderr
    assert summary["coverage"]["components"]["whale_flow"]["inputs"] == {"exchange_netflow": 0}
    assert json.loads((out / "metrics.json").read_text())["coverage"] == summary["coverage"]


def test_vs_gives_a_shared_warning_once_and_names_the_rule_set_of_the_others():
    from engine.cli.render import _coverage_warnings

    window = ["--from", "2025-05-26T00:00:00Z", "--to", "2025-05-26T06:00:00Z"]
    rules = str(ROOT / "rules")
    done = CliRunner().invoke(main, ["dry-run", str(SAMPLE), "--rules", rules, "--vs", rules, *window])
    assert done.exit_code == 0, done.output
    version = compile_ruleset(rules).version
    assert f"signal coverage of {version} over" in done.output
    assert done.output.count("whale_flow never voted") == 1
    assert "warning: whale_flow never voted" in done.output

    def run(version: str, voted: int) -> dict:
        component = _component(10, 10, voted, 0, funding_rate=10)
        return {"version": version, "cycles": 10, "coverage": {"cycles": 10, "components": {"funding_rate": component}}}

    warnings = _coverage_warnings(run("rs-a", 0) | {"vs": run("rs-b", 2)})
    assert [w.split(" never")[0] for w in warnings] == ["warning: rs-a: funding_rate"]
