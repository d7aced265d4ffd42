"""The words of `rulebot snapshots build/convert/info`: what a build read, what was written,
and what a snapshot file holds. Pure functions of the adapters' data (named through the
composition root, engine/cli/compose.py)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from engine.common.times import readable_minute, readable_utc
from engine.market.snapshot import INPUT_NAMES

if TYPE_CHECKING:
    from engine.cli.compose import (
        CoverageRead,
        EventsRead,
        FileRead,
        FreqtradeReport,
        Span,
        Summary,
        TableRead,
        Written,
    )

#: The inputs of a symbol, in the order `snapshots info` lists them (fear & greed is global).
INPUTS = tuple(name for name in INPUT_NAMES if name != "fear_greed")


def problem_lines(problems: Iterable[Any]) -> list[str]:
    """Each problem on its own line(s): a diagnostic as rulebot prints them, a build problem
    (engine.replay.build.Problem) as ``where: level: message``."""
    from engine.language.diagnostics import Diagnostic
    from engine.language.formats import as_text

    return [as_text([p]) if isinstance(p, Diagnostic) else str(p) for p in problems]


def size(n: int) -> str:
    return f"{n / 1e6:.2f} MB" if n >= 1e5 else f"{n / 1e3:.1f} kB"


# ------------------------------------------------------------------ build and convert


def read_line(read: TableRead | EventsRead | CoverageRead) -> str:
    """One line of what a build read from a source file."""
    if read.what == "table":
        table = cast("TableRead", read)
        used = ", ".join(f"{field}←`{column}`" for field, column in table.used.items())
        return f"  {table.where}: {table.label}: {table.rows:,} rows ({used})"
    if read.what == "events":
        events = cast("EventsRead", read)
        return (
            f"  {events.where}: {events.label}: {events.events:,} events ({events.long:,} long, {events.short:,} short)"
        )
    coverage = cast("CoverageRead", read)
    return f"  {coverage.where}: coverage {readable_utc(coverage.start)} → {readable_utc(coverage.end)}"


def bad_output(out: Path) -> str:
    return (
        f"{out}: error: the output must end in .parquet (columnar, by convention .snapshots.parquet), "
        ".jsonl or .jsonl.gz"
    )


def cannot_write(out: Path, error: OSError) -> str:
    return f"{out}: error: cannot write: {error.strerror or error}"


def written(out: Path, result: Written) -> str:
    span: Span = result.span
    first = readable_utc(span.first) if span.first is not None else "—"
    last = readable_utc(span.last) if span.last is not None else "—"
    return f"wrote {out}: {span.count:,} snapshots, {result.rows:,} rows, {size(result.bytes)}, {first} → {last}"


# ------------------------------------------------------------------ from freqtrade

FREQTRADE_SUFFIX = ".snapshots.parquet"
_WHAT = {"candles": "candles", "funding": "funding rates", "mark": "hourly mark prices"}


def bad_argument(option: str, message: str) -> str:
    return f"error: {option}: {message}" if option else f"error: {message}"


def bad_freqtrade_output(out: Path) -> str:
    return (
        f"{out}: error: the output must end in {FREQTRADE_SUFFIX} "
        "(a columnar snapshot file, which the dry-run replays on its fast path)"
    )


def freqtrade_read_lines(reads: Iterable[FileRead]) -> list[str]:
    """One line per file read: what it held, how many rows were kept, from when to when."""
    return [
        f"  {read.path.name}: {read.rows:,} {_WHAT.get(read.what, read.what)}, "
        f"{readable_minute(read.first)} → {readable_minute(read.last)}"
        for read in reads
    ]


def freqtrade_common(report: FreqtradeReport, timeframe: str, pairs: int) -> str:
    """How many snapshots will be made: the candle times every pair has."""
    every = "every pair has" if pairs > 1 else "of the pair"
    first = readable_minute(report.first) if report.first is not None else "—"
    last = readable_minute(report.last) if report.last is not None else "—"
    return f"  {report.common:,} {timeframe} candle(s) {every}, opening {first} → {last}"


def freqtrade_failed(datadir: Path) -> str:
    return f"{datadir}: cannot make snapshots from this freqtrade data (above); nothing written"


# ------------------------------------------------------------------ info


def provenance(build: dict[str, Any]) -> str:
    """Where a columnar file came from, as its metadata says (build spec, conversion, other)."""
    if "spec" in build:
        return f"  built:     from {build['spec']} ({build.get('from')} → {build.get('to')})"
    if "freqtrade" in build:
        pairs = ", ".join(f"{pair} as {symbol}" for symbol, pair in dict(build.get("pairs") or {}).items())
        return f"  built:     from freqtrade data {build['freqtrade']} ({build.get('timeframe')} candles of {pairs})"
    if "converted_from" in build:
        return f"  converted: from {', '.join(map(str, build['converted_from']))}"
    return "  origin:    " + ", ".join(f"{k}: {v}" for k, v in sorted(build.items()))


def format_lines(facts: dict[str, Any] | None) -> list[str]:
    """The format line (and provenance) of a file, from compose.snapshot_file_format."""
    if facts is None:
        return []
    if facts["format"] == "columnar":
        lines = [
            f"  format:    columnar Parquet v{facts['format_version']}, {size(facts['bytes'])}, "
            f"{facts['rows']:,} rows in {facts['row_groups']} row group(s), {facts['compression']}"
        ]
        if facts["build"]:
            lines.append(provenance(facts["build"]))
        return lines
    kind = "gzip JSON lines" if facts["format"] == "jsonl.gz" else "JSON lines"
    return [f"  format:    {kind}, {size(facts['bytes'])}"]


def gap_lines(step: float, found: list[tuple[float, float, int]], limit: int = 10) -> list[str]:
    """The gaps (adapters' info.gaps: the most common step and each run of missing cycles)."""
    if not found:
        return ["  gaps:      none"]
    unit = "min" if step == 60 else f"× {step:g}s"
    total = sum(n for _, _, n in found)
    lines = [f"  gaps:      {len(found):,} ({total:,} {unit} missing)"]
    for first, last, n in found[:limit]:
        start, end = readable_minute(first), readable_minute(last)
        span = start if n == 1 else f"{start} → {end[11:] if start[:10] == end[:10] else end}"
        lines.append(f"    {span} ({n:,} {unit})")
    if len(found) > limit:
        rest = found[limit:]
        lines.append(f"    … {len(rest):,} more gaps ({sum(n for _, _, n in rest):,} {unit})")
    return lines


def move_lines(times: list[float], prices: list[float]) -> list[str]:
    """The largest price move between snapshots, and the suspect ones (a bad print)."""
    from engine.market.price_moves import SUSPECT_RATIO, price_moves

    moves = price_moves(times, prices)
    if moves.largest is None or moves.largest_ts is None:
        return []
    lines = [
        f"    {'largest move':<16} {moves.largest * 100:+.2f} % at {readable_minute(moves.largest_ts)} "
        "(from the snapshot before)"
    ]
    if moves.suspect and moves.first_suspect_ts is not None:
        lines.append(
            f"    {'suspect prices':<16} {moves.suspect:,} move(s) of {(SUSPECT_RATIO - 1) * 100:.0f} % "
            f"or more between snapshots, the first at {readable_minute(moves.first_suspect_ts)}: check the source"
        )
    return lines


def readings(n: int) -> str:
    """Distinct publication times: how many separate readings the coverage is made of."""
    return f"{n:,} reading" + ("" if n == 1 else "s")


def describe(path: Path, facts: dict[str, Any] | None, summary: Summary) -> list[str]:
    """The info block of one file."""
    lines = [str(path), *format_lines(facts)]
    if not summary.snapshots:
        return [*lines, "  snapshots: none"]
    step, found = summary.gaps()
    every = f" (every {step:g}s)" if step and step != 60 else " (every 1m)" if step else ""
    first, last = readable_minute(summary.times[0]), readable_minute(summary.times[-1])
    lines.append(f"  snapshots: {summary.snapshots:,} from {first} to {last}{every}")
    lines += gap_lines(step, found)
    lines.append(f"  symbols:   {', '.join(sorted(summary.rows)) or 'none'}")

    def pct(n: int) -> str:
        return f"{100.0 * n / summary.snapshots:5.1f}%"

    if summary.fear_greed:
        lines.append(
            f"  global     fear_greed {pct(summary.fear_greed)} ({readings(len(summary.fear_greed_readings))})"
        )
    for name in sorted(summary.rows):
        lines.append(f"  {name:<10} {pct(summary.rows[name])} of snapshots")
        for input_name in INPUTS:
            n = summary.inputs[name].get(input_name, 0)
            if n:
                lines.append(f"    {input_name:<16} {pct(n)}  ({readings(len(summary.readings[name][input_name]))})")
        lines += move_lines(*summary.prices[name])
    return lines


@dataclass(frozen=True)
class SignalInputs:
    """The signal components of a rule set with their inputs (engine.trading.signals.coverage.layout),
    or ``problem``: why the rules could not be loaded."""

    rules_dir: str
    version: str = ""
    components: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    leader: str | None = None
    problem: str | None = None


def signal_input_lines(signals: SignalInputs, summary: Summary) -> list[str]:
    """Per signal component of the rules, the share of snapshots carrying all of its inputs,
    per symbol; a component whose input no snapshot carries is named: it can never vote."""
    if signals.problem is not None:
        return [f"  signals:   rules in {signals.rules_dir} not loaded ({signals.problem})"]
    if not summary.snapshots:
        return []
    symbols = sorted(summary.rows)
    head = f"{signals.rules_dir} ({signals.version}): share of snapshots with all of a component's inputs"
    lines = [f"  signals:   {head}"]
    width = max([len(c) for c, _ in signals.components] + [16])
    lines.append(f"    {'':<{width}} " + " ".join(f"{s:>10}" for s in symbols))
    for component, inputs in signals.components:
        counts = [summary.with_all(symbol, inputs, signals.leader) for symbol in symbols]
        cells = " ".join(f"{100.0 * n / summary.snapshots:9.1f}%" for n in counts)
        line = f"    {component:<{width}} {cells}"
        if not any(counts):
            never = [i for i in inputs if not any(summary.with_all(s, (i,), signals.leader) for s in symbols)]
            line += f"  never votes: {', '.join(never or inputs)} in no snapshot"
        lines.append(line)
    return lines
