"""The HTML report of `rulebot sweep`: one page that says which values won and whether to trust it.

A ranked table alone hides the two things a sweep is for: how the metric moves with the
parameters (a lone peak among poor neighbours is luck; a broad plateau is a setting) and whether
the in-sample winner still wins out of sample. So the page shows heatmaps of the best metric over
each pair of parameters, the metric's distribution, the best variants' equity curves and an
overfitting warning (``overfitting``, which the CLI prints too) beside the ranked table.

``render_sweep_report(report)`` takes a :class:`SweepReport` and returns the page: self-contained
(inline CSS and inline SVG drawn by matplotlib's object API, no script, no network), filled by
``templates/sweep.html.j2`` with autoescaping on. It shares the dry-run report's chart and
formatting helpers (engine/report/charts.py) so both reports look and behave alike, and it never
raises on thin input (no variant replayed, one parameter, no walk-forward, NaN metrics): what
cannot be drawn is replaced by a note saying why.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jinja2
import numpy as np

from engine.report import charts
from engine.sweeps.spec import METRICS

MAX_HEATMAPS = 6  # parameter pairs drawn (those with the most distinct values): more is a wall nobody reads
MAX_TABLE_ROWS = 200  # per table; ranking.csv has every row
MAX_CURVES = 10  # equity curves on one chart before the lines can no longer be told apart
MAX_ANNOTATED_CELLS = 150  # a heatmap prints its numbers in the cells up to this many cells …
MAX_ANNOTATED_COLUMNS = 16  # … and columns (beyond, the numbers no longer fit their cells)
MAX_VECTOR_CELLS = 2_500  # larger grids are drawn as one image: ~200 bytes of SVG per vector cell
MAX_TICKS = 30  # tick labels per heatmap axis
#: Fewer variants with both ranks than this say nothing: two points always correlate ±1.
MIN_PAIRED = 3
#: Below this Spearman correlation the in-sample order explains little of the out-of-sample one
#: (ρ² < 0.25): the ranking mostly reflects the fitting window's noise, not the parameters.
MIN_RANK_CORRELATION = 0.5

_KINDS = {key: (label, kind) for key, label, kind, _better in charts.METRICS}


@dataclass(frozen=True)
class SweepReport:
    """Everything the page shows; `rulebot sweep` builds it from the ranked rows."""

    name: str  # the spec's name
    metric: str  # one of engine.sweeps.spec.METRICS
    goal: str  # "max" | "min"
    method: str  # "grid" | "random" | "optuna"
    parameters: tuple[str, ...]  # parameter paths
    rows: tuple[Mapping[str, Any], ...]  # ranked, best first (invalid and failed ones after)
    curves: Mapping[str, Sequence[Sequence[float]]]  # variant id -> [[ts, equity_usd], ...]
    windows: tuple[Mapping[str, float], ...] = ()  # walk-forward steps (fit_from/fit_to/score_from/score_to)
    rules_version: str = ""
    snapshots: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)
class Grid:
    """The best metric per (x value, y value) over every other parameter."""

    x: str
    y: str
    xs: tuple[Any, ...]  # the x parameter's values, sorted (numbers numerically, then the rest as text)
    ys: tuple[Any, ...]
    best: np.ndarray  # shape (len(ys), len(xs)); NaN where no replayed variant has a usable metric


@dataclass(frozen=True)
class RankAgreement:
    """How far the in-sample ranks agree with the out-of-sample ones."""

    n: int  # variants with both ranks
    correlation: float  # Spearman's; NaN when one side's ranks are all tied
    best: str  # the in-sample best variant (of those n)
    best_oos: int  # its out-of-sample position among the n: 1 is the best


# ------------------------------------------------------------------ public API


def render_sweep_report(report: SweepReport) -> str:
    """The whole page for ``report``; write it with UTF-8."""
    rows = [r for r in report.rows or () if isinstance(r, Mapping)]
    goal = "min" if report.goal == "min" else "max"
    parameters = [str(p) for p in report.parameters or ()]
    windows = _windows(report.windows or ())
    walk_forward = bool(windows) or any(
        charts.num(r.get("oos_rank")) is not None or charts.num(r.get("oos_metric")) is not None for r in rows
    )
    names = _short_names(parameters)
    context = {
        "title": f"rulebot sweep: {report.name}",
        "name": report.name,
        "rules_version": report.rules_version,
        "generator": f"rulebot {charts.package_version()}",
        "facts": _facts(report, rows, parameters, goal),
        "snapshots": [str(s) for s in report.snapshots or ()],
        "windows": windows,
        "walk_forward": walk_forward,
        "overfitting": overfitting(rows),
        "agreement": _agreement_note(rows, walk_forward),
        "charts": _charts(report, rows, parameters, names, goal, walk_forward),
        "ranking": _ranking(report, rows, parameters, names, walk_forward),
        "problems": _problems(rows, parameters, names),
        "max_rows": MAX_TABLE_ROWS,
    }
    return _template().render(**context)


def overfitting(rows: Iterable[Mapping[str, Any]]) -> str | None:
    """A warning when in-sample and out-of-sample ranks disagree, else None (also without a
    walk-forward, or with fewer than ``MIN_PAIRED`` variants ranked both ways).

    It warns when the Spearman correlation of the two ranks is below ``MIN_RANK_CORRELATION``,
    or when the in-sample best ranks in the worse half out of sample."""
    agreement = rank_agreement(rows)
    if agreement is None:
        return None
    low = math.isfinite(agreement.correlation) and agreement.correlation < MIN_RANK_CORRELATION
    worse_half = agreement.best_oos > math.ceil(agreement.n / 2)
    if not (low or worse_half):
        return None
    findings = []
    if low:
        findings.append(
            f"the Spearman correlation of the two ranks is {agreement.correlation:.2f} over {agreement.n} variants "
            f"(below {MIN_RANK_CORRELATION})"
        )
    if worse_half:
        findings.append(
            f"the in-sample best, {agreement.best}, ranks {agreement.best_oos} of {agreement.n} out of sample "
            "(in the worse half)"
        )
    return (
        "Possible overfitting: in-sample and out-of-sample ranks disagree: "
        + "; ".join(findings)
        + ". The in-sample best values may fit the fitting window's noise; prefer values that rank well in both."
    )


def rank_agreement(rows: Iterable[Mapping[str, Any]]) -> RankAgreement | None:
    """The agreement of ``rank`` and ``oos_rank`` over the rows having both (re-ranked among
    them, ties averaged); None with fewer than ``MIN_PAIRED`` such rows."""
    paired = []
    for row in rows:
        rank, oos = charts.num(row.get("rank")), charts.num(row.get("oos_rank"))
        if rank is not None and oos is not None:
            paired.append((rank, oos, str(row.get("variant", "?"))))
    if len(paired) < MIN_PAIRED:
        return None
    in_sample = _average_ranks(np.array([p[0] for p in paired]))
    out_of_sample = _average_ranks(np.array([p[1] for p in paired]))
    correlation = math.nan
    if in_sample.std() > 0 and out_of_sample.std() > 0:
        correlation = float(np.corrcoef(in_sample, out_of_sample)[0, 1])
    best = min(range(len(paired)), key=lambda i: (paired[i][0], paired[i][2]))
    position = 1 + sum(1 for p in paired if p[1] < paired[best][1])
    return RankAgreement(n=len(paired), correlation=correlation, best=paired[best][2], best_oos=position)


def heatmap_grid(rows: Iterable[Mapping[str, Any]], x: str, y: str, goal: str = "max") -> Grid:
    """The best in-sample ``metric`` (the highest, or the lowest for ``goal`` "min") of the
    replayed rows at each (x value, y value), whatever the other parameters. The axes hold
    every value any row has (an invalid or failed one too), so such a cell stays blank (NaN)."""
    (ys, xs), best = _best_over(list(rows), (y, x), goal)
    return Grid(x=x, y=y, xs=xs, ys=ys, best=best)


def metric_by_value(
    rows: Iterable[Mapping[str, Any]], path: str, goal: str = "max"
) -> tuple[tuple[Any, ...], np.ndarray]:
    """The sorted values of ``path`` and the best in-sample metric at each (NaN: none replayed)."""
    (values,), best = _best_over(list(rows), (path,), goal)
    return values, best


def heatmap_pairs(
    rows: Iterable[Mapping[str, Any]], parameters: Sequence[str], limit: int = MAX_HEATMAPS
) -> list[tuple[str, str]]:
    """The (x, y) parameter pairs to draw: at most ``limit``, those with the most distinct
    value combinations first (the spec's order among equals); x is the one with more values."""
    rows = list(rows)
    distinct = {p: len(_axis(rows, p)) for p in parameters}
    pairs = sorted(itertools.combinations(parameters, 2), key=lambda pair: -distinct[pair[0]] * distinct[pair[1]])
    return [(a, b) if distinct[a] >= distinct[b] else (b, a) for a, b in pairs[:limit]]


# ------------------------------------------------------------------ values and grids


def _value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.10g}"
    return str(value)


def _value_key(value: Any) -> tuple[int, Any]:
    """A sort and identity key: numbers by value (so 2 and 2.0 are one), the rest by their text
    (so true is not 1)."""
    number = None if isinstance(value, bool) else charts.num(value)
    return (0, number) if number is not None else (1, _value_text(value))


def _axis(rows: list[Mapping[str, Any]], path: str) -> tuple[Any, ...]:
    """Every value of ``path`` in ``rows``, sorted, one per key."""
    seen: dict[tuple[int, Any], Any] = {}
    for row in rows:
        values = row.get("values")
        if isinstance(values, Mapping) and path in values:
            seen.setdefault(_value_key(values[path]), values[path])
    return tuple(seen[k] for k in sorted(seen))


def _best_over(
    rows: list[Mapping[str, Any]], paths: tuple[str, ...], goal: str
) -> tuple[tuple[tuple[Any, ...], ...], np.ndarray]:
    """The axes of ``paths`` and an array over them of the best metric of the replayed rows."""
    axes = tuple(_axis(rows, p) for p in paths)
    index = [{_value_key(v): i for i, v in enumerate(axis)} for axis in axes]
    best = np.full(tuple(len(a) for a in axes), np.nan)
    pick = np.fmin if goal == "min" else np.fmax  # NaN-ignoring
    for row in rows:
        values, metric = row.get("values"), charts.num(row.get("metric"))
        if row.get("status") != "ok" or metric is None or not isinstance(values, Mapping):
            continue
        if all(p in values for p in paths):
            cell = tuple(ix[_value_key(values[p])] for ix, p in zip(index, paths))
            best[cell] = pick(best[cell], metric)
    return axes, best


def _best_row(rows: Iterable[Mapping[str, Any]], field: str, goal: str) -> Mapping[str, Any] | None:
    """The replayed row with the best ``field`` (ties: the first variant id, as the ranking breaks them)."""
    sign = 1.0 if goal == "min" else -1.0
    scored = [
        (sign * v, str(r.get("variant")), r)
        for r in rows
        if r.get("status") == "ok" and (v := charts.num(r.get(field))) is not None
    ]
    return min(scored, key=lambda t: t[:2])[2] if scored else None


def _average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks of ``values``, ties sharing their average rank."""
    order = np.argsort(values, kind="stable")
    _, first, counts = np.unique(values[order], return_index=True, return_counts=True)
    ranks = np.empty(len(values))
    ranks[order] = np.repeat(first + (counts - 1) / 2.0 + 1.0, counts)
    return ranks


def _short_names(paths: Sequence[str]) -> dict[str, str]:
    """Each path's shortest dotted suffix that no other path ends with (``loss_pct``)."""
    names = {}
    for path in paths:
        parts = path.split(".")
        suffixes = (".".join(parts[-k:]) for k in range(1, len(parts)))
        unique = (n for n in suffixes if not any(o != path and (o == n or o.endswith("." + n)) for o in paths))
        names[path] = next(unique, path)
    return names


def _as_mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _values_text(values: Any, parameters: Sequence[str], names: Mapping[str, str]) -> str:
    if not isinstance(values, Mapping):
        return "—"
    return ", ".join(f"{names.get(p, p)} = {_value_text(values.get(p))}" for p in parameters if p in values) or "—"


# ------------------------------------------------------------------ metric formatting


def _metric_label(metric: str) -> str:
    return _KINDS.get(metric, (metric.replace("_", " "), "generic"))[0]


def _metric_text(value: Any, metric: str) -> str:
    return charts.metric_text(charts.num(value), _KINDS.get(metric, ("", "generic"))[1])


def _cell_number(value: float, metric: str) -> str:
    """A number short enough for a heatmap cell."""
    if _KINDS.get(metric, ("", ""))[1] == "count":
        return charts.fixed(value, 0)
    magnitude = abs(value)
    return charts.fixed(value, 0 if magnitude >= 100 else 1 if magnitude >= 10 else 2)


# ------------------------------------------------------------------ header and tables


def _facts(
    report: SweepReport, rows: list[Mapping[str, Any]], parameters: list[str], goal: str
) -> list[tuple[str, str]]:
    statuses = [r.get("status") for r in rows]
    replayed = [r for r in rows if r.get("status") == "ok"]
    unusable = sum(1 for r in replayed if charts.num(r.get("metric")) is None)
    counts = (
        f"{len(rows):,} finished: {statuses.count('ok'):,} replayed, {statuses.count('invalid'):,} invalid, "
        f"{statuses.count('failed'):,} failed"
    )
    other = len(rows) - sum(statuses.count(s) for s in ("ok", "invalid", "failed"))
    if other:
        counts += f", {other:,} with another status"
    if unusable:
        counts += f" ({unusable:,} replayed without a usable {report.metric}, ranked last)"
    facts = [
        ("Sweep", report.name or "—"),
        ("Search", report.method or "—"),
        (
            "Ranked by",
            f"{report.metric}: {_metric_label(report.metric)}; {'lower' if goal == 'min' else 'higher'} is better",
        ),
        ("Parameters", ", ".join(parameters) or "—"),
        ("Variants", counts),
        ("Rule-set version", report.rules_version or "—"),
    ]
    best = _best_row(replayed, "metric", goal)
    if best is not None:
        names = _short_names(parameters)
        facts.append(
            (
                "Best variant (in sample)",
                f"{best.get('variant')}: {_values_text(best.get('values'), parameters, names)} "
                f"→ {_metric_text(best.get('metric'), report.metric)}",
            )
        )
    return facts


def _windows(windows: Iterable[Mapping[str, float]]) -> list[list[str]]:
    out = []
    for number, window in enumerate(windows, 1):
        if isinstance(window, Mapping):
            out.append(
                [str(number), *(charts.iso(window.get(k)) for k in ("fit_from", "fit_to", "score_from", "score_to"))]
            )
    return out


def _agreement_note(rows: list[Mapping[str, Any]], walk_forward: bool) -> str:
    """What the page says about overfitting when ``overfitting`` does not warn."""
    agreement = rank_agreement(rows)
    if agreement is not None:
        correlation = "undefined (tied ranks)" if math.isnan(agreement.correlation) else f"{agreement.correlation:.2f}"
        return (
            f"In-sample and out-of-sample ranks agree: Spearman correlation {correlation} over {agreement.n} "
            f"variants; the in-sample best, {agreement.best}, ranks {agreement.best_oos} of {agreement.n} out of sample."
        )
    if walk_forward:
        return (
            f"Fewer than {MIN_PAIRED} variants have both an in-sample and an out-of-sample rank: "
            "whether the ranking overfits cannot be judged."
        )
    return (
        "No walk-forward: every rank is in sample (the whole window), so whether the best values overfit "
        "cannot be judged here. A walk-forward sweep ranks each variant on a window it was not fitted on."
    )


def _cell(text: str, cls: str = "", title: str = "") -> dict[str, str]:
    return {"text": text, "cls": cls, "title": title}


def _ranking(
    report: SweepReport,
    rows: list[Mapping[str, Any]],
    parameters: list[str],
    names: Mapping[str, str],
    walk_forward: bool,
) -> dict[str, Any]:
    replayed = [r for r in rows if r.get("status") == "ok"]
    shown = replayed[:MAX_TABLE_ROWS]
    present = {k for r in shown for k in _as_mapping(r.get("metrics"))}
    others = [m for m in METRICS if m in present and m != report.metric]
    others += sorted(m for m in present if m not in METRICS and m != report.metric)
    columns = [_cell("rank", "num"), _cell("variant")]
    columns += [_cell(names[p], "param", p) for p in parameters]
    columns.append(_cell(report.metric, "num key", _metric_label(report.metric) + " (in sample)"))
    if walk_forward:
        columns += [
            _cell("oos rank", "num", "Out-of-sample rank"),
            _cell("oos " + report.metric, "num", "Out of sample"),
        ]
    columns += [_cell(m, "num", _metric_label(m)) for m in others]
    columns.append(_cell("fingerprint"))
    table = []
    for row in shown:
        values, metrics = _as_mapping(row.get("values")), _as_mapping(row.get("metrics"))
        rank = charts.num(row.get("rank"))
        cells = [_cell("—" if rank is None else f"{rank:.0f}", "num"), _cell(str(row.get("variant", "—")), "mono")]
        cells += [_cell(_value_text(values.get(p)) if p in values else "—", "mono") for p in parameters]
        cells.append(_cell(_metric_text(row.get("metric"), report.metric), "num key"))
        if walk_forward:
            oos_rank = charts.num(row.get("oos_rank"))
            cells.append(_cell("—" if oos_rank is None else f"{oos_rank:.0f}", "num"))
            cells.append(_cell(_metric_text(row.get("oos_metric"), report.metric), "num"))
        cells += [_cell(_metric_text(metrics.get(m), m), "num") for m in others]
        fingerprint = str(row.get("fingerprint") or "—")
        cells.append(_cell(charts.short(fingerprint.removeprefix("sha256:"), 13), "mono", fingerprint))
        table.append(cells)
    return {"columns": columns, "rows": table, "total": f"{len(replayed):,}", "capped": len(replayed) > len(shown)}


def _problems(rows: list[Mapping[str, Any]], parameters: list[str], names: Mapping[str, str]) -> dict[str, Any]:
    """The variants that did not replay (invalid, failed), with their values and why."""
    bad = [r for r in rows if r.get("status") != "ok"]
    table = [
        [
            _cell(str(r.get("variant", "—")), "mono"),
            _cell(str(r.get("status", "—")), "loss"),
            _cell(_values_text(r.get("values"), parameters, names), "mono"),
            _cell(str(r.get("problems") or "—")),
        ]
        for r in bad[:MAX_TABLE_ROWS]
    ]
    return {"rows": table, "total": f"{len(bad):,}", "capped": len(bad) > MAX_TABLE_ROWS}


# ------------------------------------------------------------------ charts


def _charts(
    report: SweepReport,
    rows: list[Mapping[str, Any]],
    parameters: list[str],
    names: Mapping[str, str],
    goal: str,
    walk_forward: bool,
) -> dict[str, Any]:
    """{"surface": [...], "surface_note": str, "distribution": [...], "equity": [...]}: every
    figure, drawn or explained. Each is drawn on its own; one that fails says so."""
    metric = report.metric
    better = "lowest" if goal == "min" else "highest"
    drawers: list[tuple[charts.Chart, Callable[[Any], Any]]] = []
    surface: list[charts.Chart] = []
    surface_note = ""
    if not parameters:
        surface_note = "The spec varies no parameter: there is nothing to draw the metric against."
    elif len(parameters) == 1:
        path = parameters[0]
        chart = charts.Chart(
            "by-value",
            "chart-by-value",
            f"{metric} by {names[path]}",
            f"The {better} {metric} of the replayed variants at each value of {path}.",
        )
        values, best = metric_by_value(rows, path, goal)
        drawers.append(
            (chart, functools.partial(_draw_by_value, path=path, values=values, best=best, goal=goal, metric=metric))
        )
        surface.append(chart)
    else:
        pairs = heatmap_pairs(rows, parameters)
        total = len(parameters) * (len(parameters) - 1) // 2
        if total > len(pairs):
            surface_note = (
                f"Heatmaps are drawn for the {len(pairs)} parameter pairs with the most distinct values; "
                f"{total - len(pairs)} more pairs are left out."
            )
        for number, (x, y) in enumerate(pairs, 1):
            grid = heatmap_grid(rows, x, y, goal)
            others = [p for p in parameters if p not in (x, y)]
            over = f", over every value of {', '.join(names[p] for p in others)}" if others else ""
            blank = int(np.isnan(grid.best).sum())
            caption = f"The {better} {metric} of the replayed variants at each ({x}, {y}){over}."
            if blank and np.isfinite(grid.best).any():
                caption += (
                    f" {blank:,} of {grid.best.size:,} cells are blank: no variant there was replayed with a usable "
                    f"{metric} (not drawn by the search, invalid or failed)."
                )
            chart = charts.Chart(
                f"heatmap-{number}", f"chart-heatmap-{number}", f"{metric} over {names[x]} × {names[y]}", caption
            )
            drawers.append((chart, functools.partial(_draw_heatmap, grid=grid, goal=goal, metric=metric)))
            surface.append(chart)

    replayed = [r for r in rows if r.get("status") == "ok"]
    distribution = [
        charts.Chart(
            "distribution",
            "chart-distribution",
            f"Distribution of {metric}" + (" (in sample)" if walk_forward else ""),
            f"How many replayed variants reached each value of {metric}; the line marks the best.",
        )
    ]
    drawers.append(
        (
            distribution[0],
            functools.partial(_draw_distribution, rows=replayed, field="metric", metric=metric, goal=goal),
        )
    )
    if walk_forward:
        distribution.append(
            charts.Chart(
                "distribution-oos",
                "chart-distribution-oos",
                f"Distribution of {metric} out of sample",
                "The same over the scoring windows; the lines mark the out-of-sample best and where the in-sample best landed.",
            )
        )
        drawers.append(
            (
                distribution[1],
                functools.partial(_draw_distribution, rows=replayed, field="oos_metric", metric=metric, goal=goal),
            )
        )

    curves = _curves(report.curves, rows, parameters, names)
    equity = [
        charts.Chart(
            "equity",
            "chart-equity",
            "Equity of the best variants",
            "Account equity (USD) of the best few variants over the snapshots, labelled with their rank and values.",
        )
    ]
    drawers.append((equity[0], functools.partial(_draw_curves, curves=curves)))

    try:
        mpl = charts.matplotlib_api()
    except ImportError as exc:
        for chart, _drawer in drawers:
            chart.note = f"Charts need matplotlib, which is not installed here ({exc})."
    else:
        for chart, drawer in drawers:
            charts.draw(mpl, chart, functools.partial(drawer, mpl))
    return {"surface": surface, "surface_note": surface_note, "distribution": distribution, "equity": equity}


def _ticks(mpl: Any, axis: Any, values: tuple[Any, ...], rotate: bool = False) -> None:
    """A category axis: every value's text at its index (every k-th beyond ``MAX_TICKS``)."""
    step = max(1, math.ceil(len(values) / MAX_TICKS))
    positions = list(range(0, len(values), step))
    labels = [charts.short(_value_text(values[i]), 16) for i in positions]
    if rotate:
        axis.set_ticks(positions, labels, rotation=45, ha="right", rotation_mode="anchor")
    else:
        axis.set_ticks(positions, labels)
    axis.set_minor_locator(mpl.mticker.NullLocator())


def _draw_heatmap(mpl: Any, grid: Grid, goal: str, metric: str) -> Any:
    ny, nx = grid.best.shape
    filled = np.isfinite(grid.best)
    if not filled.any():
        return f"No variant with values of {grid.x} and {grid.y} was replayed with a usable {metric}: there is no heatmap to draw."
    figure, ax = charts.figure(mpl, min(9.0, max(charts.FIGSIZE[1], 0.32 * ny + 1.8)))
    cmap = mpl.matplotlib.colormaps["RdYlGn_r" if goal == "min" else "RdYlGn"]
    low, high = float(grid.best[filled].min()), float(grid.best[filled].max())
    if low == high:
        low, high = low - 1.0, high + 1.0
    norm = mpl.matplotlib.colors.Normalize(low, high)
    if grid.best.size <= MAX_VECTOR_CELLS:
        row, col = np.nonzero(filled)
        corners = np.array([(-0.5, -0.5), (0.5, -0.5), (0.5, 0.5), (-0.5, 0.5)])
        verts = np.stack([col, row], axis=1)[:, None, :] + corners[None, :, :]
        artist = mpl.matplotlib.collections.PolyCollection(
            verts, array=grid.best[filled], cmap=cmap, norm=norm, edgecolors="white", linewidths=0.6
        )
        ax.add_collection(artist)
    else:
        artist = ax.imshow(
            np.ma.masked_invalid(grid.best),
            cmap=cmap,
            norm=norm,
            interpolation="nearest",
            origin="lower",
            aspect="auto",
            extent=(-0.5, nx - 0.5, -0.5, ny - 0.5),
        )
    ax.set_xlim(-0.5, nx - 0.5)
    ax.set_ylim(-0.5, ny - 0.5)
    ax.grid(False)
    _ticks(mpl, ax.xaxis, grid.xs, rotate=nx > 8 or any(len(_value_text(v)) > 6 for v in grid.xs))
    _ticks(mpl, ax.yaxis, grid.ys)
    ax.set_xlabel(charts.short(grid.x, 80))
    ax.set_ylabel(charts.short(grid.y, 50))
    if filled.sum() <= MAX_ANNOTATED_CELLS and nx <= MAX_ANNOTATED_COLUMNS:
        for i, j in zip(*np.nonzero(filled)):
            value = float(grid.best[i, j])
            r, g, b, _a = cmap(norm(value))
            dark = 0.299 * r + 0.587 * g + 0.114 * b < 0.5
            ax.text(
                j,
                i,
                _cell_number(value, metric),
                ha="center",
                va="center",
                fontsize=7.5,
                color="white" if dark else "#1b1f24",
            )
    bar = figure.colorbar(artist, ax=ax, fraction=0.04, pad=0.02)
    bar.set_label(f"best {metric}")
    return figure


def _draw_by_value(mpl: Any, path: str, values: tuple[Any, ...], best: np.ndarray, goal: str, metric: str) -> Any:
    finite = np.isfinite(best)
    if not finite.any():
        return f"No variant was replayed with a usable {metric}: there is no chart of it by {path} to draw."
    figure, ax = charts.figure(mpl)
    numeric = all(_value_key(v)[0] == 0 for v in values)
    winner = int(np.nanargmin(best) if goal == "min" else np.nanargmax(best))
    if numeric:
        x = np.array([float(v) for v in values])
        ax.plot(
            x, best, color=charts.COLOR_A, linewidth=1.3, marker="o", markersize=4, label=f"best {metric} at each value"
        )
        ax.xaxis.set_major_formatter(mpl.Thousands())
    else:
        x = np.arange(len(values), dtype=float)
        ax.bar(x[finite], best[finite], color=charts.COLOR_A, width=0.7, label=f"best {metric} at each value")
        _ticks(mpl, ax.xaxis, values, rotate=len(values) > 8 or any(len(_value_text(v)) > 8 for v in values))
        ax.grid(axis="x", visible=False)
    ax.scatter(
        [x[winner]],
        [best[winner]],
        s=70,
        marker="*",
        color=charts.COLOR_LOSS,
        zorder=5,
        label=f"best: {_value_text(values[winner])}",
    )
    ax.yaxis.set_major_formatter(mpl.Thousands())
    ax.set_xlabel(charts.short(path, 80))
    ax.set_ylabel(metric)
    charts.legend(ax)
    return figure


def _draw_distribution(mpl: Any, rows: list[Mapping[str, Any]], field: str, metric: str, goal: str) -> Any:
    what = f"{metric} out of sample" if field == "oos_metric" else metric
    scored = [(v, r) for r in rows if (v := charts.num(r.get(field))) is not None]
    if not scored:
        return f"No variant was replayed with a usable {what}: there is no distribution to draw."
    if len(scored) == 1:
        value, row = scored[0]
        return (
            f"Only one variant ({row.get('variant')}) was replayed with a usable {what} "
            f"({_metric_text(value, metric)}): there is no distribution to draw."
        )
    values = np.array([v for v, _r in scored])
    figure, ax = charts.figure(mpl)
    bins = int(min(40, max(5, math.ceil(2 * math.sqrt(len(values))))))
    ax.hist(values, bins=bins, color=charts.COLOR_A, alpha=0.75, edgecolor="white", linewidth=0.5)
    marks = [(_best_row(rows, field, goal), "#2ca02c", "-", "best")]
    if field == "oos_metric":  # where the in-sample winner landed
        marks.append((_best_row([r for _v, r in scored], "metric", goal), charts.COLOR_LOSS, "--", "in-sample best"))
    for best, color, style, whose in marks:
        at = None if best is None else charts.num(best.get(field))
        if best is not None and at is not None:
            label = f"{whose}: {best.get('variant')} ({_metric_text(at, metric)})"
            ax.axvline(at, color=color, linestyle=style, linewidth=1.4, label=label)
    ax.xaxis.set_major_formatter(mpl.Thousands())
    ax.yaxis.set_major_locator(mpl.mticker.MaxNLocator(integer=True))
    ax.set_xlabel(what)
    ax.set_ylabel("variants")
    ax.grid(axis="x", visible=False)
    charts.legend(ax)
    return figure


def _curves(
    kept: Any, rows: list[Mapping[str, Any]], parameters: list[str], names: Mapping[str, str]
) -> list[tuple[str, tuple[np.ndarray, np.ndarray]]]:
    """The kept equity curves, best rank first, each with its legend label."""
    by_id = {str(r.get("variant")): r for r in rows}
    curves = _as_mapping(kept)

    def order(variant: str) -> tuple[float, str]:
        rank = charts.num(by_id.get(variant, {}).get("rank"))
        return (math.inf if rank is None else rank, variant)

    out = []
    for variant in sorted((str(v) for v in curves), key=order)[:MAX_CURVES]:
        row = by_id.get(variant, {})
        rank = charts.num(row.get("rank"))
        label = ("" if rank is None else f"#{rank:.0f} ") + variant
        values = _values_text(row.get("values"), parameters, names)
        if values != "—":
            label += f": {values}"
        out.append((charts.short(label, 110), charts.series(curves[variant])))
    return out


def _draw_curves(mpl: Any, curves: list[tuple[str, tuple[np.ndarray, np.ndarray]]]) -> Any:
    if not curves:
        return "No equity curve was kept for this sweep (the best variants' curves are kept when they are replayed)."
    drawable = [(label, series) for label, series in curves if len(series[0]) >= 2]
    if not drawable:
        return "The kept equity curves have fewer than two points each: there is no curve to draw."
    figure, ax = charts.figure(mpl, charts.FIGSIZE[1] + 0.22 * len(drawable) + 0.6)
    palette = mpl.matplotlib.colormaps["tab10"]
    for i, (label, (x, y)) in enumerate(drawable):
        x, y = charts.decimate(x, y)
        ax.plot(
            charts.dates(mpl, x),
            y,
            color=palette(i % 10),
            linewidth=1.8 if i == 0 else 1.1,
            label=label,
            zorder=3 if i == 0 else 2,
        )
    charts.time_axis(mpl, ax)
    ax.yaxis.set_major_formatter(mpl.Thousands())
    ax.set_ylabel("equity (USD)")
    ax.legend(loc="upper left", bbox_to_anchor=(0.0, -0.16), ncols=1, frameon=False, borderaxespad=0.0)
    return figure


# ------------------------------------------------------------------ template


@functools.lru_cache(maxsize=1)
def _template() -> jinja2.Template:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("engine.sweeps", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template("sweep.html.j2")
