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
        svgs = [c for c in figure.children if c.tag == "svg"]
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
        assert element.tag not in {"script", "link", "img", "iframe", "object", "embed", "image", "base"}, element.tag
        for attr, value in element.attrs.items():
            assert attr != "src" and not attr.startswith("on"), (element.tag, attr)
            if attr.endswith("href"):
                assert value and value.startswith("#") and value[1:] in ids, (element.tag, attr, value)
            if not attr.startswith("xmlns"):
                assert "://" not in (value or ""), (element.tag, attr, value)
    styles = "".join(s.all_text() for s in page.find_all("style"))
    assert "@import" not in styles and "url(" not in styles and "@font-face" not in styles
    for url in re.findall(r"url\(#([^)]+)\)", html):
        assert url in ids, url
    assert "<?xml" not in html and "<!DOCTYPE svg" not in html


def test_every_svg_is_inline(pages):
    page = parse(pages["vs"])
    svgs = page.find_all("svg")
    assert len(svgs) == 6
    assert all(svg.parent.tag == "figure" for svg in svgs)
    assert all(svg.attrs.get("viewbox") for svg in svgs)


# ------------------------------------------------------------------ formatting


def test_numbers_have_thousands_separators(pages):
    page = parse(pages["basic"])
    table = page.find(id="trades-a")
    btc = [tr for tr in table.find("tbody").find_all("tr") if tr.find_all("td")[2].all_text() == "BTCUSDT"]
    assert btc
    for tr in btc:
        entry_price = tr.find_all("td")[6].all_text()
        assert re.fullmatch(r"\d{1,3}(,\d{3})+\.\d{2}", entry_price), entry_price
    equity_ticks = [t.all_text() for t in page.figures()["equity"].find_all("text")]
    assert any(re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?", t) for t in equity_ticks), equity_ticks
    price_ticks = [t.all_text() for t in page.figures()["price-BTCUSDT"].find_all("text")]
    assert any(re.fullmatch(r"\d{2},\d{3}(\.\d+)?", t) for t in price_ticks), price_ticks


def test_times_are_utc(pages):
    page = parse(pages["basic"])
    first = page.find(id="trades-a").find("tbody").find("tr").find_all("td")
    assert re.fullmatch(r"2025-05-2\d \d\d:\d\d:\d\d", first[4].all_text())
    assert "time (UTC)" in page.figures()["equity"].all_text()


def test_trades_are_oldest_first(pages):
    rows = parse(pages["basic"]).find(id="trades-a").find("tbody").find_all("tr")
    entries = [tr.find_all("td")[4].all_text() for tr in rows]
    assert entries == sorted(entries) and len(rows) == 42
    assert {tr.attrs["class"] for tr in rows} <= {"win", "loss", ""}


# ------------------------------------------------------------------ vs


def test_vs_mode_has_both_columns_the_difference_and_the_decisions(pages):
    result = make_result(vs=True)
    page = parse(pages["vs"])
    assert page.find("meta", name="rulebot-version-vs").attrs["content"] == "rs-b71e55a09c12"
    header = [th.all_text() for th in page.find(id="summary").find("thead").find_all("th")]
    assert header == ["Metric", "A: rs-3f9a0c21d4e7", "B: rs-b71e55a09c12", "B − A"]
    rows = {tr.attrs["data-metric"]: tr for tr in page.find(id="summary").find_all("tr") if "data-metric" in tr.attrs}
    assert all(len(tr.find_all("td")) == 3 for tr in rows.values())
    a, b = result["metrics"]["net_pnl_usd"], result["vs"]["metrics"]["net_pnl_usd"]
    diff = rows["net_pnl_usd"].find_all("td")[2]
    assert diff.all_text() == f"{b - a:+,.2f} USD"
    assert diff.attrs["class"].split()[-1] == ("better" if b > a else "worse")
    assert rows["max_drawdown_pct"].find_all("td")[2].all_text().endswith(" pp")

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

    monkeypatch.setattr(htmlreport, "_matplotlib", missing)
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
    assert not page.find_all("script") and not page.find_all("img") and not page.find_all("iframe")
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
