"""The dry-run report in a real headless browser (Chromium, driven over the DevTools pipe by
tests/report/cdp.py): it renders, the price charts are drawn and respond to zoom and pan, the
trade table sorts and fits 1100 px, nothing is fetched and the console stays silent. .ci/run
installs Chromium when the machine lacks it; elsewhere the tests are skipped with the reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adapters.paper.broker import PaperBroker
from engine.language.compiler import compile_ruleset
from engine.market.snapshot import parse_snapshot
from engine.replay.dryrun import dry_run
from engine.replay.memstate import MemoryState
from engine.report.html import render_report
from tests.lifecycle.market import snapshots
from tests.report.builders import make_result
from tests.report.cdp import CHROMIUM, Browser

ROOT = Path(__file__).resolve().parents[2]
SHIFT = 8  # the DevTools protocol's modifier bit for Shift

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (.ci/run installs it)")


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    """The report of a real dry-run of the default rules over a synthetic market that trades."""
    plan = compile_ruleset(str(ROOT / "rules")).plans["paper"]
    market = [parse_snapshot(s)[0] for s in snapshots(240)]
    result, _, _ = dry_run(plan, iter(market), broker=PaperBroker.for_plan(plan), store=MemoryState())
    result.update(rules_dir="rules", snapshot_files=["synthetic"])
    assert result["metrics"]["trades"] > 0
    path = tmp_path_factory.mktemp("report") / "report.html"
    path.write_text(render_report(result), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def compared(tmp_path_factory) -> Path:
    """A --vs report over 1.4 days (long enough for the one-day zoom), from the builders."""
    path = tmp_path_factory.mktemp("compared") / "report.html"
    path.write_text(render_report(make_result(vs=True)), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    with Browser(tmp_path_factory.mktemp("chromium")) as chromium:
        yield chromium


def _open(browser: Browser, path: Path) -> None:
    browser.console.clear()
    browser.requests.clear()
    browser.send("Emulation.setDeviceMetricsOverride", width=1100, height=900, deviceScaleFactor=1, mobile=False)
    browser.open(path.as_uri())


def _charts(browser: Browser) -> list[dict]:
    return browser.evaluate(
        """Array.from(document.querySelectorAll("figure[data-chart^='price-']")).map(f => {
             const c = f.querySelector(".iplot canvas");
             return {id: f.id, drawn: f.dataset.drawn, marks: Number(f.dataset.marks),
                     min: Number(f.dataset.xMin), max: Number(f.dataset.xMax),
                     canvas: c ? [c.width, c.height] : null};
           })"""
    )


def _chart(browser: Browser, element: str) -> dict:
    return next(c for c in _charts(browser) if c["id"] == element)


def _plot_box(browser: Browser, element: str) -> dict:
    """The chart's plotting area in viewport pixels, scrolled into view."""
    return browser.evaluate(
        f"""(() => {{
             const f = document.getElementById({json.dumps(element)});
             f.scrollIntoView({{block: "center"}});
             const r = f.querySelector(".u-over").getBoundingClientRect();
             return {{x: r.left, y: r.top, w: r.width, h: r.height}};
           }})()"""
    )


def _click(browser: Browser, element: str, selector: str) -> None:
    browser.evaluate(f"document.getElementById({json.dumps(element)}).querySelector({json.dumps(selector)}).click()")


def test_the_report_renders_with_every_chart_and_a_silent_console(browser, report):
    _open(browser, report)
    kinds = set(
        browser.evaluate("Array.from(document.querySelectorAll('figure[data-chart]')).map(f => f.dataset.chart)")
    )
    assert {"equity", "drawdown", "exit-reasons", "attribution"} <= kinds
    assert browser.evaluate("document.querySelectorAll('figure > svg.chart').length") >= 4  # the static summaries
    charts = _charts(browser)
    assert charts and {c["id"] for c in charts} == {f"chart-{k}" for k in kinds if k.startswith("price-")}
    traded = [c for c in charts if c["marks"] > 0]
    assert traded  # entries and exits are drawn on the prices
    for chart in charts:
        assert chart["drawn"] == "uplot", chart
        assert chart["canvas"][0] > 600 and chart["canvas"][1] > 200, chart
        assert chart["max"] > chart["min"], chart
    assert browser.console == []  # no errors, no warnings, no failed loads
    assert browser.requests == [report.as_uri()]  # nothing else was fetched


def test_the_price_charts_zoom_and_pan(browser, compared):
    _open(browser, compared)
    element = "chart-price-BTCUSDT"
    full = _chart(browser, element)
    span = full["max"] - full["min"]
    assert full["marks"] > 10

    box = _plot_box(browser, element)
    middle_y = box["y"] + box["h"] / 2
    browser.drag(box["x"] + box["w"] * 0.25, box["x"] + box["w"] * 0.5, middle_y)  # drag: zoom to the selection
    zoomed = _chart(browser, element)
    assert zoomed["max"] - zoomed["min"] == pytest.approx(span * 0.25, rel=0.05)
    assert zoomed["min"] == pytest.approx(full["min"] + span * 0.25, abs=span * 0.02)
    assert zoomed["marks"] < full["marks"]  # only the trades in view are drawn

    browser.drag(box["x"] + box["w"] * 0.6, box["x"] + box["w"] * 0.8, middle_y, modifiers=SHIFT)  # shift-drag: pan
    panned = _chart(browser, element)
    assert panned["max"] - panned["min"] == pytest.approx(zoomed["max"] - zoomed["min"], rel=1e-6)
    assert panned["min"] < zoomed["min"]  # dragged right: earlier times come into view

    browser.mouse("mouseWheel", box["x"] + box["w"] / 2, middle_y, deltaX=0, deltaY=-240)  # wheel: zoom in
    wheeled = _chart(browser, element)
    assert wheeled["max"] - wheeled["min"] < panned["max"] - panned["min"]

    _click(browser, element, "button[data-zoom='all']")
    assert _chart(browser, element)["min"] == full["min"] and _chart(browser, element)["max"] == full["max"]
    _click(browser, element, "button[data-zoom='day']")
    day = _chart(browser, element)
    assert day["max"] - day["min"] == pytest.approx(86_400)
    _click(browser, element, "button[data-pan='1']")
    later = _chart(browser, element)
    assert later["min"] > day["min"] and later["max"] <= full["max"]
    assert browser.console == []


def _widths(browser: Browser) -> dict:
    return browser.evaluate(
        """({page: document.documentElement.scrollWidth,
             tables: Array.from(document.querySelectorAll("table.trades")).map(t => [t.parentElement.scrollWidth, t.parentElement.clientWidth])})"""
    )


@pytest.fixture(scope="module")
def widest(tmp_path_factory) -> Path:
    """A report whose trade rows hold the widest values a run gives: the longest exit reason,
    a large loss, a two-week hold, a decision the day before its fill, 22-character ids."""
    result = make_result(trades=20, symbols=("BTCUSDT", "DOGEUSDT"), vs=True)
    for i, trade in enumerate(result["trades"] + result["vs"]["trades"]):
        trade.update(
            exit_reason="MTF_ALIGNMENT_DEGRADED",
            net_pnl=-12_345.67,
            net_pnl_pct=-123.45,
            duration_s=13 * 86_400 + 23 * 3_600,
            conviction="MEDIUM",
            id=f"rb{i:020d}",
            entry_ts=trade["entry_ts"] + 7,  # a time with seconds
        )
    result["decisions"] = [
        {"ts": t["entry_ts"] - 86_400, "symbol": t["symbol"], "outcome": "TRADE", "direction": t["direction"]}
        for t in result["trades"]
    ]
    path = tmp_path_factory.mktemp("widest") / "report.html"
    path.write_text(render_report(result), encoding="utf-8")
    return path


def test_the_widest_trade_rows_fit_1100_px(browser, widest, report):
    for page in (widest, report):
        _open(browser, page)
        widths = _widths(browser)
        assert widths["page"] <= 1100, page
        assert widths["tables"] and all(scroll <= client for scroll, client in widths["tables"]), (page, widths)
    _open(browser, widest)
    browser.evaluate("document.querySelector(\"input.all-columns[data-table='trades-a']\").click()")
    widths = _widths(browser)
    assert widths["page"] <= 1100  # all columns: the table scrolls inside its box, the page does not
    assert widths["tables"][0][0] > widths["tables"][0][1]


def test_the_trade_table_sorts_and_fits_1100_px(browser, compared):
    _open(browser, compared)
    widths = _widths(browser)
    assert widths["page"] <= 1100
    assert widths["tables"] and all(scroll <= client for scroll, client in widths["tables"]), widths

    def column(label: str) -> list:
        return browser.evaluate(
            f"""(() => {{
                 const t = document.getElementById("trades-a");
                 const i = Array.from(t.tHead.rows[0].cells).findIndex(th => th.textContent === {json.dumps(label)});
                 return Array.from(t.tBodies[0].rows).map(r => Number(r.cells[i].dataset.v));
               }})()"""
        )

    def click_heading(label: str) -> None:
        browser.evaluate(
            f"""Array.from(document.getElementById("trades-a").tHead.rows[0].cells)
                 .find(th => th.textContent === {json.dumps(label)}).click()"""
        )

    click_heading("net USD")
    ascending = column("net USD")
    assert ascending == sorted(ascending) and len(ascending) == 42
    click_heading("net USD")
    assert column("net USD") == sorted(ascending, reverse=True)
    click_heading("#")
    assert column("#") == list(range(1, 43))

    hidden = "getComputedStyle(document.querySelector('#trades-a td.extra')).display"
    assert browser.evaluate(hidden) == "none"
    browser.evaluate("document.querySelector(\"input.all-columns[data-table='trades-a']\").click()")
    assert browser.evaluate(hidden) == "table-cell"
    assert browser.console == []


def test_the_report_paints_a_screenshot(browser, compared, tmp_path):
    _open(browser, compared)
    shot = tmp_path / "report.png"
    browser.screenshot(shot, 1280, 2400)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 20_000  # a page with charts, not a blank one
