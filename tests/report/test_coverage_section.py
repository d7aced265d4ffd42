"""The report's "Signal coverage" section: one row per component with its shares, the
components that never voted marked and warned about, both rule sets under --vs, and a note
(never an error) when the coverage is missing or malformed."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.paper.broker import PaperBroker
from adapters.snapshots.columnar import read_recording
from engine.language.compiler import compile_ruleset
from engine.replay.dryrun import dry_run_recording
from engine.replay.memstate import MemoryState
from engine.report.html import render_report
from tests.report.builders import make_result
from tests.report.test_htmlreport import parse

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample" / "sample.snapshots.parquet"


@pytest.fixture(scope="module")
def result() -> dict:
    plan = compile_ruleset(str(ROOT / "rules")).plans["paper"]
    run, _, _ = dry_run_recording(
        plan,
        read_recording(SAMPLE),
        broker=PaperBroker.for_plan(plan),
        store=MemoryState(),
        start=1748131200.0,  # 2025-05-25 00:00 UTC: liquidations arrive that afternoon
        end=1748304000.0,
    )
    return run


def _rows(page, table_id: str) -> dict[str, list[str]]:
    table = page.find("table", id=table_id)
    return {
        row.attrs["data-component"]: [cell.all_text() for cell in row.children]
        for row in table.find_all("tr")
        if "data-component" in row.attrs
    }


def test_every_component_has_its_shares_and_the_silent_ones_are_marked(result):
    page = parse(render_report(result))
    section = page.find("section", id="coverage")
    rows = _rows(page, "coverage-a")
    assert list(rows) == list(result["coverage"]["components"])
    assert rows["whale_flow"][1:5] == ["exchange_netflow", "0.0 %", "0.0 %", "0 / 0"]
    assert rows["funding_rate"][2] == "100.0 %"
    liquidations = result["coverage"]["components"]["liquidation_cascade"]
    assert rows["liquidation_cascade"][4] == f"{liquidations['voted_long']:,} / 0"
    assert len(rows["hurst"]) == 5 + 2  # a column per symbol: BTCUSDT, ETHUSDT
    never = {r.attrs["data-component"] for r in section.find_all("tr") if r.attrs.get("class") == "never-voted"}
    assert {"whale_flow", "order_flow_momentum", "funding_rate", "fear_greed"} <= never
    assert "hurst" not in never and "liquidation_cascade" not in never
    warnings = [p.all_text() for p in section.find_all("p") if p.attrs.get("class") == "banner coverage-warning"]
    assert any(w.startswith("whale_flow never voted: its input exchange_netflow is missing") for w in warnings)
    assert len(warnings) == len(never)


def test_vs_shows_both_rule_sets(result):
    other = dict(result, version="rs-other")
    page = parse(render_report(dict(result, vs=other)))
    assert _rows(page, "coverage-a") == _rows(page, "coverage-b")
    assert page.find("h3", id="coverage-b-heading").all_text() == "B: rs-other"


@pytest.mark.parametrize("coverage", [None, "junk", {"cycles": 0, "symbols": [], "components": {}}, {"cycles": 5}])
def test_missing_or_malformed_coverage_gives_a_note(coverage):
    page = parse(render_report(make_result() | {"coverage": coverage}))
    assert page.find("p", id="coverage-a-none")
