"""Results in words: the text and JSON the commands print (validate's verdict, the dry-run
summary). Pure functions of the results; the commands choose the stream and the exit code."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: The dry-run figures of ``--format json`` and metrics.json, per run (and its ``--vs`` run).
SUMMARY_KEYS = (
    "version",
    "rule_set",
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
    "coverage",
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
    if result.get("learning"):
        out["learning"] = result["learning"]
    return out


def dry_run_text(result: dict[str, Any]) -> str:
    """The dry-run's figures as a table (one column per rule set; with ``--vs``, the first is
    ``--rules``, the second ``--vs``, then their difference), then its notes."""
    runs = [result] + ([result["vs"]] if result.get("vs") else [])
    lines = _table(_summary_rows(runs))
    return "\n".join(lines + _summary_notes(result))


def written_outputs(out_dir: str | None, report_path: str | None) -> list[str]:
    """The lines that say where a finished dry-run wrote its files."""
    lines = []
    if report_path:
        lines.append(f"report written to {report_path} (open it in a browser)")
    if out_dir:
        lines.append(
            f"files written to {out_dir}: trades.jsonl, decisions.jsonl, metrics.json, fingerprint.txt, result.json"
        )
    return lines


Number = Callable[[dict[str, Any]], float | None]


def _summary_rows(runs: list[dict[str, Any]]) -> list[tuple[str, ...]]:
    """One row per figure. With two runs, a last column "first − second" for every numeric
    row: positive means the first rule set (``--rules``) has more of it."""
    from engine.common.times import iso_utc as iso

    paired = len(runs) == 2
    rows: list[tuple[str, ...]] = []
    if paired:
        rows.append(
            (
                "",
                f"first: --rules {runs[0].get('rules_dir', '')}",
                f"second: --vs {runs[1].get('rules_dir', '')}",
                "first − second",
            )
        )

    def add(label: str, text: Callable[[dict[str, Any]], str], number: Number | None = None, unit: str = "") -> None:
        cells = [text(r) for r in runs]
        if paired:
            cells.append(_difference(number, unit, runs) if number else "")
        rows.append((label, *cells))

    def metric(key: str) -> Number:
        return lambda r: r["metrics"].get(key)

    add("rule set", lambda r: f"{r.get('rule_set') or '?'} {r['version']}")
    add("window", lambda r: f"{iso(r['start'])} → {iso(r['end'])}" if r["start"] is not None else "—")
    add("cycles", lambda r: f"{r['cycles']:,}", lambda r: r["cycles"], "count")
    add("starting equity", lambda r: _usd(r["metrics"]["starting_equity_usd"]), metric("starting_equity_usd"), "USD")
    add("trades", lambda r: f"{r['metrics']['trades']:,}", metric("trades"), "count")
    add("win rate", lambda r: f"{r['metrics']['win_rate'] * 100:.1f} %", lambda r: r["metrics"]["win_rate"] * 100, "pp")
    add(
        "net P&L",
        lambda r: f"{r['metrics']['net_pnl_usd']:+,.2f} USD ({r['metrics']['net_pnl_pct']:+.2f} %)",
        metric("net_pnl_usd"),
        "USD",
    )
    add("ending equity", lambda r: _usd(r["metrics"]["ending_equity_usd"]), metric("ending_equity_usd"), "USD")
    add("max drawdown", lambda r: f"{r['metrics']['max_drawdown_pct']:.2f} %", metric("max_drawdown_pct"), "pp")
    add(
        "Sharpe", lambda r: "—" if r["metrics"]["sharpe"] is None else f"{r['metrics']['sharpe']:.2f}", metric("sharpe")
    )
    add("exposure", lambda r: f"{r['metrics']['exposure_pct']:.1f} % of cycles", metric("exposure_pct"), "pp")
    add("fees paid", lambda r: _usd(r["metrics"]["fees_usd"]), metric("fees_usd"), "USD")
    add(FUNDING_LABEL, lambda r: f"{r['metrics']['funding_usd']:+,.2f} USD", metric("funding_usd"), "USD")
    for reason in sorted({k for r in runs for k in r["metrics"]["exit_reasons"]}):
        add(f"exits {reason}", _exits_with(reason), _count_of(reason), "count")
    for component in sorted({k for r in runs for k in r["metrics"]["attribution"]}):
        add(f"P&L {component}", _pnl_of(component), _share_of(component))
    add("fingerprint", lambda r: r["fingerprint"][:23])
    add("replay", lambda r: r.get("replay", "scalar"))
    return rows


#: The funding row says its sign as the report does ("Funding paid (negative: received)").
FUNDING_LABEL = "funding (+ paid, − received)"


def _usd(value: float) -> str:
    return f"{value:,.2f} USD"


def _difference(number: Number, unit: str, runs: list[dict[str, Any]]) -> str:
    """first − second, signed, in the row's unit ("pp": percentage points); "—" when either
    side has no value (a Sharpe ratio without enough points)."""
    first, second = number(runs[0]), number(runs[1])
    if first is None or second is None:
        return "—"
    delta = first - second
    if unit == "count":
        return f"{int(delta):+,}"
    if unit == "USD":
        return f"{delta:+,.2f} USD"
    if unit == "pp":
        return f"{delta:+.2f} pp"
    return f"{delta:+,.2f}"


def _exits_with(reason: str) -> Callable[[dict[str, Any]], str]:
    return lambda r: str(r["metrics"]["exit_reasons"].get(reason, 0))


def _pnl_of(component: str) -> Callable[[dict[str, Any]], str]:
    return lambda r: f"{r['metrics']['attribution'].get(component, 0.0):+,.2f}"


def _count_of(reason: str) -> Number:
    return lambda r: r["metrics"]["exit_reasons"].get(reason, 0)


def _share_of(component: str) -> Number:
    return lambda r: r["metrics"]["attribution"].get(component, 0.0)


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]


def _summary_notes(result: dict[str, Any]) -> list[str]:
    """What the figures alone do not say: differing decisions, each signal component's input
    coverage and those that never voted, refused market data, symbols not traded or not
    seen, an empty or interrupted run."""
    from engine.market.sanity import market_data_warnings
    from engine.trading.signals.coverage import coverage_lines

    lines = _learning_lines(result.get("learning"))
    if result.get("vs"):
        lines.append(f"decisions that differ: {len(result.get('differing_decisions', [])):,}")
    lines += coverage_lines(result.get("coverage"), result["version"] if result.get("vs") else None)
    lines += _coverage_warnings(result)
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


def _learning_lines(learning: dict[str, Any] | None) -> list[str]:
    """A walk-forward's learning in a few lines: the counts and each version that went live."""
    from engine.common.times import iso_utc as iso

    if not learning:
        return []
    lines = [
        f"learning: {learning['cycles']:,} cycles; {learning['applied']:,} learned versions went live, "
        f"{learning['rejected']:,} rejected by the promotion gate, {learning['refused']:,} refused by write-back; "
        f"{learning['first_version']} → {learning['last_version']}"
    ]
    for change in learning["changes"]:
        if change["status"] == "applied":
            gate = change.get("promotion") or {}
            difference = gate.get("difference_pct")
            shown = "" if difference is None else f" (gate {difference:+.4f} pts)"
            lines.append(f"  {iso(change['ts'])} {change['learner']}: {change['version']} live{shown}")
    return lines


def _coverage_warnings(result: dict[str, Any]) -> list[str]:
    """The components that never voted; with --vs, a warning both rule sets share is given
    once, and one of a single rule set names it."""
    from engine.trading.signals.coverage import coverage_warnings

    first = coverage_warnings(result.get("coverage"))
    if not result.get("vs"):
        return [f"warning: {text}" for text in first]
    second = coverage_warnings(result["vs"].get("coverage"))
    lines = [f"warning: {text}" for text in first if text in second]
    for run, texts, other in ((result, first, second), (result["vs"], second, first)):
        lines += [f"warning: {run['version']}: {text}" for text in texts if text not in other]
    return lines
