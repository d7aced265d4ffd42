"""The sweep's HTML report: heatmap cells are the best over the other parameters, the overfitting
warning fires exactly when in- and out-of-sample ranks disagree, thin inputs render with a note
saying why, user text is escaped and the page needs no network."""

from __future__ import annotations

import itertools
import math
import re

import numpy as np
import pytest

from engine.report import charts
from engine.sweeps import report as sweepreport
from engine.sweeps.report import (
    MAX_TABLE_ROWS,
    SweepReport,
    heatmap_grid,
    heatmap_pairs,
    metric_by_value,
    overfitting,
    rank_agreement,
    render_sweep_report,
)
from tests.report.test_htmlreport import parse

STOP, PERIOD, MODE = "exits.tiers.stop_loss.loss_pct", "indicators.indicators.ema_fast.params.period", "signals.mode"
T0 = 1_748_131_200  # 2025-05-25T00:00:00Z
BROKEN = "could not be drawn"


def row(variant: str, values: dict, metric: float | None, status: str = "ok", **more) -> dict:
    out = {
        "variant": variant,
        "status": status,
        "rank": None,
        "values": values,
        "metric": metric if status == "ok" else None,
        "oos_rank": None,
        "oos_metric": None,
        "metrics": {"net_pnl_pct": metric, "trades": 12} if status == "ok" and metric is not None else {},
        "fingerprint": "sha256:" + "0f" * 32 if status == "ok" else None,
        "problems": None if status == "ok" else "RB210 weights sum to 1.2",
    }
    out.update(more)
    return out


def ranked(rows: list[dict], goal: str = "max") -> list[dict]:
    """Rows as the CLI hands them over: the replayed ones best first with their rank, then the rest."""
    sign = -1.0 if goal == "max" else 1.0
    ok = [r for r in rows if r["status"] == "ok"]
    ok.sort(key=lambda r: (r["metric"] is None or math.isnan(r["metric"]), sign * (r["metric"] or 0.0), r["variant"]))
    for position, r in enumerate(ok, 1):
        r["rank"] = position
    return ok + [r for r in rows if r["status"] != "ok"]


def with_oos(rows: list[dict], oos_ranks: list[int]) -> list[dict]:
    for r, oos in zip(rows, oos_ranks):
        r["oos_rank"] = oos
        r["oos_metric"] = 10.0 - oos
    return rows


def three_parameter_grid() -> list[dict]:
    """4 stops × 3 periods × 2 modes; the metric peaks at stop 2.0, period 9, fast; two invalid."""
    rows = []
    for i, (stop, period, mode) in enumerate(itertools.product([1.0, 1.5, 2.0, 2.5], [5, 9, 13], ["fast", "slow"])):
        metric = 5.0 - abs(stop - 2.0) * 4 - abs(period - 9) * 0.25 + (1.0 if mode == "fast" else 0.0)
        status = "invalid" if i in (3, 17) else "ok"
        rows.append(row(f"g{i:04d}", {STOP: stop, PERIOD: period, MODE: mode}, metric, status))
    return ranked(rows)


def make_report(rows: list[dict], parameters=(STOP, PERIOD, MODE), **more) -> SweepReport:
    fields = dict(
        name="stops",
        metric="net_pnl_pct",
        goal="max",
        method="grid",
        parameters=tuple(parameters),
        rows=tuple(rows),
        curves={},
        rules_version="rs-3f9a0c21d4e7",
        snapshots=("data/sample/sample.snapshots.parquet",),
    )
    fields.update(more)
    return SweepReport(**fields)


def curves_of(rows: list[dict], count: int = 3) -> dict:
    """Equity curves of the best ``count`` variants, as the CLI keeps them."""
    return {r["variant"]: [[T0 + 300 * t, 10_000.0 + t * r["metric"]] for t in range(50)] for r in rows[:count]}


# ------------------------------------------------------------------ the grid


def test_a_heatmap_cell_is_the_best_over_the_other_parameters():
    rows = three_parameter_grid()
    grid = heatmap_grid(rows, PERIOD, STOP)
    assert grid.xs == (5, 9, 13) and grid.ys == (1.0, 1.5, 2.0, 2.5)
    assert grid.best.shape == (4, 3)
    for i, stop in enumerate(grid.ys):
        for j, period in enumerate(grid.xs):
            expected = max(
                r["metric"]
                for r in rows
                if r["status"] == "ok" and r["values"][STOP] == stop and r["values"][PERIOD] == period
            )
            assert grid.best[i, j] == expected
    assert grid.best[2, 1] == 6.0  # stop 2.0, period 9, over both modes: fast wins


def test_min_goal_takes_the_lowest_and_a_cell_without_a_replay_is_blank():
    rows = [
        row("a", {STOP: 1.0, MODE: "fast"}, 3.0),
        row("b", {STOP: 1.0, MODE: "fast"}, 1.0),
        row("c", {STOP: 2.0, MODE: "fast"}, 2.0),
        row("d", {STOP: 2.0, MODE: "slow"}, None, status="invalid"),
        row("e", {STOP: 1.0, MODE: "slow"}, float("nan")),  # replayed, metric unusable
    ]
    grid = heatmap_grid(rows, STOP, MODE, goal="min")
    assert grid.xs == (1.0, 2.0) and grid.ys == ("fast", "slow")
    assert grid.best[0].tolist() == [1.0, 2.0]
    assert np.isnan(grid.best[1]).all()
    assert heatmap_grid(rows, STOP, MODE, goal="max").best[0].tolist() == [3.0, 2.0]


def test_values_sort_numerically_when_numeric_else_as_text():
    rows = [row(f"v{i}", {STOP: v, MODE: m}, float(i)) for i, (v, m) in enumerate([(10, "b"), (2, "a"), (1.5, "c")])]
    grid = heatmap_grid(rows, STOP, MODE)
    assert grid.xs == (1.5, 2, 10)  # not "10" < "2" as text
    assert grid.ys == ("a", "b", "c")
    mixed = [
        row("p", {MODE: True}, 1.0),
        row("q", {MODE: 1}, 2.0),
        row("r", {MODE: 1.0}, 3.0),
        row("s", {MODE: "x"}, 4.0),
    ]
    values, best = metric_by_value(mixed, MODE)
    assert values == (1, True, "x")  # 1 and 1.0 are one value; true is not 1
    assert best.tolist() == [3.0, 1.0, 4.0]


def test_heatmap_pairs_are_capped_and_prefer_the_most_distinct_values():
    paths = [f"p.v{k}" for k in range(5)]
    sizes = {"p.v0": 2, "p.v1": 6, "p.v2": 3, "p.v3": 5, "p.v4": 1}
    rows = [row(f"g{i}", {p: i % sizes[p] for p in paths}, float(i)) for i in range(60)]
    pairs = heatmap_pairs(rows, paths, limit=3)
    assert pairs == [("p.v1", "p.v3"), ("p.v1", "p.v2"), ("p.v3", "p.v2")]  # 30, 18, 15 cells; x has more values
    assert len(heatmap_pairs(rows, paths)) == sweepreport.MAX_HEATMAPS == 6


# ------------------------------------------------------------------ overfitting


def numbered(n: int) -> list[dict]:
    return ranked([row(f"g{i:02d}", {STOP: float(i)}, float(n - i)) for i in range(n)])


def test_reversed_ranks_warn_with_the_numbers():
    rows = with_oos(numbered(6), [6, 5, 4, 3, 2, 1])
    message = overfitting(rows)
    assert message is not None
    assert "-1.00 over 6 variants" in message and "below 0.5" in message
    assert "the in-sample best, g00, ranks 6 of 6 out of sample" in message


def test_agreeing_ranks_and_no_walk_forward_are_silent():
    assert overfitting(with_oos(numbered(6), [1, 2, 3, 5, 4, 6])) is None
    assert overfitting(numbered(6)) is None  # no out-of-sample ranks
    assert overfitting(with_oos(numbered(2), [2, 1])) is None  # too few to judge
    assert rank_agreement(with_oos(numbered(2), [2, 1])) is None


def test_an_in_sample_best_in_the_worse_half_warns_even_when_the_rest_agree():
    n = 20
    rows = with_oos(numbered(n), [n, *range(1, n)])
    agreement = rank_agreement(rows)
    assert agreement is not None and agreement.best == "g00" and agreement.best_oos == n
    message = overfitting(rows)
    assert message is not None and f"ranks {n} of {n} out of sample" in message
    assert "Spearman" not in message  # the correlation alone would not have warned
    assert agreement.correlation >= sweepreport.MIN_RANK_CORRELATION


def test_the_spearman_correlation_is_the_textbook_one():
    agreement = rank_agreement(with_oos(numbered(5), [2, 1, 4, 3, 5]))
    assert agreement is not None
    assert agreement.correlation == pytest.approx(1 - 6 * 4 / (5 * 24))  # Σd² = 4
    assert agreement.best_oos == 2  # the median of 3 is not the worse half …
    assert overfitting(with_oos(numbered(3), [2, 1, 3])) is None  # … so 2 of 3 does not warn


# ------------------------------------------------------------------ the page


@pytest.fixture(scope="module")
def full_page() -> str:
    rows = three_parameter_grid()
    replayed = [r for r in rows if r["status"] == "ok"]
    with_oos(replayed, list(range(len(replayed), 0, -1)))  # reversed: overfitting
    windows = ({"fit_from": T0, "fit_to": T0 + 7 * 86400, "score_from": T0 + 7 * 86400, "score_to": T0 + 9 * 86400},)
    return render_sweep_report(make_report(rows, curves=curves_of(rows), windows=windows))


def test_the_full_page_has_every_section_and_chart(full_page):
    page = parse(full_page)
    ids = [e.attrs["id"] for e in page.root.walk() if "id" in e.attrs]
    assert len(ids) == len(set(ids))
    figures = page.figures()
    assert set(figures) == {"heatmap-1", "heatmap-2", "heatmap-3", "distribution", "distribution-oos", "equity"}
    for kind, figure in figures.items():
        assert [c.tag for c in figure.children if c.tag == "svg"] == ["svg"], kind
    assert BROKEN not in full_page
    facts = page.find(id="sweep-facts").all_text()
    for expected in (
        "stops",
        "grid",
        "net_pnl_pct",
        "higher is better",
        "24 finished: 22 replayed, 2 invalid, 0 failed",
    ):
        assert expected in facts, expected
    assert "Best variant (in sample)g0014: loss_pct = 2, period = 9, mode = fast → +6.00 %" in facts
    assert "best: g0014 (+6.00 %)" in figures["distribution"].all_text()  # the legend, as SVG text
    assert "in-sample best: g0014 (-12.00 %)" in figures["distribution-oos"].all_text()
    assert "2025-05-25T00:00:00Z" in page.find(id="windows").all_text()
    assert "2025-06-03T00:00:00Z" in page.find(id="windows").all_text()
    banner = page.find(id="overfitting").all_text()
    assert "Possible overfitting" in banner and "ranks 22 of 22" in banner
    assert len(page.find(id="ranking-table").find_all("tr")) == 1 + 22
    assert len(page.find(id="problems-table").find_all("tr")) == 1 + 2
    assert "RB210 weights sum to 1.2" in page.find(id="problems-table").all_text()


def test_the_page_needs_no_network(full_page):
    page = parse(full_page)
    for element in page.root.walk():
        assert element.tag not in {"script", "link", "img", "iframe", "object", "embed", "base"}, element.tag
        for attr, value in element.attrs.items():
            assert attr != "src" and not attr.startswith("on"), (element.tag, attr)
            if attr.endswith("href"):  # a fragment, or an image inlined by matplotlib (a colour bar)
                assert (value or "").startswith(("#", "data:image/png;base64,")), (element.tag, attr, value[:40])
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", full_page, flags=re.I)
    styles = "".join(s.all_text() for s in page.find_all("style"))
    assert "@import" not in styles and "url(" not in styles


def test_one_parameter_draws_the_metric_by_value():
    rows = ranked([row(f"g{i}", {STOP: v}, 3.0 - abs(v - 2)) for i, v in enumerate([1.0, 1.5, 2.0, 2.5])])
    figures = parse(render_sweep_report(make_report(rows, parameters=(STOP,)))).figures()
    assert "by-value" in figures and not any(k.startswith("heatmap") for k in figures)
    assert figures["by-value"].find_all("svg")
    text = ranked([row(f"g{i}", {MODE: v}, float(i)) for i, v in enumerate(["slow", "fast", "mid"])])
    figures = parse(render_sweep_report(make_report(text, parameters=(MODE,)))).figures()
    assert figures["by-value"].find_all("svg")


def test_a_large_grid_is_drawn_as_one_image(monkeypatch):
    monkeypatch.setattr(sweepreport, "MAX_VECTOR_CELLS", 4)
    html = render_sweep_report(make_report(three_parameter_grid(), parameters=(STOP, PERIOD)))
    figure = parse(html).figures()["heatmap-1"]
    assert figure.find_all("image") and BROKEN not in html


def test_the_ranking_is_capped_with_a_note():
    rows = ranked([row(f"g{i:04d}", {STOP: float(i), MODE: "a"}, float(i)) for i in range(MAX_TABLE_ROWS + 5)])
    page = parse(render_sweep_report(make_report(rows, parameters=(STOP, MODE))))
    assert len(page.find(id="ranking-table").find_all("tr")) == 1 + MAX_TABLE_ROWS
    assert f"best {MAX_TABLE_ROWS} of {MAX_TABLE_ROWS + 5}" in page.find(id="ranking-capped").all_text()


# ------------------------------------------------------------------ thin inputs


def thin_cases() -> dict[str, SweepReport]:
    one = ranked([row("g0", {STOP: 1.0, MODE: "fast"}, 2.0)])
    invalid = [row(f"g{i}", {STOP: float(i), MODE: "fast"}, None, status="invalid") for i in range(3)]
    failed = [row("g9", {STOP: 1.0, MODE: "fast"}, None, status="failed", problems="worker died twice")]
    nan = ranked([row(f"g{i}", {STOP: float(i), MODE: "fast"}, float("nan")) for i in range(3)])
    return {
        "empty": make_report([]),
        "one-replayed": make_report(one, curves={"g0": [[T0, 10_000.0]]}),
        "all-invalid": make_report(invalid + failed),
        "nan-metrics": make_report(nan, curves={"g0": []}),
        "no-parameters": make_report(one, parameters=()),
        "no-walk-forward-one-parameter": make_report(one, parameters=(STOP,)),
        "odd": make_report(
            [{"variant": "x", "status": "ok", "values": "not a mapping", "metric": "high"}, "not a row"],
            goal="sideways",
            curves={"x": "nonsense", "ghost": [[T0, 1.0], [T0 + 60, math.inf], [T0 + 120, 2.0]]},
            windows=({"fit_from": math.nan},),
        ),
    }


@pytest.mark.parametrize("name", list(thin_cases()))
def test_thin_inputs_render_with_notes(name):
    html = render_sweep_report(thin_cases()[name])
    page = parse(html)
    assert BROKEN not in html
    for kind, figure in page.figures().items():
        drawn = figure.find_all("svg")
        notes = [p for p in figure.find_all("p") if p.attrs.get("class") == "note"]
        assert drawn or (notes and notes[0].all_text().strip()), (name, kind)


def test_thin_inputs_say_why():
    cases = thin_cases()
    empty = parse(render_sweep_report(cases["empty"]))
    assert "no heatmap to draw" in empty.find(id="surface").all_text()
    assert "no distribution to draw" in empty.find(id="distribution").all_text()
    assert "No equity curve was kept" in empty.find(id="equity").all_text()
    assert empty.find(id="ranking-none") and empty.find(id="problems-none")
    assert "No walk-forward" in empty.find(id="overfitting-none").all_text()
    one = parse(render_sweep_report(cases["one-replayed"]))
    assert "Only one variant (g0)" in one.find(id="distribution").all_text()
    assert "fewer than two points" in one.find(id="equity").all_text()
    assert one.figures()["heatmap-1"].find_all("svg")  # a 1 × 1 grid is still a grid
    invalid = parse(render_sweep_report(cases["all-invalid"]))
    assert "0 replayed, 3 invalid, 1 failed" in invalid.find(id="sweep-facts").all_text()
    assert "worker died twice" in invalid.find(id="problems-table").all_text()
    nan = parse(render_sweep_report(cases["nan-metrics"]))
    assert "3 replayed without a usable net_pnl_pct" in nan.find(id="sweep-facts").all_text()
    assert "varies no parameter" in parse(render_sweep_report(cases["no-parameters"])).find(id="surface").all_text()


def test_without_matplotlib_the_page_still_renders(monkeypatch):
    def missing():
        raise ImportError("No module named 'matplotlib'")

    monkeypatch.setattr(charts, "matplotlib_api", missing)
    page = parse(render_sweep_report(make_report(three_parameter_grid())))
    for figure in page.figures().values():
        assert "Charts need matplotlib" in figure.all_text() and not figure.find_all("svg")


# ------------------------------------------------------------------ escaping


def test_user_text_is_escaped():
    hostile = "<script>alert(1)</script>"
    rows = ranked(
        [
            row("g0", {STOP: 1.0, MODE: hostile}, 2.0),
            row("g1", {STOP: 2.0, MODE: "<img src=x onerror=alert(2)>"}, 1.0),
            row("g2", {STOP: 3.0, MODE: "fast"}, None, status="invalid", problems="</td><script>alert(3)</script>"),
        ]
    )
    report = make_report(
        rows,
        parameters=(STOP, MODE),
        name='"><b>stops</b>',
        rules_version='rs-"><svg onload=alert(4)>',
        snapshots=("data/a&b <c>.parquet",),
        curves=curves_of(rows, 2),
    )
    html = render_sweep_report(report)
    page = parse(html)
    for needle in ("<script", "<img", "<b>stops", "<svg onload", "<c>"):
        assert needle not in html, needle
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert hostile in page.find(id="ranking-table").all_text()  # shown as text, not run
    assert "</td><script>alert(3)</script>" in page.find(id="problems-table").all_text()
    assert page.find("meta", name="rulebot-version").attrs["content"] == 'rs-"><svg onload=alert(4)>'
    assert BROKEN not in html
