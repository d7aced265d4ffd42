"""The dry-run HTML report: well-formed, complete, self-contained, escaped, fast, and calm on
thin inputs. Pages are parsed with the standard library's html.parser."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import numpy as np
import pytest

from engine.report import html as htmlreport
from engine.report.html import MAX_POINTS, MAX_ROWS, decimate, render_report
from tests.report.builders import START, empty_result, make_result

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
CHARTS = {"equity", "drawdown", "exit-reasons", "attribution"}
SECTIONS = {"report-header", "summary", "charts", "trades"}
BROKEN = "could not be drawn"


class Element:
    def __init__(self, tag: str, attrs: dict, parent: Element | None):
        self.tag, self.attrs, self.parent, self.children, self.text = tag, attrs, parent, [], []

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()

    def find_all(self, tag: str | None = None, **attrs) -> list[Element]:
        return [
            e
            for e in self.walk()
            if (tag is None or e.tag == tag) and all(e.attrs.get(k.replace("_", "-")) == v for k, v in attrs.items())
        ]

    def find(self, tag: str | None = None, **attrs) -> Element:
        found = self.find_all(tag, **attrs)
        assert found, f"no <{tag} {attrs}>"
        return found[0]

    def all_text(self) -> str:
        return "".join("".join(e.text) for e in self.walk())


class Page(HTMLParser):
    """A strict tree builder: every non-void element must be closed, in order."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {}, None)
        self.current = self.root
        self.errors: list[str] = []
        self.doctype = None
        self.feed(text)
        self.close()
        if self.current is not self.root:
            self.errors.append(f"unclosed <{self.current.tag}>")

    def handle_decl(self, decl):
        self.doctype = decl

    def handle_starttag(self, tag, attrs):
        element = Element(tag, dict(attrs), self.current)
        self.current.children.append(element)
        if tag not in VOID:
            self.current = element

    def handle_startendtag(self, tag, attrs):
        self.current.children.append(Element(tag, dict(attrs), self.current))

    def handle_endtag(self, tag):
        if tag in VOID:
            self.errors.append(f"end tag for void <{tag}> at {self.getpos()}")
        elif self.current.tag != tag:
            self.errors.append(f"</{tag}> closes <{self.current.tag}> at {self.getpos()}")
        else:
            self.current = self.current.parent

    def handle_data(self, data):
        self.current.text.append(data)

    # conveniences
    def find(self, tag=None, **attrs):
        return self.root.find(tag, **attrs)

    def find_all(self, tag=None, **attrs):
        return self.root.find_all(tag, **attrs)

    def figures(self) -> dict[str, Element]:
        return {f.attrs["data-chart"]: f for f in self.find_all("figure") if "data-chart" in f.attrs}


def parse(html: str) -> Page:
    page = Page(html)
    assert not page.errors, page.errors[:5]
    assert page.doctype and page.doctype.lower() == "doctype html"
    return page


def hostile_result() -> dict:
    result = make_result(trades=12, cycles=400, symbols=("BTCUSDT", "<script>alert(1)</script>"), vs=True)
    result["version"] = 'rs-"><img src=x onerror=alert(1)>'
    result["profile"] = "<b>paper</b>"
    result["snapshot_files"] = ["data/a&b <c>.parquet"]
    result["metrics"]["exit_reasons"]["</svg><script>alert(2)</script>"] = 3
    result["metrics"]["attribution"]["$\\alpha$ & <i>x</i>"] = -4.5
    result["vs"]["version"] = "rs-" + "very-long-version-" * 6
    result["differing_decisions"][0]["a"] = "NO_TRADE <script>alert(3)</script>"
    for trade in result["trades"][:3]:
        trade["exit_reason"] = "<iframe src=//evil>"
        trade["id"] = "'\"><svg onload=alert(4)>"
    return result


RESULTS = {
    "basic": lambda: make_result(),
    "vs": lambda: make_result(vs=True),
    "empty": empty_result,
    "single-cycle": lambda: make_result(cycles=1, trades=0),
    "no-trades": lambda: make_result(trades=0),
    "hostile": hostile_result,
}


@pytest.fixture(scope="module")
def pages() -> dict[str, str]:
    return {name: render_report(build()) for name, build in RESULTS.items()}


# ------------------------------------------------------------------ structure


@pytest.mark.parametrize("name", RESULTS)
def test_the_page_is_well_formed_with_unique_ids(pages, name):
    page = parse(pages[name])
    ids = [e.attrs["id"] for e in page.root.walk() if "id" in e.attrs]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    assert not duplicates, duplicates[:10]
    assert page.find("html").attrs.get("lang") == "en"


@pytest.mark.parametrize("name", RESULTS)
def test_no_chart_fails(pages, name):
    assert BROKEN not in pages[name]


def test_head_has_title_charset_and_version_meta(pages):
    page = parse(pages["basic"])
    head = page.find("head")
    assert head.find("meta", charset="utf-8")
    assert head.find("meta", name="rulebot-version").attrs["content"] == "rs-3f9a0c21d4e7"
    assert head.find("meta", name="generator").attrs["content"].startswith("rulebot ")
    assert "rs-3f9a0c21d4e7" in head.find("title").all_text()
    assert not head.find_all("meta", name="rulebot-version-vs")


def test_every_section_and_chart_is_there(pages):
    page = parse(pages["basic"])
    ids = {e.attrs.get("id") for e in page.root.walk()}
    assert ids >= SECTIONS
    assert "differing-decisions" not in ids
    figures = page.figures()
    assert set(figures) == CHARTS | {"price-BTCUSDT", "price-ETHUSDT"}
    for kind, figure in figures.items():
        assert figure.attrs.get("id", "").startswith("chart-"), kind
        assert len(figure.find_all("figcaption")) == 1, kind
        assert figure.find_all("figcaption")[0].all_text().strip(), kind
        holder = figure
        if kind.startswith("price-"):  # zoomable in the browser, the static SVG as the no-script fallback
            assert figure.find("div", id=figure.attrs["id"] + "-plot").attrs["class"] == "iplot"
            data = json.loads(figure.find("script", type="application/json").all_text())
            assert data["symbol"] == kind.removeprefix("price-") and len(data["x"]) == len(data["close"]) > 2
            assert data["runs"][0]["trades"], kind
            holder = next(c for c in figure.children if c.tag == "noscript")
        svgs = [c for c in holder.children if c.tag == "svg"]
        assert len(svgs) == 1, f"{kind}: the chart is not an inline <svg>"
        assert svgs[0].attrs.get("role") == "img" and svgs[0].attrs.get("aria-label")


def test_the_header_states_the_run(pages):
    page = parse(pages["basic"])
    facts = page.find(id="run-facts").all_text()
    for expected in (
        "rs-3f9a0c21d4e7",
        "paper",
        "rules",
        "2025-05-25T00:00:00Z",
        "2025-05-26T09:35:00Z",
        "2,016",
        "data/sample/2025-05-25.parquet",
        "data/sample/2025-06-01.parquet",
        "sha256:",
    ):
        assert expected in facts, expected


def test_the_summary_lists_every_metric(pages):
    result = make_result()
    page = parse(pages["basic"])
    rows = {tr.attrs["data-metric"]: tr for tr in page.find(id="summary").find_all("tr") if "data-metric" in tr.attrs}
    scalar = {k for k, v in result["metrics"].items() if not isinstance(v, dict)}
    assert scalar <= set(rows)
    assert [td.all_text() for td in rows["starting_equity_usd"].find_all("td")] == ["10,000.00 USD"]
    m = result["metrics"]
    assert rows["win_rate"].find("td").all_text() == f"{m['win_rate'] * 100:.1f} %"
    assert rows["net_pnl_usd"].find("td").all_text() == f"{m['net_pnl_usd']:+,.2f} USD"
    assert rows["trades"].find("td").all_text() == "42"
    # exit reasons and attribution: one table row per key
    exits = page.find(id="exit-reasons-table")
    assert {th.all_text() for th in exits.find_all("th", scope="row")} == set(m["exit_reasons"])
    attribution = page.find(id="attribution-table")
    assert {th.all_text() for th in attribution.find_all("th", scope="row")} == set(m["attribution"])


# ------------------------------------------------------------------ self-contained


@pytest.mark.parametrize("name", ["basic", "vs", "hostile"])
def test_the_page_is_self_contained(pages, name):
    html = pages[name]
    page = parse(html)
    ids = {e.attrs["id"] for e in page.root.walk() if "id" in e.attrs}
    for element in page.root.walk():
        assert element.tag not in {"link", "img", "iframe", "object", "embed", "image", "base"}, element.tag
        for attr, value in element.attrs.items():
            assert attr != "src" and not attr.startswith("on"), (element.tag, attr)
            if attr.endswith("href"):
                assert value and value.startswith("#") and value[1:] in ids, (element.tag, attr, value)
            if not attr.startswith("xmlns"):
                assert "://" not in (value or ""), (element.tag, attr, value)
    styles = "".join(s.all_text() for s in page.find_all("style"))
    assert "@import" not in styles and "url(" not in styles and "@font-face" not in styles
    scripts = page.find_all("script")
    code = [s.all_text() for s in scripts if "type" not in s.attrs]
    assert len(code) == 2 and code[0].startswith("/*! https://github.com/leeoniya/uPlot (v")  # uPlot, then ours
    assert all(s.attrs.get("type") == "application/json" for s in scripts if "type" in s.attrs)
    for text in code:  # nothing that could reach the network
        for needle in ("fetch(", "XMLHttpRequest", "WebSocket", "EventSource", "import(", "sendBeacon", ".src="):
            assert needle not in text, needle
    for url in re.findall(r"url\(#([^)]+)\)", html):
        assert url in ids, url
    assert "<?xml" not in html and "<!DOCTYPE svg" not in html


def test_every_svg_is_inline(pages):
    page = parse(pages["vs"])
    svgs = page.find_all("svg")
    assert len(svgs) == 6
    assert all(svg.parent.tag == "figure" or svg.parent.parent.tag == "figure" for svg in svgs)
    assert all(svg.attrs.get("viewbox") for svg in svgs)


# ------------------------------------------------------------------ formatting


def test_numbers_have_thousands_separators(pages):
    page = parse(pages["basic"])
    table = page.find(id="trades-a")
    symbol, price = _column(table, "symbol"), _column(table, "entry price")
    btc = [tr for tr in table.find("tbody").find_all("tr") if tr.find_all("td")[symbol].all_text() == "BTCUSDT"]
    assert btc
    for tr in btc:
        entry_price = tr.find_all("td")[price].all_text()
        assert re.fullmatch(r"\d{1,3}(,\d{3})+\.\d{2}", entry_price), entry_price
    equity_ticks = [t.all_text() for t in page.figures()["equity"].find_all("text")]
    assert any(re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?", t) for t in equity_ticks), equity_ticks
    price_ticks = [t.all_text() for t in page.figures()["price-BTCUSDT"].find_all("text")]
    assert any(re.fullmatch(r"\d{2},\d{3}(\.\d+)?", t) for t in price_ticks), price_ticks


def _column(table, label: str) -> int:
    """The index of the trade table's column headed ``label``."""
    return [th.all_text() for th in table.find("thead").find_all("th")].index(label)


def test_times_are_utc(pages):
    page = parse(pages["basic"])
    table = page.find(id="trades-a")
    first = table.find("tbody").find("tr").find_all("td")
    assert re.fullmatch(r"2025-05-2\d \d\d:\d\d(:\d\d)?", first[_column(table, "filled (UTC)")].all_text())
    assert "time (UTC)" in page.figures()["equity"].all_text()


def test_trades_are_oldest_first(pages):
    table = parse(pages["basic"]).find(id="trades-a")
    rows = table.find("tbody").find_all("tr")
    entries = [tr.find_all("td")[_column(table, "filled (UTC)")].all_text() for tr in rows]
    assert entries == sorted(entries) and len(rows) == 42
    assert {tr.attrs["class"] for tr in rows} <= {"win", "loss", ""}


# ------------------------------------------------------------------ vs


def test_vs_mode_has_both_columns_the_difference_and_the_decisions(pages):
    result = make_result(vs=True)
    page = parse(pages["vs"])
    assert page.find("meta", name="rulebot-version-vs").attrs["content"] == "rs-b71e55a09c12"
    header = [th.all_text() for th in page.find(id="summary").find("thead").find_all("th")]
    assert header == ["Metric", "A: rs-3f9a0c21d4e7", "B: rs-b71e55a09c12", "A − B"]
    rows = {tr.attrs["data-metric"]: tr for tr in page.find(id="summary").find_all("tr") if "data-metric" in tr.attrs}
    assert all(len(tr.find_all("td")) == 3 for tr in rows.values())
    a, b = result["metrics"]["net_pnl_usd"], result["vs"]["metrics"]["net_pnl_usd"]
    diff = rows["net_pnl_usd"].find_all("td")[2]
    assert diff.all_text() == f"{a - b:+,.2f} USD"  # first − second
    assert diff.attrs["class"].split()[-1] == ("better" if a > b else "worse")  # green: A did better
    drawdown = rows["max_drawdown_pct"].find_all("td")[2]
    assert drawdown.all_text().endswith(" pp")
    dd_a, dd_b = result["metrics"]["max_drawdown_pct"], result["vs"]["metrics"]["max_drawdown_pct"]
    assert drawdown.attrs["class"].split()[-1] == ("better" if dd_a < dd_b else "worse")  # lower is better

    decisions = page.find(id="differing-decisions")
    body = decisions.find("tbody").find_all("tr")
    assert len(body) == len(result["differing_decisions"]) == 25
    first = [td.all_text() for td in body[0].find_all("td")]
    d = result["differing_decisions"][0]
    assert first[1:] == [d["symbol"], d["a"], d["b"]]

    legend = page.figures()["equity"].all_text()
    assert "A: rs-3f9a0c21d4e7" in legend and "B: rs-b71e55a09c12" in legend
    assert page.find(id="trades-a") and page.find(id="trades-b")
    assert page.find("a", href="#differing-decisions")


def test_vs_with_identical_decisions_says_so():
    page = parse(render_report(make_result(vs=True, differing=0)))
    assert page.find(id="differing-decisions-none")


def test_tables_are_capped_with_a_note():
    result = make_result(cycles=3000, trades=MAX_ROWS * 2, vs=True, vs_trades=10, differing=800)
    page = parse(render_report(result))
    assert len(page.find(id="trades-a").find("tbody").find_all("tr")) == MAX_ROWS
    assert "1,000" in page.find(id="trades-a-capped").all_text()
    assert len(page.find(id="trades-b").find("tbody").find_all("tr")) == 10
    assert not page.find_all(id="trades-b-capped")
    decisions = page.find(id="differing-decisions")
    assert len(decisions.find("tbody").find_all("tr")) == MAX_ROWS
    assert "800" in page.find(id="differing-decisions-capped").all_text()


# ------------------------------------------------------------------ thin inputs


def test_an_empty_result_renders_with_notes(pages):
    page = parse(pages["empty"])
    figures = page.figures()
    assert set(figures) == CHARTS
    for kind, figure in figures.items():
        assert not figure.find_all("svg"), kind
        assert figure.find("p").attrs["class"] == "note" and figure.find("p").all_text(), kind
        assert figure.find_all("figcaption"), kind
    text = page.root.all_text()
    assert "no cycle was run" in text
    assert "No trade was closed" in text
    assert "there is no price chart to draw" in text


def test_a_single_cycle_renders_with_notes(pages):
    page = parse(pages["single-cycle"])
    figures = page.figures()
    assert "single point" in figures["equity"].all_text()
    assert "single point" in figures["drawdown"].all_text()
    assert "fewer than two recorded prices" in figures["price-BTCUSDT"].all_text()
    assert "2025-05-25T00:00:00Z → 2025-05-25T00:00:00Z" in page.find(id="run-facts").all_text()


def test_no_trades_still_draws_curves_and_prices(pages):
    figures = parse(pages["no-trades"]).figures()
    assert figures["equity"].find_all("svg") and figures["price-ETHUSDT"].find_all("svg")
    assert "no trades on this symbol" in figures["price-ETHUSDT"].all_text()
    assert not figures["exit-reasons"].find_all("svg")


@pytest.mark.parametrize(
    "result",
    [
        {},
        {"vs": None, "metrics": None, "equity": None, "prices": None, "trades": None},
        {
            "version": 7,
            "start": "yesterday",
            "end": float("nan"),
            "cycles": None,
            "symbols": ["X"],
            "metrics": {
                "sharpe": None,
                "win_rate": "n/a",
                "trades": True,
                "extra": {"k": 1.5},
                "exit_reasons": [],
                "attribution": {"a": None, "b": "x", "c": 1},
            },
            "equity": [[1, None], "junk", [2], [float("inf"), 1.0], [3, 10.0], [4, 9.0]],
            "prices": {"X": [[3, 1.0], [4, None]]},
            "trades": [{"symbol": None}, {"symbol": "X", "entry_ts": 3, "entry_price": 1.0}, "not a trade"],
            "vs": {"version": None, "trades": [{}]},
            "differing_decisions": [{}, None],
            "market_data": {
                "refused": "many",
                "by_input": {"X": None, "Y": {"price": "x"}},
                "first": [{"ts": 1e300}],
                "states": [None, {"state": 1}],
            },
        },
    ],
    ids=["nothing", "nulls", "junk"],
)
def test_odd_inputs_never_raise(result):
    page = parse(render_report(result))
    assert page.find(id="summary") and page.find("title")


def test_an_interrupted_run_is_flagged():
    result = make_result()
    result["interrupted"] = True
    assert "was interrupted" in parse(render_report(result)).find(id="report-header").all_text()


def test_refused_market_data_and_state_changes_are_flagged():
    result = make_result()
    refusal = {
        "ts": 1748134800.0,
        "symbol": "ETHUSDT",
        "field": "price",
        "value": 1e-9,
        "reason": "ETHUSDT price 1e-09 refused: far",
    }
    result["market_data"] = {
        "refused": 2,
        "by_input": {"ETHUSDT": {"price": 2}},
        "first": [refusal, {**refusal, "ts": 1748134860.0}],
        "states": [{"ts": 1748135700.0, "state": "REDUCING", "reason": "ETHUSDT's market data refused for 15 min"}],
    }
    header = parse(render_report(result)).find(id="report-header").all_text()
    assert (
        "2 market value(s) refused as implausible and treated as missing (ETHUSDT price ×2), "
        "the first at 2025-05-25T01:00:00Z: ETHUSDT price 1e-09 refused: far"
    ) in header
    assert "trading state REDUCING at 2025-05-25T01:15:00Z: ETHUSDT's market data refused for 15 min" in header
    assert "refused" not in parse(render_report(make_result())).find(id="report-header").all_text()


def test_without_matplotlib_the_page_still_renders(monkeypatch):
    def missing():
        raise ImportError("No module named 'matplotlib'")

    monkeypatch.setattr(htmlreport, "matplotlib_api", missing)
    page = parse(render_report(make_result()))
    for figure in page.figures().values():
        assert "Charts need matplotlib" in figure.all_text()
        assert not figure.find_all("svg")


def test_a_failing_chart_is_contained(monkeypatch):
    def broken(mpl, runs):
        raise RuntimeError("boom")

    monkeypatch.setattr(htmlreport, "_draw_attribution", broken)
    figures = parse(render_report(make_result())).figures()
    assert "could not be drawn (RuntimeError: boom)" in figures["attribution"].all_text()
    assert figures["equity"].find_all("svg")


# ------------------------------------------------------------------ escaping


def test_hostile_strings_are_escaped(pages):
    html = pages["hostile"]
    page = parse(html)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    for needle in ("<img", "<iframe", "<svg onload", "<b>paper", "<i>x", "</svg><script>"):
        assert needle not in html, needle
    assert not page.find_all("img") and not page.find_all("iframe")
    assert all(
        "alert(" not in script.all_text() or "\\u003c" in script.all_text() for script in page.find_all("script")
    )
    symbol = "<script>alert(1)</script>"
    figures = page.figures()
    assert f"price-{symbol}" in figures
    assert figures[f"price-{symbol}"].find_all("svg")
    assert re.fullmatch(r"[A-Za-z0-9_-]+", figures[f"price-{symbol}"].attrs["id"])
    assert page.find("meta", name="rulebot-version").attrs["content"] == 'rs-"><img src=x onerror=alert(1)>'
    assert "$\\alpha$ & <i>x</i>" in page.find(id="attribution-table").all_text()
    assert "<iframe src=//evil>" in page.find(id="trades-a").all_text()


def test_rendering_is_deterministic():
    result = make_result(vs=True)
    assert render_report(result) == render_report(json.loads(json.dumps(result)))


# ------------------------------------------------------------------ size and speed


def _longest_line(figure) -> int:
    """Vertices of the longest plotted line (matplotlib puts each Line2D in a <g id="…line2d_N">)."""
    lines = [g for g in figure.find_all("g") if "line2d" in g.attrs.get("id", "")]
    return max(len(re.findall(r"[ML] ", p.attrs.get("d", ""))) for g in lines for p in g.find_all("path"))


def test_a_big_result_renders_decimated():
    result = make_result(cycles=20_160, trades=1_000, curve_limit=None)
    assert len(result["equity"]) == 20_160 and len(result["trades"]) == 1_000
    html = render_report(result)
    page = parse(html)
    figures = page.figures()
    for kind in ("equity", "drawdown"):
        assert 500 < _longest_line(figures[kind]) <= MAX_POINTS, kind
    assert len(html) < 3_000_000


def test_decimate_keeps_extremes_and_ends():
    rng = np.random.default_rng(1)
    x = START + np.arange(20_000, dtype=float) * 60
    y = 10_000 + np.cumsum(rng.normal(0, 1, len(x)))
    y[12_345] = y.max() + 500
    y[777] = y.min() - 500
    dx, dy = decimate(x, y)
    assert len(dx) <= MAX_POINTS
    assert np.all(np.diff(dx) > 0)
    assert dx[0] == x[0] and dx[-1] == x[-1]
    assert dy.max() == y.max() and dy.min() == y.min()
    assert set(dx) <= set(x)
    short_x, short_y = decimate(x[:100], y[:100])
    assert np.array_equal(short_x, x[:100]) and np.array_equal(short_y, y[:100])
    for n in (MAX_POINTS + 1, MAX_POINTS * 3 + 7, 4001):
        assert len(decimate(x[:n], y[:n])[0]) <= MAX_POINTS


# ------------------------------------------------------------------ a trader's trade table


def test_the_trade_table_leads_with_what_a_trader_reads_first(pages):
    table = parse(pages["basic"]).find(id="trades-a")
    heads = table.find("thead").find_all("th")
    labels = [th.all_text() for th in heads]
    assert labels[:11] == [
        "#",
        "decided (UTC)",
        "filled (UTC)",
        "symbol",
        "side",
        "net USD",
        "net %",
        "exit reason",
        "held",
        "conviction",
        "id",
    ]
    extra = [th.all_text() for th in heads if "extra" in th.attrs.get("class", "").split()]
    assert extra == labels[11:] and "entry price" in extra and "fees (USD)" in extra  # behind "all columns"
    assert all("sortable" in th.attrs["class"].split() for th in heads)
    assert table.parent.parent.find("input", type="checkbox").attrs["data-table"] == "trades-a"


def test_trade_ids_are_short_with_the_full_id_in_the_title():
    result = make_result(trades=3)
    result["trades"][0]["id"] = "rb" + "0123456789abcdef0123"
    table = parse(render_report(result)).find(id="trades-a")
    cell = table.find("tbody").find_all("tr")[_row_of(result, 0)].find_all("td")[_column(table, "id")]
    assert cell.all_text() == "rb012345…" and cell.attrs["title"] == "rb0123456789abcdef0123"


def _row_of(result: dict, index: int) -> int:
    """Where trade ``index`` of the result lands in the table (oldest entry first)."""
    order = sorted(
        range(len(result["trades"])), key=lambda i: (result["trades"][i]["entry_ts"], result["trades"][i]["exit_ts"])
    )
    return order.index(index)


def test_cells_carry_sort_keys(pages):
    table = parse(pages["basic"]).find(id="trades-a")
    result = make_result()
    rows = table.find("tbody").find_all("tr")
    pnl = [float(tr.find_all("td")[_column(table, "net USD")].attrs["data-v"]) for tr in rows]
    held = [float(tr.find_all("td")[_column(table, "held")].attrs["data-v"]) for tr in rows]
    assert sorted(pnl) == sorted(t["net_pnl"] for t in result["trades"])  # exact values, not the rounded text
    assert sorted(held) == sorted(t["duration_s"] for t in result["trades"])


def _decided(version: str, symbol: str, direction: str, ts: float) -> dict:
    return {
        "ts": ts,
        "symbol": symbol,
        "outcome": "TRADE",
        "direction": direction,
        "conviction": "HIGH",
        "confidence": 0.9,
        "first_blocker": None,
    }


def test_the_decision_time_is_the_decision_that_sent_the_entry_order():
    from engine.trading.entry import client_order_id

    result = make_result(trades=3, symbols=("BTCUSDT",))
    trade = result["trades"][0]
    version, symbol, direction = trade["entry_version"], trade["symbol"], trade["direction"]
    decided = trade["entry_ts"] - 180  # a limit order that filled three cycles later
    trade["id"] = client_order_id("rb", version, symbol, direction, decided)
    result["decisions"] = [
        _decided(version, symbol, direction, decided - 60),  # an earlier TRADE decision (e.g. a rejected order)
        _decided(version, symbol, direction, decided),  # the one whose order filled
        _decided(version, symbol, direction, trade["entry_ts"] - 60),  # a later one, while the order was out
        {**_decided(version, symbol, direction, trade["entry_ts"] - 120), "outcome": "NO_TRADE"},
    ]
    assert htmlreport.decision_times(result)[trade["id"]] == decided
    table = parse(render_report(result)).find(id="trades-a")
    row = table.find("tbody").find_all("tr")[_row_of(result, 0)].find_all("td")
    cell = row[_column(table, "decided (UTC)")]
    assert cell.all_text() == htmlreport._table_time(decided, trade["entry_ts"])
    assert cell.attrs["title"] == f"rulebot explain --at {htmlreport.iso(decided)}"  # ready to copy
    assert row[_column(table, "filled (UTC)")].all_text() == htmlreport._table_time(trade["entry_ts"])


def test_table_times_are_compact():
    day = 1_748_131_200.0  # 2025-05-25 00:00:00 UTC
    assert htmlreport._table_time(day + 41 * 60) == "2025-05-25 00:41"
    assert htmlreport._table_time(day + 41 * 60 + 7) == "2025-05-25 00:41:07"  # seconds only when they say something
    assert htmlreport._table_time(day + 40 * 60, day + 41 * 60) == "00:40"  # the fill's day: time only
    assert htmlreport._table_time(day - 60, day + 60) == "2025-05-24 23:59"  # decided the day before
    assert htmlreport._table_time(None, day) == "—"


def test_without_a_matching_id_the_latest_trade_decision_before_the_fill_is_taken():
    result = make_result(trades=1, symbols=("BTCUSDT",))
    trade = result["trades"][0]
    other = "LONG" if trade["direction"] == "SHORT" else "SHORT"
    result["decisions"] = [
        _decided("rs-x", trade["symbol"], trade["direction"], trade["entry_ts"] - 120),
        _decided("rs-x", trade["symbol"], trade["direction"], trade["entry_ts"] - 60),
        _decided("rs-x", trade["symbol"], other, trade["entry_ts"] - 30),  # the other side: not this trade's
        _decided("rs-x", trade["symbol"], trade["direction"], trade["entry_ts"] + 60),  # after the fill
    ]
    assert htmlreport.decision_times(result) == {trade["id"]: trade["entry_ts"] - 60}
    result["decisions"] = []
    assert htmlreport.decision_times(result) == {}
    table = parse(render_report(result)).find(id="trades-a")
    assert table.find("tbody").find("tr").find_all("td")[_column(table, "decided (UTC)")].all_text() == "—"
    assert "has no recorded decision" in table.parent.parent.all_text()


# ------------------------------------------------------------------ vs: both runs named and shaded


def test_vs_names_both_folders_and_shades_both_drawdowns():
    result = make_result(vs=True)
    result["vs"]["rules_dir"] = "rules-shipped"
    page = parse(render_report(result))
    folders = [tr for tr in page.find(id="run-facts").find_all("tr") if tr.find("th").all_text() == "Rules folder"]
    assert [td.all_text() for td in folders[0].find_all("td")] == ["A: rules", "B: rules-shipped"]
    fills = [g for g in page.figures()["drawdown"].find_all("g") if "FillBetween" in g.attrs.get("id", "")]
    assert len(fills) == 2  # one shaded area per run
    exits = page.find(id="exit-reasons-table")
    reason = exits.find("tbody").find("tr")
    label = reason.find("th").all_text()
    a = result["metrics"]["exit_reasons"].get(label, 0)
    b = result["vs"]["metrics"]["exit_reasons"].get(label, 0)
    assert reason.find_all("td")[2].all_text() == f"{a - b:+d}"
    assert [th.all_text() for th in exits.find("thead").find_all("th")][-1] == "A − B"


# ------------------------------------------------------------------ the zoomable charts' data


def test_the_chart_data_cannot_end_its_script_element():
    result = make_result(trades=6, symbols=("BTCUSDT", "</script><script>alert(5)</script>"))
    for trade in result["trades"]:
        trade["id"] = "</script>&<!--" + trade["id"]
    html = render_report(result)
    assert "alert(5)</script>" not in html and "<!--" not in html.split("<body>", 1)[1]
    page = parse(html)
    datas = [json.loads(s.all_text()) for s in page.find_all("script", type="application/json")]
    assert {d["symbol"] for d in datas} == {"BTCUSDT", "</script><script>alert(5)</script>"}
    marks = [t for d in datas for t in d["runs"][0]["trades"]]
    assert len(marks) == 6 and all(m[6] == "</script>&<!--"[: htmlreport.SHORT_ID] for m in marks)
    trade = result["trades"][0]
    mark = next(
        m for d in datas if d["symbol"] == trade["symbol"] for m in d["runs"][0]["trades"] if m[0] == trade["entry_ts"]
    )
    assert mark[:6] == [
        trade["entry_ts"],
        trade["entry_price"],
        trade["exit_ts"],
        trade["exit_price"],
        1 if trade["direction"] == "LONG" else -1,
        1 if trade["net_pnl"] > 0 else -1,
    ]


def test_the_zoomable_price_line_keeps_every_point_up_to_its_limit():
    result = make_result(trades=3)
    closes = result["prices"]["BTCUSDT"]
    data = json.loads(parse(render_report(result)).figures()["price-BTCUSDT"].find("script").all_text())
    assert data["x"] == [p[0] for p in closes] and data["close"] == [p[1] for p in closes]


def test_the_vendored_uplot_matches_its_readme():
    import hashlib
    from importlib import resources

    folder = resources.files("engine.report").joinpath("vendor")
    readme = folder.joinpath("README.md").read_text(encoding="utf-8")
    for name in ("uPlot.iife.min.js", "uPlot.min.css", "LICENSE"):
        digest = hashlib.sha256(folder.joinpath("uplot", name).read_bytes()).hexdigest()
        assert f"`uplot/{name}` | " in readme and digest in readme, name
    version = re.search(r"\(v(\d+\.\d+\.\d+)\)", folder.joinpath("uplot/uPlot.iife.min.js").read_text())
    assert version and f"uPlot {version.group(1)}" in readme
    assert f"uPlot {version.group(1)}" in render_report(make_result(trades=1))  # named in the footer
    assert "MIT License" in folder.joinpath("uplot/LICENSE").read_text()
