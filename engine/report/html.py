"""The dry-run report as one self-contained HTML page.

``render_report(result)`` turns the JSON-ready result of a dry-run (see ``engine.replay.dryrun``;
optionally with ``vs``, a second rule set over the same snapshots) into a single HTML file
that opens from the file system: no server, no network. The summary charts are inline SVG drawn
by matplotlib (imported lazily, object API only, no pyplot and no GUI backend; the drawing and
formatting helpers it shares with the sweep report are in ``engine.report.charts``); the price charts
with entries and exits are drawn in the browser by uPlot (vendored in ``vendor/uplot``, inlined
into the page) so they can be zoomed and panned, with a matplotlib SVG as the no-script fallback.
The page is filled by ``engine/report/templates/report.html.j2`` with autoescaping on.

The renderer never raises on thin inputs (no trades, no ``vs``, one cycle, missing metrics):
what cannot be drawn is replaced by a note saying why. Long series are decimated to at most
``MAX_POINTS`` points per static line (``MAX_INTERACTIVE_POINTS`` per zoomable one), keeping each
bucket's minimum and maximum so that peaks and drawdowns survive; tables are capped at
``MAX_ROWS`` rows with a note.
"""

from __future__ import annotations

import bisect
import functools
import json
import re
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import jinja2
import numpy as np
from markupsafe import Markup

from engine.market.sanity import market_data_warnings
from engine.report.charts import (
    COLOR_A,
    COLOR_B,
    COLOR_FLAT,
    COLOR_LOSS,
    COLOR_WIN,
    FIGSIZE,
    METRICS,
    Chart,
    dates,
    decimate,
    draw,
    figure,
    fixed,
    iso,
    legend,
    matplotlib_api,
    metric_text,
    num,
    package_version,
    series,
    short,
    time_axis,
)
from engine.report.charts import MAX_POINTS as MAX_POINTS  # re-exported: the line limit of decimate
from engine.report.coverage import coverage_section
from engine.trading.entry import order_digest

MAX_INTERACTIVE_POINTS = 50_000  # per zoomable price line (uPlot draws 100k+ points smoothly)
SHORT_ID = 8  # characters of a trade id shown in the table (the full id is its title)
MAX_ROWS = 500  # per table
MAX_PRICE_CHARTS = 20  # symbols with a price chart (those with the most trades first)
NESTED_METRICS = ("exit_reasons", "attribution")


# ------------------------------------------------------------------ public API


def render_report(result: dict) -> str:
    """The whole report page for one dry-run ``result`` (with ``result["vs"]`` when two rule
    sets were compared). Returns HTML text; write it with UTF-8."""
    a = _Run.of(result, "A")
    vs = result.get("vs")
    b = _Run.of(vs, "B") if isinstance(vs, dict) else None
    context = {
        "title": _title(a, b),
        "ruleset_version": a.version,
        "ruleset_version_vs": b.version if b else None,
        "generator": f"rulebot {package_version()}",
        "header": _header(result, a, b),
        "runs": [r for r in (a, b) if r],
        "interrupted": [r.label_long for r in (a, b) if r and r.interrupted],
        "market_data": market_data_warnings(result.get("market_data")),
        "summary": _summary(a, b),
        "coverage_section": coverage_section(result),
        "exit_table": _exit_table(a, b),
        "attribution_table": _attribution_table(a, b),
        "charts": _charts(a, b, _symbols(result, a, b)),
        "trade_tables": [_trade_table(r, b is not None) for r in (a, b) if r],
        "decisions": _decisions_table(result.get("differing_decisions")) if b else None,
        "learning": _learning_table(result.get("learning")),
        "max_rows": MAX_ROWS,
        "vendor": _vendor(),
    }
    return _template().render(**context)


def decision_times(result: dict) -> dict[str, float]:
    """{trade id: ts of the decision that opened it} from a dry-run ``result``'s decisions.

    A trade's id is its entry order's client id, which ends with a digest of the deciding
    version, symbol, direction and decision time (``engine.trading.entry.order_digest``): a
    TRADE decision whose digest matches is the trade's own. Without a match (ids from another
    source) the latest TRADE decision of the same symbol and direction at or before the fill is
    taken. Trades with neither are left out. ``rulebot explain --at`` that time shows the decision.
    """
    by_key: dict[tuple[str, str], list[float]] = {}
    for d in result.get("decisions") or ():
        if isinstance(d, dict) and d.get("outcome") == "TRADE" and num(d.get("ts")) is not None:
            by_key.setdefault((str(d.get("symbol")), str(d.get("direction"))), []).append(float(d["ts"]))
    for times in by_key.values():
        times.sort()
    out: dict[str, float] = {}
    for trade in result.get("trades") or ():
        if not isinstance(trade, dict) or not isinstance(trade.get("id"), str):
            continue
        symbol, direction = str(trade.get("symbol")), str(trade.get("direction"))
        times = by_key.get((symbol, direction), [])
        filled = num(trade.get("entry_ts"))
        if filled is None or not times:
            continue
        candidates = times[: bisect.bisect_right(times, filled)]
        version = str(trade.get("entry_version", ""))
        match = next(
            (ts for ts in reversed(candidates) if trade["id"].endswith(order_digest(version, symbol, direction, ts))),
            None,
        )
        if match is None and candidates:
            match = candidates[-1]
        if match is not None:
            out[trade["id"]] = match
    return out


# ------------------------------------------------------------------ inputs, defensively


@dataclass
class _Run:
    key: str  # "A" or "B"
    version: str
    fingerprint: str
    metrics: dict
    equity: tuple[np.ndarray, np.ndarray]
    trades: list[dict]
    cycles: Any
    interrupted: bool
    open_positions: Any
    raw: dict = field(repr=False)

    @classmethod
    def of(cls, result: dict, key: str) -> _Run:
        metrics = result.get("metrics")
        trades = [t for t in result.get("trades") or () if isinstance(t, dict)]
        trades.sort(key=lambda t: (num(t.get("entry_ts")) or 0.0, num(t.get("exit_ts")) or 0.0))
        return cls(
            key=key,
            version=_text(result.get("version"), "(unknown version)"),
            fingerprint=_text(result.get("fingerprint"), "—"),
            metrics=metrics if isinstance(metrics, dict) else {},
            equity=series(result.get("equity")),
            trades=trades,
            cycles=result.get("cycles"),
            interrupted=bool(result.get("interrupted")),
            open_positions=result.get("open_positions"),
            raw=result,
        )

    @property
    def label(self) -> str:
        return f"{self.key}: {short(self.version)}"

    @property
    def label_long(self) -> str:
        return f"{self.key} ({self.version})"


def _text(value: Any, default: str = "") -> str:
    return default if value is None or value == "" else str(value)


def _symbols(result: dict, a: _Run, b: _Run | None) -> list[str]:
    """Every symbol that has prices or trades, in the result's order, then the rest."""
    found: list[str] = []
    raw_prices = result.get("prices")
    prices = raw_prices if isinstance(raw_prices, dict) else {}
    for source in (result.get("symbols") or (), prices, *[[t.get("symbol") for t in r.trades] for r in (a, b) if r]):
        for symbol in source:
            if symbol is not None and str(symbol) not in found:
                found.append(str(symbol))
    return found


@functools.lru_cache(maxsize=1)
def _template() -> jinja2.Template:
    source = resources.files("engine.report").joinpath("templates/report.html.j2").read_text(encoding="utf-8")
    env = jinja2.Environment(
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return env.from_string(source)


# ------------------------------------------------------------------ formatting


def _cell_time(ts: Any) -> str:
    return iso(ts).replace("T", " ").rstrip("Z")


def _table_time(ts: Any, day_of: Any = None) -> str:
    """A compact table time: ``2025-05-19 12:41`` (seconds only when not :00), without the date
    when it is the same day as ``day_of`` (the decision beside its fill)."""
    text = _cell_time(ts)
    if text == "—":
        return text
    text = text[:-3] if text.endswith(":00") else text
    same_day = day_of is not None and _cell_time(day_of)[:10] == text[:10]
    return text[11:] if same_day else text


def _duration(seconds: Any) -> str:
    value = num(seconds)
    if value is None:
        return "—"
    s = round(abs(value))
    sign = "-" if value < 0 else ""
    if s < 60:
        return f"{sign}{s} s"
    if s < 3600:
        return f"{sign}{s // 60} min {s % 60:02d} s"
    if s < 86400:
        return f"{sign}{s // 3600} h {s % 3600 // 60:02d} min"
    return f"{sign}{s // 86400} d {s % 86400 // 3600:02d} h"


def _price(value: Any) -> str:
    v = num(value)
    if v is None:
        return "—"
    magnitude = abs(v)
    decimals = 2 if magnitude >= 100 else 4 if magnitude >= 1 else 6 if magnitude >= 0.01 else 8
    return fixed(v, decimals)


def _quantity(value: Any) -> str:
    v = num(value)
    if v is None:
        return "—"
    text = fixed(v, 6)
    return text.rstrip("0").rstrip(".") if "." in text else text


def _difference(a: Any, b: Any, kind: str) -> tuple[str, float | None]:
    """``a − b``: the first rule set minus the second, so a positive P&L difference favours the first."""
    va, vb = num(a), num(b)
    if va is None or vb is None or kind == "text":
        return "—", None
    d = va - vb
    text = {
        "count": lambda: fixed(d, 0, True),
        "fraction": lambda: f"{fixed(d * 100, 1, True)} pp",
        "usd": lambda: f"{fixed(d, 2, True)} USD",
        "usd_signed": lambda: f"{fixed(d, 2, True)} USD",
        "pct": lambda: f"{fixed(d, 2, True)} pp",
        "pct1": lambda: f"{fixed(d, 1, True)} pp",
        "pct_signed": lambda: f"{fixed(d, 2, True)} pp",
        "ratio": lambda: fixed(d, 2, True),
    }.get(kind, lambda: fixed(d, 4, True))()
    return text, d


def _judge(d: float | None, better: int) -> str:
    if d is None or better == 0 or abs(d) < 1e-12:
        return ""
    return "better" if d * better > 0 else "worse"


# ------------------------------------------------------------------ header, tables


def _title(a: _Run, b: _Run | None) -> str:
    return f"rulebot dry-run: {a.version}" + (f" vs {b.version}" if b else "")


def _header(result: dict, a: _Run, b: _Run | None) -> dict:
    files = [str(f) for f in result.get("snapshot_files") or ()]
    start, end = num(result.get("start")), num(result.get("end"))
    if start is not None and end is not None:
        window = f"{iso(start)} → {iso(end)} ({_duration(end - start)})"
    else:
        window = "— (no cycle was run)"
    symbols = [str(s) for s in result.get("symbols") or ()]
    rows = [
        ("Profile", _text(result.get("profile"), "—")),
        ("Window (UTC)", window),
        ("Cycles", metric_text(result.get("cycles"), "count")),
        ("Symbols", ", ".join(symbols) or "—"),
    ]
    per_run = [
        ("Rules folder", [_text(r.raw.get("rules_dir"), "—") for r in (a, b) if r]),
        ("Rule-set version", [r.version for r in (a, b) if r]),
        ("Fingerprint", [r.fingerprint for r in (a, b) if r]),
    ]
    if any(r.open_positions is not None for r in (a, b) if r):
        per_run.append(
            ("Positions still open at the end", [metric_text(r.open_positions, "count") for r in (a, b) if r])
        )
    if b is not None and num(b.cycles) is not None and b.cycles != a.cycles:
        per_run.append(("Cycles", [metric_text(r.cycles, "count") for r in (a, b)]))
        rows = [row for row in rows if row[0] != "Cycles"]
    more = len(files) - MAX_ROWS
    return {"rows": rows, "per_run": per_run, "files": files[:MAX_ROWS], "files_more": f"{more:,}" if more > 0 else ""}


def _summary(a: _Run, b: _Run | None) -> list[dict]:
    rows = []
    known = {k for k, *_ in METRICS} | set(NESTED_METRICS)
    extra = [(k, k.replace("_", " "), "generic", 0) for r in (a, b) if r for k in r.metrics if k not in known]
    seen = set()
    for key, label, kind, better in (*METRICS, *extra):
        if key in seen:
            continue
        seen.add(key)
        values = [metric_text(r.metrics.get(key), kind) for r in (a, b) if r]
        row = {"key": key, "label": label, "values": values, "diff": "", "judge": ""}
        if b is not None:
            row["diff"], d = _difference(a.metrics.get(key), b.metrics.get(key), kind)
            row["judge"] = _judge(d, better)
        rows.append(row)
    return rows


def _mapping(metrics: dict, key: str) -> dict[str, float]:
    value = metrics.get(key)
    out = {}
    for name, number in value.items() if isinstance(value, dict) else ():
        v = num(number)
        if v is not None:
            out[str(name)] = v
    return out


def _exit_table(a: _Run, b: _Run | None) -> list[dict]:
    runs = [r for r in (a, b) if r]
    counts = [_mapping(r.metrics, "exit_reasons") for r in runs]
    totals = [sum(c.values()) for c in counts]
    reasons = sorted({k for c in counts for k in c}, key=lambda k: (-counts[0].get(k, 0), k))
    rows = []
    for reason in reasons:
        cells = [
            f"{fixed(c.get(reason, 0), 0)} ({fixed(c.get(reason, 0) / t * 100 if t else 0, 1)} %)"
            for c, t in zip(counts, totals)
        ]
        diff = fixed(counts[0].get(reason, 0) - counts[1].get(reason, 0), 0, True) if b else ""
        rows.append({"label": reason, "values": cells, "diff": diff, "cls": ""})
    return rows


def _attribution_table(a: _Run, b: _Run | None) -> list[dict]:
    runs = [r for r in (a, b) if r]
    values = [_mapping(r.metrics, "attribution") for r in runs]
    components = sorted({k for v in values for k in v}, key=lambda k: (-values[0].get(k, 0.0), k))
    rows = []
    for component in components:
        cells = [f"{fixed(v.get(component, 0.0), 2, True)} USD" for v in values]
        diff = f"{fixed(values[0].get(component, 0.0) - values[1].get(component, 0.0), 2, True)} USD" if b else ""
        sign = values[0].get(component, 0.0)
        rows.append(
            {
                "label": component,
                "values": cells,
                "diff": diff,
                "cls": "win" if sign > 0 else "loss" if sign < 0 else "",
            }
        )
    return rows


# label, numeric (right-aligned), extra (hidden until "all columns" is ticked), title
TRADE_COLUMNS: tuple[tuple[str, bool, bool, str], ...] = (
    ("#", True, False, "Order of entry"),
    ("decided (UTC)", False, False, "The cycle whose decision sent the entry order (the date when not the fill's)"),
    ("filled (UTC)", False, False, "When the entry order filled (one cycle or more after the decision)"),
    ("symbol", False, False, ""),
    ("side", False, False, ""),
    ("net USD", True, False, "Net P&L in USD, after fees and funding"),
    ("net %", True, False, "Net P&L ÷ entry notional × 100"),
    ("exit reason", False, False, ""),
    ("held", True, False, "From the entry fill to the last exit fill"),
    ("conviction", False, False, "Conviction at entry (its confidence in the cell's title)"),
    ("id", False, False, "The first characters of the trade id (the full id in the cell's title)"),
    ("exit (UTC)", False, True, ""),
    ("entry price", True, True, ""),
    ("exit price", True, True, "Average over every closing fill"),
    ("quantity", True, True, ""),
    ("leverage", True, True, ""),
    ("fees (USD)", True, True, ""),
    ("funding (USD)", True, True, "Positive: paid; negative: received"),
    ("exit tier", False, True, ""),
)


def _cell(text: str, sort: Any = None, cls: str = "", title: str = "") -> dict:
    """One table cell: its text, the key the column sorts by (``data-v``), classes and a title."""
    value = num(sort)
    key = "" if sort is None else (repr(value) if value is not None else str(sort))
    return {"text": text, "v": key, "cls": cls, "title": title}


def _trade_table(run: _Run, compared: bool) -> dict:
    shown = run.trades[:MAX_ROWS]
    decided = decision_times(run.raw)
    rows = []
    for number, t in enumerate(shown, 1):
        pnl = num(t.get("net_pnl"))
        leverage = num(t.get("leverage"))
        outcome = "win" if pnl is not None and pnl > 0 else "loss" if pnl is not None and pnl < 0 else ""
        ident = _text(t.get("id"), "—")
        decision = decided.get(ident) if isinstance(t.get("id"), str) else None
        confidence = num(t.get("confidence"))
        cells = [
            _cell(str(number), number, "num"),
            _cell(
                _table_time(decision, t.get("entry_ts")),
                decision,
                "mono",
                "" if decision is None else f"rulebot explain --at {iso(decision)}",
            ),
            _cell(_table_time(t.get("entry_ts")), t.get("entry_ts"), "mono"),
            _cell(_text(t.get("symbol"), "—"), _text(t.get("symbol"))),
            _cell(_text(t.get("direction"), "—"), _text(t.get("direction"))),
            _cell("—" if pnl is None else fixed(pnl, 2, True), pnl, "num pnl"),
            _cell(
                "—" if num(t.get("net_pnl_pct")) is None else fixed(t["net_pnl_pct"], 2, True),
                t.get("net_pnl_pct"),
                "num pnl",
            ),
            _cell(_text(t.get("exit_reason"), "—"), _text(t.get("exit_reason"))),
            _cell(_duration(t.get("duration_s")), t.get("duration_s"), "num"),
            _cell(
                _text(t.get("conviction"), "—"),
                _text(t.get("conviction")),
                title="" if confidence is None else f"confidence {fixed(confidence, 2)}",
            ),
            _cell(short(ident, SHORT_ID + 1) if len(ident) > SHORT_ID else ident, ident, "mono", ident),
            _cell(_table_time(t.get("exit_ts")), t.get("exit_ts"), "mono extra"),
            _cell(_price(t.get("entry_price")), t.get("entry_price"), "num extra"),
            _cell(_price(t.get("exit_price")), t.get("exit_price"), "num extra"),
            _cell(_quantity(t.get("quantity")), t.get("quantity"), "num extra"),
            _cell("—" if leverage is None else f"{leverage:g}×", leverage, "num extra"),
            _cell("—" if num(t.get("fees")) is None else fixed(t["fees"], 2), t.get("fees"), "num extra"),
            _cell(
                "—" if num(t.get("funding")) is None else fixed(t["funding"], 2, True), t.get("funding"), "num extra"
            ),
            _cell(_text(t.get("exit_tier"), "—"), _text(t.get("exit_tier")), "extra"),
        ]
        rows.append({"cls": outcome, "cells": cells})
    return {
        "key": run.key,
        "id": "trades-" + run.key.lower(),
        "title": f"Trades of {run.label_long}" if compared else "Trades",
        "columns": [
            {"label": label, "cls": " ".join(c for c, on in (("num", numeric), ("extra", extra)) if on), "title": title}
            for label, numeric, extra, title in TRADE_COLUMNS
        ],
        "rows": rows,
        "total": len(run.trades),
        "total_text": f"{len(run.trades):,}",
        "capped": len(run.trades) > MAX_ROWS,
        "decided": sum(1 for t in shown if isinstance(t.get("id"), str) and t["id"] in decided),
    }


def _decisions_table(decisions: Any) -> dict:
    items = [d for d in decisions or () if isinstance(d, dict)]
    items.sort(key=lambda d: (num(d.get("ts")) or 0.0, str(d.get("symbol"))))
    rows = [
        [_cell_time(d.get("ts")), _text(d.get("symbol"), "—"), _text(d.get("a"), "—"), _text(d.get("b"), "—")]
        for d in items[:MAX_ROWS]
    ]
    return {"rows": rows, "total": len(items), "total_text": f"{len(items):,}", "capped": len(items) > MAX_ROWS}


def _learning_table(learning: Any) -> dict | None:
    """The version changes of a walk-forward (``dry-run --learn``), oldest first; None when
    the run did not learn."""
    if not isinstance(learning, dict):
        return None
    items = [c for c in learning.get("changes") or () if isinstance(c, dict)]
    rows = [_learning_row(c) for c in items[:MAX_ROWS]]
    counts = {k: learning.get(k, 0) for k in ("cycles", "applied", "rejected", "refused")}
    return {
        "rows": rows,
        "total": len(items),
        "total_text": f"{len(items):,}",
        "capped": len(items) > MAX_ROWS,
        "first": _text(learning.get("first_version"), "—"),
        "last": _text(learning.get("last_version"), "—"),
        **{k: f"{v:,}" if isinstance(v, int) else "—" for k, v in counts.items()},
    }


def _learning_row(change: dict) -> dict:
    values = [v for v in change.get("values") or () if isinstance(v, dict)]
    shown = "; ".join(
        f"{_text(v.get('path'), '?')} {_fmt_number(v.get('old'))} → {_fmt_number(v.get('new'))}" for v in values[:3]
    ) + (f"; … {len(values) - 3} more" if len(values) > 3 else "")
    gate = change.get("promotion")
    difference = num(gate.get("difference_pct")) if isinstance(gate, dict) else None
    status = _text(change.get("status"), "—")
    return {
        "cells": [
            (_cell_time(change.get("ts")), ""),
            (_text(change.get("learner"), "—"), ""),
            (status, {"applied": "win", "rejected": "loss"}.get(status, "")),
            (_text(change.get("version"), "—"), "mono"),
            (shown or "—", "mono"),
            ("—" if difference is None else f"{difference:+.4f}", "num"),
            (_text(change.get("reason"), ""), ""),
        ],
    }


def _fmt_number(value: Any) -> str:
    number = num(value)
    return "?" if number is None else f"{number:.6g}"


def _version_changes(run: _Run) -> list[float]:
    """When a walk-forward's learned versions went live (the applied changes' times)."""
    learning = run.raw.get("learning")
    if not isinstance(learning, dict):
        return []
    changes = [c for c in learning.get("changes") or () if isinstance(c, dict) and c.get("status") == "applied"]
    return [t for t in (num(c.get("ts")) for c in changes) if t is not None]


# ------------------------------------------------------------------ charts


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-") or "x"


def _charts(a: _Run, b: _Run | None, symbols: list[str]) -> dict:
    """{"main": [...], "prices": [...], "prices_note": str, "tail": [...]}: every figure, drawn or
    explained. Each chart is drawn on its own; one that fails says so instead of failing the page."""
    runs = [r for r in (a, b) if r]
    raw_prices = a.raw.get("prices")
    prices = raw_prices if isinstance(raw_prices, dict) else {}
    main = [
        Chart(
            "equity",
            "chart-equity",
            "Equity curve",
            "Account equity (USD) at each cycle" + (", both rule sets over the same snapshots." if b else "."),
        ),
        Chart(
            "drawdown",
            "chart-drawdown",
            "Drawdown",
            "Distance below the running peak of equity, in %" + (", for both rule sets." if b else "."),
        ),
    ]
    tail = [
        Chart(
            "exit-reasons",
            "chart-exit-reasons",
            "Exit reasons",
            "How many closed trades each exit reason closed" + (", per rule set." if b else "."),
        ),
        Chart(
            "attribution",
            "chart-attribution",
            "Component attribution",
            "Net P&L (USD) attributed to each signal component; green adds, red costs"
            + (" (A solid, B hatched)." if b else "."),
        ),
    ]
    counts = {s: sum(t.get("symbol") == s for r in runs for t in r.trades) for s in symbols}
    chosen = sorted(symbols, key=lambda s: -counts[s])[:MAX_PRICE_CHARTS]
    chosen = [s for s in symbols if s in chosen]
    price_charts, used = [], set()
    for symbol in chosen:
        element = "chart-price-" + _slug(symbol)
        while element in used:
            element += "-x"
        used.add(element)
        price_charts.append(
            Chart(
                f"price-{symbol}",
                element,
                f"{symbol}: entries and exits",
                f"{symbol} close price with every trade: ▲ LONG entry, ▼ SHORT entry, × exit, a thin line "
                f"from entry to exit; green won, red lost" + ("; filled markers are A, hollow ones B." if b else "."),
            )
        )
    prices_note = ""
    if not symbols:
        prices_note = "No symbol has prices or trades in this result: there is no price chart to draw."
    elif len(symbols) > len(chosen):
        prices_note = (
            f"Price charts are drawn for the {len(chosen)} symbols with the most trades; "
            f"{len(symbols) - len(chosen):,} more are left out."
        )

    for chart, symbol in zip(price_charts, chosen):
        chart.data = _price_data(symbol, series(prices.get(symbol)), runs)
    try:
        mpl = matplotlib_api()
    except ImportError as exc:
        for chart in (*main, *price_charts, *tail):
            chart.note = f"Charts need matplotlib, which is not installed here ({exc})."
        return {"main": main, "prices": price_charts, "prices_note": prices_note, "tail": tail}

    drawers = {
        "equity": lambda: _draw_equity(mpl, runs),
        "drawdown": lambda: _draw_drawdown(mpl, runs),
        "exit-reasons": lambda: _draw_exit_reasons(mpl, runs),
        "attribution": lambda: _draw_attribution(mpl, runs),
    }
    for chart in (*main, *tail):
        draw(mpl, chart, drawers[chart.kind])
    for chart, symbol in zip(price_charts, chosen):
        draw(mpl, chart, lambda symbol=symbol: _draw_price(mpl, symbol, series(prices.get(symbol)), runs))
    return {"main": main, "prices": price_charts, "prices_note": prices_note, "tail": tail}


def _price_data(symbol: str, closes: tuple[np.ndarray, np.ndarray], runs: list[_Run]) -> Markup | None:
    """The zoomable price chart's data as JSON for an inline ``<script type="application/json">``:
    the close line (decimated to ``MAX_INTERACTIVE_POINTS``) and each run's trades as
    ``[entry ts, entry price, exit ts, exit price, +1 LONG / −1 SHORT, +1 won / −1 lost / 0, id]``.
    None when there is nothing to draw (as the static chart: under two prices and no trades)."""
    trades = []
    for run in runs:
        marks = []
        for t in run.trades:
            if t.get("symbol") != symbol:
                continue
            entry, exit_ = (
                _point(t.get("entry_ts"), t.get("entry_price")),
                _point(t.get("exit_ts"), t.get("exit_price")),
            )
            if entry is None and exit_ is None:
                continue
            pnl = num(t.get("net_pnl"))
            marks.append(
                [
                    *(entry or (None, None)),
                    *(exit_ or (None, None)),
                    -1 if str(t.get("direction", "")).upper() == "SHORT" else 1,
                    0 if pnl is None or pnl == 0 else 1 if pnl > 0 else -1,
                    _text(t.get("id"))[:SHORT_ID],
                ]
            )
        trades.append({"key": run.key, "label": run.label, "trades": marks})
    if len(closes[0]) < 2 and not any(r["trades"] for r in trades):
        return None
    x, y = decimate(*closes, max_points=MAX_INTERACTIVE_POINTS)
    data = {"symbol": symbol, "x": x.tolist(), "close": y.tolist(), "runs": trades}
    return _json_for_script(data)


def _json_for_script(data: Any) -> Markup:
    """JSON that is safe inside a <script> element: no "<", ">" or "&" (so no "</script>")."""
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


@functools.lru_cache(maxsize=1)
def _vendor() -> dict[str, str]:
    """uPlot's script, stylesheet and licence and the report's own script, inlined so the page
    needs no network."""
    folder = resources.files("engine.report").joinpath("vendor/uplot")
    read = lambda name: folder.joinpath(name).read_text(encoding="utf-8")  # noqa: E731
    script = read("uPlot.iife.min.js")
    if "</script" in script.lower():  # would end the inline element early
        raise ValueError("the vendored uPlot contains '</script': it cannot be inlined")
    version = re.search(r"\(v(\d+\.\d+\.\d+)\)", script[:200])
    return {
        "uplot_js": Markup(script),
        "uplot_css": Markup(read("uPlot.min.css")),
        "uplot_version": Markup(version.group(1) if version else "unknown"),
        "uplot_licence": read("LICENSE"),  # text: escaped by the template
        "report_js": Markup(
            resources.files("engine.report").joinpath("templates/report.js").read_text(encoding="utf-8")
        ),
    }


def _too_short(run: _Run) -> bool:
    return len(run.equity[0]) < 2


def _short_note(runs: list[_Run], what: str) -> str:
    points = max(len(r.equity[0]) for r in runs)
    if points == 0:
        why = "The result has no equity points (no cycle ran in the window)"
    else:
        why = "The equity series has a single point (a run of one cycle)"
    return f"{why}: there is no {what} to draw. The summary table has the figures."


def _draw_equity(mpl, runs: list[_Run]):
    drawable = [r for r in runs if not _too_short(r)]
    if not drawable:
        return _short_note(runs, "curve")
    fig, ax = figure(mpl)
    for run, color in zip(runs, (COLOR_A, COLOR_B)):
        if _too_short(run):
            continue
        x, y = decimate(*run.equity)
        ax.plot(dates(mpl, x), y, color=color, linewidth=1.3, label=run.label)
    start = num(runs[0].metrics.get("starting_equity_usd"))
    if start is not None:
        ax.axhline(start, color="#555555", linewidth=0.8, linestyle="--", label="starting equity")
    for i, ts in enumerate(_version_changes(runs[0])):
        label = "a learned version goes live" if i == 0 else None
        ax.axvline(dates(mpl, np.array([ts]))[0], color="#2ca02c", linewidth=0.7, linestyle=":", label=label)
    time_axis(mpl, ax)
    ax.yaxis.set_major_formatter(mpl.Thousands())
    ax.set_ylabel("equity (USD)")
    legend(ax)
    return fig


def _drawdown(run: _Run) -> tuple[np.ndarray, np.ndarray]:
    x, y = run.equity
    peak = np.maximum.accumulate(y)
    with np.errstate(divide="ignore", invalid="ignore"):
        dd = np.where(peak > 0, (y / peak - 1.0) * 100.0, 0.0)
    return x, dd


def _draw_drawdown(mpl, runs: list[_Run]):
    drawable = [r for r in runs if not _too_short(r)]
    if not drawable:
        return _short_note(runs, "drawdown")
    fig, ax = figure(mpl)
    for run, color in zip(runs, (COLOR_A, COLOR_B)):
        if _too_short(run):
            continue
        x, dd = _drawdown(run)
        worst = float(-dd.min()) if len(dd) else 0.0
        x, dd = decimate(x, dd)
        days = dates(mpl, x)
        label = f"{run.label} (max {fixed(worst, 2)} %)"
        ax.fill_between(days, dd, 0.0, color=color, alpha=0.18 if run.key == "A" else 0.14, linewidth=0)
        ax.plot(days, dd, color=color, linewidth=1.1, label=label)
    ax.axhline(0.0, color="#555555", linewidth=0.8)
    time_axis(mpl, ax)
    ax.yaxis.set_major_formatter(mpl.Thousands())
    ax.set_ylabel("drawdown (%)")
    legend(ax)
    return fig


def _outcome_color(trade: dict) -> str:
    pnl = num(trade.get("net_pnl"))
    return COLOR_FLAT if pnl is None or pnl == 0 else COLOR_WIN if pnl > 0 else COLOR_LOSS


def _draw_price(mpl, symbol: str, closes: tuple[np.ndarray, np.ndarray], runs: list[_Run]):
    """The symbol's close price with every run's trades on top, or a note when there is nothing to draw.

    A chart with trades but too few prices is still drawn: the trades alone are worth seeing.
    """
    has_trades = any(t.get("symbol") == symbol for r in runs for t in r.trades)
    if len(closes[0]) < 2 and not has_trades:
        return f"{symbol} has fewer than two recorded prices and no trades: there is no price chart to draw."
    fig, ax = figure(mpl)
    _plot_closes(mpl, ax, symbol, closes)
    for run in runs:
        _plot_trades(mpl, ax, run, [t for t in run.trades if t.get("symbol") == symbol])
    _price_axes(mpl, ax, symbol)
    handles = _price_legend_handles(mpl, runs)
    if not has_trades:
        ax.text(0.5, 0.92, "no trades on this symbol", transform=ax.transAxes, ha="center", color="#555555")
    legend(ax, handles)
    return fig


def _plot_closes(mpl, ax, symbol: str, closes: tuple[np.ndarray, np.ndarray]) -> None:
    """The (decimated) close line, drawn first so the trade marks sit on top of it."""
    if len(closes[0]):
        x, y = decimate(*closes)
        ax.plot(dates(mpl, x), y, color="#444444", linewidth=0.9, label=f"{symbol} close", zorder=1)


def _plot_trades(mpl, ax, run: _Run, trades: list[dict]) -> None:
    """One run's trades: entry→exit segments, then the entry/exit markers.

    Run B is drawn hollow and dotted so that it stays readable on top of run A.
    """
    hollow = run.key == "B"
    groups, segments, seg_colors = _trade_marks(trades)
    if segments:
        _plot_trade_segments(mpl, ax, segments, seg_colors, hollow)
    for (marker, color), pts in groups.items():
        _plot_markers(mpl, ax, marker, color, pts, hollow)


def _trade_marks(trades: list[dict]):
    """Trades as marker groups and segments.

    Returns ``{(marker, color): [(ts, price), ...]}`` for the markers (drawn with one
    scatter call per group) and the entry→exit segments with their colors; an end with
    a missing time or price is left out, and a segment needs both ends.
    """
    segments, seg_colors = [], []
    groups: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for trade in trades:
        color = _outcome_color(trade)
        entry = _point(trade.get("entry_ts"), trade.get("entry_price"))
        exit_ = _point(trade.get("exit_ts"), trade.get("exit_price"))
        marker = "v" if str(trade.get("direction", "")).upper() == "SHORT" else "^"
        if entry is not None:
            groups.setdefault((marker, color), []).append(entry)
        if exit_ is not None:
            groups.setdefault(("X", color), []).append(exit_)
        if entry is not None and exit_ is not None:
            segments.append((entry, exit_))
            seg_colors.append(color)
    return groups, segments, seg_colors


def _point(ts: Any, price: Any) -> tuple[float, float] | None:
    """(ts, price) as finite floats, or None when either is missing or unusable."""
    x, y = num(ts), num(price)
    return None if x is None or y is None else (x, y)


def _plot_trade_segments(mpl, ax, segments: list, seg_colors: list[str], hollow: bool) -> None:
    """Faint entry→exit lines (dotted for run B), all in one LineCollection, below the markers."""
    points = np.asarray(segments, dtype=float)
    points[:, :, 0] = dates(mpl, points[:, :, 0].ravel()).reshape(points.shape[:2])
    ax.add_collection(
        mpl.LineCollection(
            points, colors=seg_colors, linewidths=0.7, alpha=0.35, linestyles="dotted" if hollow else "solid", zorder=2
        )
    )


def _plot_markers(mpl, ax, marker: str, color: str, pts: list[tuple[float, float]], hollow: bool) -> None:
    """One group of entry or exit markers; hollow (run B) markers sit below filled (run A) ones."""
    arr = np.asarray(pts, dtype=float)
    size = 42 if marker != "X" else 34
    if hollow:
        ax.scatter(
            dates(mpl, arr[:, 0]),
            arr[:, 1],
            marker=marker,
            s=size,
            facecolors="none",
            edgecolors=color,
            linewidths=1.0,
            zorder=3,
        )
    else:
        ax.scatter(
            dates(mpl, arr[:, 0]),
            arr[:, 1],
            marker=marker,
            s=size,
            color=color,
            edgecolors="white" if marker != "X" else color,
            linewidths=0.4,
            zorder=4,
        )


def _price_axes(mpl, ax, symbol: str) -> None:
    """Limits, time axis and labels, set once every line and mark is on the axes."""
    ax.autoscale_view()
    time_axis(mpl, ax)
    ax.yaxis.set_major_formatter(mpl.Thousands())
    ax.set_ylabel(f"{short(symbol, 24)} price")


def _price_legend_handles(mpl, runs: list[_Run]) -> list:
    """A fixed legend explaining the marks (shape = side/exit, color = outcome), plus the
    run styles when two runs are compared; fixed so it reads the same on every chart."""
    handles = [
        mpl.Line2D([], [], color="#444444", linewidth=0.9, label="close"),
        mpl.Line2D([], [], linestyle="none", marker="^", color="#666666", label="LONG entry"),
        mpl.Line2D([], [], linestyle="none", marker="v", color="#666666", label="SHORT entry"),
        mpl.Line2D([], [], linestyle="none", marker="X", color="#666666", label="exit"),
        mpl.Line2D([], [], linestyle="none", marker="s", color=COLOR_WIN, label="won"),
        mpl.Line2D([], [], linestyle="none", marker="s", color=COLOR_LOSS, label="lost"),
    ]
    if len(runs) > 1:
        handles += [
            mpl.Line2D([], [], linestyle="none", marker="^", color="#666666", label=runs[0].label),
            mpl.Line2D(
                [],
                [],
                linestyle="none",
                marker="^",
                markerfacecolor="none",
                markeredgecolor="#666666",
                label=runs[1].label,
            ),
        ]
    return handles


def _grouped_bars(mpl, runs: list[_Run], key: str, horizontal: bool):
    values = [_mapping(r.metrics, key) for r in runs]
    labels = sorted({k for v in values for k in v}, key=lambda k: (-values[0].get(k, 0.0), k))
    if horizontal:
        labels = labels[::-1]  # largest at the top
    return values, labels


def _draw_exit_reasons(mpl, runs: list[_Run]):
    values, labels = _grouped_bars(mpl, runs, "exit_reasons", horizontal=False)
    if not labels or not any(v for vals in values for v in vals.values()):
        return "No trade was closed, so there are no exit reasons to count."
    fig, ax = figure(mpl)
    n = len(runs)
    width = 0.8 / n
    positions = np.arange(len(labels), dtype=float)
    for i, (run, vals, color) in enumerate(zip(runs, values, (COLOR_A, COLOR_B))):
        heights = [vals.get(label, 0.0) for label in labels]
        bars = ax.bar(
            positions + (i - (n - 1) / 2) * width,
            heights,
            width=width * 0.95,
            color=color,
            label=run.label if n > 1 else None,
        )
        ax.bar_label(bars, labels=[fixed(h, 0) for h in heights], padding=2, fontsize=8)
    ax.set_xticks(
        positions,
        [short(label, 28) for label in labels],
        rotation=30 if len(labels) > 4 else 0,
        ha="right" if len(labels) > 4 else "center",
    )
    ax.yaxis.set_major_locator(mpl.mticker.MaxNLocator(integer=True))
    ax.yaxis.set_major_formatter(mpl.Thousands())
    ax.set_ylabel("closed trades")
    ax.margins(y=0.15)
    ax.grid(axis="x", visible=False)
    if n > 1:
        legend(ax)
    return fig


def _draw_attribution(mpl, runs: list[_Run]):
    values, labels = _grouped_bars(mpl, runs, "attribution", horizontal=True)
    if not labels:
        return "No P&L was attributed to any signal component (no closed trades, or no attribution recorded)."
    n = len(runs)
    height = max(FIGSIZE[1], 0.28 * len(labels) * n + 1.2)
    fig, ax = figure(mpl, height)
    band = 0.8 / n
    positions = np.arange(len(labels), dtype=float)
    for i, (_run, vals) in enumerate(zip(runs, values)):
        widths = [vals.get(label, 0.0) for label in labels]
        colors = [COLOR_WIN if w > 0 else COLOR_LOSS if w < 0 else COLOR_FLAT for w in widths]
        offset = ((n - 1) / 2 - i) * band  # A above B within each component's band
        bars = ax.barh(
            positions + offset,
            widths,
            height=band * 0.92,
            color=colors,
            alpha=1.0 if i == 0 else 0.55,
            hatch="///" if i == 1 else None,
            edgecolor="white" if i == 0 else "#333333",
            linewidth=0.5,
        )
        ax.bar_label(bars, labels=[fixed(w, 2, True) for w in widths], padding=3, fontsize=8)
    ax.axvline(0.0, color="#555555", linewidth=0.8)
    ax.set_yticks(positions, [short(label) for label in labels])
    ax.xaxis.set_major_formatter(mpl.Thousands())
    ax.set_xlabel("net P&L attributed (USD)")
    ax.margins(x=0.18)
    ax.grid(axis="y", visible=False)
    if n > 1:
        handles = [
            mpl.Patch(facecolor="#888888", label=runs[0].label),
            mpl.Patch(facecolor="#888888", alpha=0.55, hatch="///", edgecolor="#333333", label=runs[1].label),
        ]
        legend(ax, handles)
    return fig
