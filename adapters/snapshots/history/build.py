"""From a validated build spec to a snapshot file: read the sources, align them, write the
snapshots as they are made.

The sources are read and checked first (:func:`build_from_spec`); the snapshots are then
made one by one by the pure aligner :func:`engine.replay.build.build_snapshots` and streamed
into a temporary file (:func:`write_snapshots`), renamed into place only when the caller
accepts what went through, so a failed or refused build leaves nothing behind.
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adapters.snapshots.history.sources import BuildReport, load_candles, load_liquidations, load_series
from adapters.snapshots.history.spec import Spec
from engine.common import interrupts
from engine.common.files import whole_file
from engine.common.times import readable_utc
from engine.market.snapshot import Snapshot, snapshot_to_json
from engine.replay import build as sb

#: The names an output file may have: columnar Parquet, or JSON lines (gzip by extension).
OUTPUT_SUFFIXES = (".parquet", ".jsonl", ".jsonl.gz")


def build_from_spec(spec: Spec) -> tuple[Iterator[Snapshot], BuildReport]:
    """The snapshots the spec describes, in time order, plus what was found reading the
    sources. The sources are read and checked here; the snapshots are made as they are
    consumed (engine.replay.build.build_snapshots), none when the report has failed."""
    report = BuildReport()
    symbols = {}
    for name, sources in spec.symbols.items():
        candles = load_candles(sources["candles"], report)
        series = {kind: load_series(src, report) for kind, src in sources.items() if kind in sb.SERIES}
        loaded = {kind: published for kind, published in series.items() if published is not None}
        liq = load_liquidations(sources["liquidations"], report) if "liquidations" in sources else None
        if candles is not None and len(loaded) == len(series):
            symbols[name] = sb.SymbolInputs(candles, loaded, liq)
    fear = load_series(spec.fear_greed, report) if spec.fear_greed is not None else None
    if report.failed:
        return iter(()), report
    return sb.build_snapshots(spec.start, spec.end, symbols, fear), report


def build_metadata(spec: Spec) -> dict[str, Any]:
    """Where a built file came from: window and sources as the spec names them (no
    absolute paths or clock times, so a rebuild writes the same metadata)."""
    sources: dict[str, Any] = {
        name: {kind: list(src.labels) for kind, src in s.items()} for name, s in spec.symbols.items()
    }
    if spec.fear_greed is not None:
        sources["fear_greed"] = list(spec.fear_greed.labels)
    return {"spec": spec.path.name, "from": readable_utc(spec.start), "to": readable_utc(spec.end), "sources": sources}


# ------------------------------------------------------------------ writing


def write_jsonl(snapshots: Iterable[Snapshot], path: Path) -> int:
    """Snapshots as JSON lines (gzip when the name ends in .gz), written atomically."""
    with whole_file(path) as tmp:
        return stream_jsonl(snapshots, tmp, compress=path.name.endswith(".gz"))


def stream_jsonl(snapshots: Iterable[Snapshot], path: Path, *, compress: bool) -> int:
    """Snapshots as JSON lines into ``path`` as they come (no temporary file: the caller renames)."""
    opener = gzip.open if compress else open
    count = 0
    with opener(path, "wt", encoding="utf-8") as handle:
        for snapshot in snapshots:
            handle.write(json.dumps(snapshot_to_json(snapshot), separators=(",", ":"), allow_nan=False) + "\n")
            count += 1
    return count


@dataclass
class Span:
    """The snapshots that went through a write: how many, the first and the last time."""

    count: int = 0
    first: float | None = None
    last: float | None = None


@dataclass(frozen=True)
class Written:
    """The outcome of :func:`write_snapshots`: what went through, and whether it was kept."""

    span: Span
    rows: int  # symbol rows (columnar) or lines (JSON lines)
    bytes: int  # size of the file kept (0 when not kept)
    kept: bool


def write_snapshots(
    snapshots: Iterable[Snapshot], out: Path, build: dict[str, Any], keep: Callable[[Span], bool]
) -> Written:
    """Write the snapshots as they come (memory holds a row group) into a temporary file:
    columnar for .parquet (``build`` kept in its metadata), JSON lines otherwise. Then
    ``keep`` sees what went through; when it says so, the file is renamed into ``out``, else
    nothing is left behind. OSError (naming ``out``'s problem) when it cannot be written."""
    from adapters.snapshots.columnar import stream_columnar

    span = Span()
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tracked = _tracked(snapshots, span)
        if out.name.endswith(".parquet"):
            rows = stream_columnar(tracked, tmp, build=build)
        else:
            rows = stream_jsonl(tracked, tmp, compress=out.name.endswith(".gz"))
        if not keep(span):
            return Written(span, rows, 0, kept=False)
        interrupts.defer()  # the file is whole: Ctrl-C from now on is honoured once it is in place
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()
    return Written(span, rows, out.stat().st_size, kept=True)


def _tracked(snapshots: Iterable[Snapshot], span: Span) -> Iterator[Snapshot]:
    """The snapshots as they pass, counted, with the first and last ts kept in ``span``."""
    for snapshot in snapshots:
        span.count += 1
        if span.first is None:
            span.first = snapshot.ts
        span.last = snapshot.ts
        yield snapshot
