"""The drawing and number-formatting pieces the dry-run report (``engine.report.html``) and the
sweep report (``engine.sweeps.report``) share, so that both pages look, format and degrade alike.

Charts are drawn with matplotlib's object API (imported lazily by ``matplotlib_api``: no pyplot,
no GUI backend, no global state) inside one rc context and inlined as SVG (``draw``); a chart
that cannot be drawn gets a note instead. Long lines are thinned by ``decimate``, which keeps
each bucket's extremes. ``num``, ``iso`` and ``metric_text`` take anything: what is missing or
not finite reads "—".
"""

from __future__ import annotations

import functools
import io
import math
import re
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, ClassVar

import numpy as np
from markupsafe import Markup, escape

from engine.common.times import iso_utc

MAX_POINTS = 2000  # per plotted line
FIGSIZE = (10.0, 3.5)  # inches
LABEL_CHARS = 40  # category labels inside charts are cut to this length

COLOR_A, COLOR_B = "#1f77b4", "#ff7f0e"
COLOR_WIN, COLOR_LOSS, COLOR_FLAT = "#2ca02c", "#d62728", "#7f7f7f"

# key, label, format, which way is better (+1 higher, -1 lower, 0 neither)
METRICS: tuple[tuple[str, str, str, int], ...] = (
    ("trades", "Trades (closed)", "count", 0),
    ("win_rate", "Win rate", "fraction", +1),
    ("net_pnl_usd", "Net P&L", "usd_signed", +1),
    ("net_pnl_pct", "Net P&L (% of starting equity)", "pct_signed", +1),
    ("max_drawdown_pct", "Max drawdown", "pct", -1),
    ("sharpe", "Sharpe (daily returns, annualised)", "ratio", +1),
    ("exposure_pct", "Exposure (% of cycles in a position)", "pct1", 0),
    ("fees_usd", "Fees paid", "usd", -1),
    ("funding_usd", "Funding paid (negative: received)", "usd_signed", -1),
    ("starting_equity_usd", "Starting equity", "usd", 0),
    ("ending_equity_usd", "Ending equity", "usd", +1),
)


# ------------------------------------------------------------------ numbers and text


def num(value: Any) -> float | None:
    """A finite float, or None for anything else (None, NaN, text, booleans)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def fixed(value: float, decimals: int, signed: bool = False) -> str:
    """``value`` with thousands separators and ``decimals`` decimals (a sign with ``signed``)."""
    text = f"{value:+,.{decimals}f}" if signed else f"{value:,.{decimals}f}"
    zero = f"{0:.{decimals}f}"
    return zero if text.lstrip("+-") == zero else text  # no "-0.00"


def metric_text(value: Any, kind: str) -> str:
    """A metric's value as the reports print it; ``kind`` is a format of ``METRICS``."""
    if kind == "text" or (not isinstance(value, (int, float)) or isinstance(value, bool)):
        if isinstance(value, dict):
            return ", ".join(f"{k}: {metric_text(v, 'generic')}" for k, v in value.items()) or "—"
        return "—" if value is None else str(value)
    v = num(value)
    if v is None:
        return "—"
    return {
        "count": lambda: fixed(v, 0),
        "fraction": lambda: f"{fixed(v * 100, 1)} %",
        "usd": lambda: f"{fixed(v, 2)} USD",
        "usd_signed": lambda: f"{fixed(v, 2, True)} USD",
        "pct": lambda: f"{fixed(v, 2)} %",
        "pct1": lambda: f"{fixed(v, 1)} %",
        "pct_signed": lambda: f"{fixed(v, 2, True)} %",
        "ratio": lambda: fixed(v, 2),
    }.get(kind, lambda: fixed(v, 0) if float(v).is_integer() and abs(v) < 1e15 else fixed(v, 4))()


def short(text: str, limit: int = LABEL_CHARS) -> str:
    """``text`` cut to ``limit`` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def iso(ts: Any) -> str:
    """ISO 8601 UTC (``2025-05-25T00:00:00Z``), or an em dash."""
    value = num(ts)
    if value is None:
        return "—"
    try:
        return iso_utc(value)
    except (OverflowError, OSError, ValueError):
        return "—"


def series(points: Any) -> tuple[np.ndarray, np.ndarray]:
    """[[ts, value], ...] as two float arrays sorted by ts, without unusable points."""
    xs: list[float] = []
    ys: list[float] = []
    for point in points if isinstance(points, (list, tuple)) else ():
        if isinstance(point, (list, tuple)) and len(point) >= 2:
            px, py = num(point[0]), num(point[1])
            if px is not None and py is not None:
                xs.append(px)
                ys.append(py)
    x, y = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    order = np.argsort(x, kind="stable")
    return x[order], y[order]


def decimate(x: np.ndarray, y: np.ndarray, max_points: int = MAX_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """At most ``max_points`` points of the line (x, y), x ascending: the first and the last
    point and, in each of ~max_points/2 equal index buckets, the lowest and the highest."""
    n = len(x)
    if n <= max_points or n < 3:
        return x, y
    buckets = max(1, (max_points - 2) // 2)
    size = math.ceil(n / buckets)
    buckets = math.ceil(n / size)
    pad = buckets * size - n
    padded = np.concatenate([y, np.full(pad, y[-1])]) if pad else y
    matrix = padded.reshape(buckets, size)
    base = np.arange(buckets) * size
    keep = np.concatenate([[0, n - 1], base + matrix.argmin(axis=1), base + matrix.argmax(axis=1)])
    keep = np.unique(np.minimum(keep, n - 1))
    return x[keep], y[keep]


@functools.lru_cache(maxsize=1)
def package_version() -> str:
    """rulebot's installed version, or "unknown"."""
    try:
        from importlib.metadata import version

        return version("rulebot")
    except Exception:
        return "unknown"


# ------------------------------------------------------------------ charts


@dataclass
class Chart:
    """One figure of a page: drawn (``svg``) or explained (``note``)."""

    kind: str  # the data-chart value
    id: str  # the element id
    title: str
    caption: str
    svg: Markup | None = None
    note: str = ""
    data: Markup | None = None  # zoomable chart: its JSON, drawn in the browser (the svg is then the fallback)


@functools.lru_cache(maxsize=1)
def matplotlib_api() -> SimpleNamespace:
    """matplotlib's object API, imported on first use (no pyplot: no backend, no global state)."""
    import matplotlib
    import matplotlib.dates as mdates
    import matplotlib.patches as mpatches
    import matplotlib.ticker as mticker
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    class Thousands(mticker.Formatter):
        """Tick labels with thousands separators and as few decimals as tell the ticks apart."""

        ticks: ClassVar[list[float]] = []

        def set_locs(self, locs):
            super().set_locs(locs)
            self.ticks = [float(v) for v in locs]

        def __call__(self, x, pos=None):
            locs = self.ticks or [float(x)]
            steps = [abs(b - a) for a, b in zip(locs, locs[1:]) if b != a]
            tolerance = (min(steps) if steps else max(abs(float(x)), 1.0)) * 1e-6
            decimals = next((d for d in range(9) if all(abs(round(v, d) - v) <= tolerance for v in locs)), 8)
            return fixed(float(x), decimals)

    return SimpleNamespace(
        matplotlib=matplotlib,
        mdates=mdates,
        mticker=mticker,
        Figure=Figure,
        Line2D=Line2D,
        LineCollection=LineCollection,
        Thousands=Thousands,
        Patch=mpatches.Patch,
    )


_RC = {
    "svg.fonttype": "none",  # real <text>: small, selectable, no embedded glyphs
    "svg.hashsalt": "rulebot-report",  # stable ids: the same result gives the same page
    "text.parse_math": False,  # a "$" in a symbol or reason is text, never mathtext
    "text.usetex": False,
    "axes.formatter.use_mathtext": False,
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "legend.fontsize": 8,
    "legend.framealpha": 0.85,
    "timezone": "UTC",
    "path.simplify": True,
}


def figure(mpl, height: float = FIGSIZE[1]):
    """A new figure of the reports' width and one axes on it: ``(figure, ax)``."""
    fig = mpl.Figure(figsize=(FIGSIZE[0], height), layout="constrained")
    return fig, fig.add_subplot()


def dates(mpl, ts: np.ndarray) -> np.ndarray:
    """Unix times (s) as matplotlib date numbers."""
    return mpl.mdates.date2num(np.round(ts * 1000).astype("int64").astype("datetime64[ms]"))


def time_axis(mpl, ax) -> None:
    """A UTC date axis with concise tick labels."""
    locator = mpl.mdates.AutoDateLocator(tz=mpl.mdates.UTC, minticks=4, maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mpl.mdates.ConciseDateFormatter(locator, tz=mpl.mdates.UTC))
    ax.set_xlabel("time (UTC)")


def legend(ax, handles=None) -> None:
    """One row of legend above the plot, where it can never hide data."""
    if handles is None:
        handles = ax.get_legend_handles_labels()[0]
    ncols = len(handles) if len(handles) <= 6 else math.ceil(len(handles) / 2)
    ax.legend(
        handles=handles,
        loc="lower left",
        bbox_to_anchor=(0.0, 1.01),
        ncols=max(ncols, 1),
        frameon=False,
        borderaxespad=0.0,
        handlelength=1.6,
        columnspacing=1.2,
    )


def draw(mpl, chart: Chart, drawer) -> None:
    """Fill ``chart`` with what ``drawer()`` returns: a figure becomes its inline SVG, a text its
    note; a drawer that raises leaves a note saying so instead of failing the page."""
    try:
        with mpl.matplotlib.rc_context(_RC):
            figure_or_note = drawer()
            if isinstance(figure_or_note, str):
                chart.note = figure_or_note
            else:
                chart.svg = _svg(figure_or_note, chart)
    except Exception as exc:
        chart.note = f"This chart could not be drawn ({type(exc).__name__}: {exc})."


def _svg(fig, chart: Chart) -> Markup:
    """The figure as an SVG element for inlining: no XML prolog, no doctype, no metadata, no
    <style> (the page carries it), every id prefixed with the chart's id so ids stay unique."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)
    text = re.sub(r"<style[^>]*>.*?</style>\s*", "", text, flags=re.S)
    prefix = chart.id + "-"
    text = re.sub(r'(\sid=")', r"\1" + prefix, text)
    text = re.sub(r'(href="#)', r"\1" + prefix, text)
    text = re.sub(r"(url\(#)", r"\1" + prefix, text)
    text = text.replace("<svg ", f'<svg class="chart" role="img" aria-label="{escape(chart.title)}" ', 1)
    return Markup(text.strip())
