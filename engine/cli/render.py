"""Results in words: the text and JSON the commands print (validate's verdict, the dry-run
summary). Pure functions of the results; the commands choose the stream and the exit code."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: The dry-run figures of ``--format json`` and metrics.json, per run (and its ``--vs`` run).
SUMMARY_KEYS = (
    "version",
    "profile",
    "start",
    "end",
    "cycles",
    "symbols",
    "fingerprint",
    "metrics",
    "interrupted",
    "open_positions",
    "jobs",
    "replay",
    "market_data",
    "unseen_symbols",
    "untraded_symbols",
)


def validate_verdict(result: Any, rules_dir: str, failed: bool) -> str:
    """validate's last line: invalid with the counts, or valid with version and profiles."""
    errors = sum(d.is_error for d in result.diagnostics)
    warnings = len(result.diagnostics) - errors
    if failed:
        return f"{rules_dir}: invalid: {errors} error(s), {warnings} warning(s)"
    return (
        f"{rules_dir}: valid, version {result.version} "
        f"(profiles: {', '.join(sorted(result.plans))}; {warnings} warning(s))"
    )


def dry_run_json(result: dict[str, Any]) -> dict[str, Any]:
    """The dry-run's figures as data (``--format json``, metrics.json)."""
    out = {k: result.get(k) for k in SUMMARY_KEYS}
    if result.get("vs"):
        out["vs"] = {k: result["vs"].get(k) for k in SUMMARY_KEYS}
        out["differing_decisions"] = len(result.get("differing_decisions", []))
    return out


def dry_run_text(result: dict[str, Any]) -> str:
    """The dry-run's figures as a table (one column per rule set), then its notes."""
    runs = [result] + ([result["vs"]] if result.get("vs") else [])
    lines = _table(_summary_rows(runs))
    return "\n".join(lines + _summary_notes(result))


def _summary_rows(runs: list[dict[str, Any]]) -> list[tuple[str, ...]]:
    from engine.common.times import iso_utc as iso

    rows: list[tuple[str, ...]] = [("", *[r["version"] for r in runs])]

    def add(label: str, fn: Callable[[dict[str, Any]], str]) -> None:
        rows.append((label, *[fn(r) for r in runs]))

    add("window", lambda r: f"{iso(r['start'])} → {iso(r['end'])}" if r["start"] is not None else "—")
    add("cycles", lambda r: f"{r['cycles']:,}")
    add("trades", lambda r: f"{r['metrics']['trades']:,}")
    add("win rate", lambda r: f"{r['metrics']['win_rate'] * 100:.1f} %")
    add("net P&L", lambda r: f"{r['metrics']['net_pnl_usd']:+,.2f} USD ({r['metrics']['net_pnl_pct']:+.2f} %)")
    add("max drawdown", lambda r: f"{r['metrics']['max_drawdown_pct']:.2f} %")
    add("Sharpe", lambda r: "—" if r["metrics"]["sharpe"] is None else f"{r['metrics']['sharpe']:.2f}")
    add("exposure", lambda r: f"{r['metrics']['exposure_pct']:.1f} % of cycles")
    add("fees paid", lambda r: f"{r['metrics']['fees_usd']:,.2f} USD")
    add("funding paid", lambda r: f"{r['metrics']['funding_usd']:+,.2f} USD")
    for reason in sorted({k for r in runs for k in r["metrics"]["exit_reasons"]}):
        add(f"exits {reason}", _exits_with(reason))
    for component in sorted({k for r in runs for k in r["metrics"]["attribution"]}):
        add(f"P&L {component}", _pnl_of(component))
    add("fingerprint", lambda r: r["fingerprint"][:23])
    add("replay", lambda r: r.get("replay", "scalar"))
    return rows


def _exits_with(reason: str) -> Callable[[dict[str, Any]], str]:
    return lambda r: str(r["metrics"]["exit_reasons"].get(reason, 0))


def _pnl_of(component: str) -> Callable[[dict[str, Any]], str]:
    return lambda r: f"{r['metrics']['attribution'].get(component, 0.0):+,.2f}"


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]


def _summary_notes(result: dict[str, Any]) -> list[str]:
    """What the figures alone do not say: differing decisions, refused market data, symbols
    not traded or not seen, an empty or interrupted run."""
    from engine.market.sanity import market_data_warnings

    lines = []
    if result.get("vs"):
        lines.append(f"decisions that differ: {len(result.get('differing_decisions', [])):,}")
    lines += [f"warning: {text}" for text in market_data_warnings(result.get("market_data"))]
    if result.get("untraded_symbols"):
        lines.append(
            f"note: {', '.join(result['untraded_symbols'])} in the snapshots but not in the rule set: not traded"
        )
    if result.get("unseen_symbols"):
        lines.append(f"warning: --symbols {', '.join(result['unseen_symbols'])}: not in the snapshots replayed")
    if not result["cycles"]:  # a window that misses readable snapshots is refused before this
        lines.append("no snapshot could be read: nothing was replayed")
    if result.get("interrupted"):
        lines.append("interrupted: the figures cover the cycles done before Ctrl-C")
    return lines
