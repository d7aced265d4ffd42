"""Building snapshot files from market history, and describing snapshot files.

``build_command`` reads a build spec (YAML, docs/snapshot-build.md), reads the source files
it names (freqtrade ``.feather``, Parquet, CSV), hands the arrays to the pure aligner
:mod:`engine.replay.build` and writes the snapshots (columnar, or JSON lines by
extension). ``info_command`` describes snapshot files of any format. Both report bad input
(spec, source or snapshot file: which and why) and return exit code 1; they never raise
for it.
"""

from __future__ import annotations

import gzip
import json
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from engine.language.durations import parse_duration, shown
from engine.market.snapshot import TIME_RANGE, Snapshot, plausible_time, snapshot_to_json
from engine.replay import build as sb

Echo = Callable[[str], Any]
SPEC_VERSION = 1
FORMATS = {".feather": "feather", ".parquet": "parquet", ".csv": "csv", ".csv.gz": "csv"}
TIME_COLUMNS = ("date", "timestamp", "time", "ts", "datetime", "open_time")
#: Column roles of each source kind → candidate column names, first present wins.
ROLES: dict[str, dict[str, tuple[str, ...]]] = {
    "candles": {
        "open": ("open", "o"),
        "high": ("high", "h"),
        "low": ("low", "l"),
        "close": ("close", "c"),
        "volume": ("volume", "v"),
    },
    "mark": {"value": ("mark", "mark_price", "close")},
    "funding": {"value": ("funding_rate", "fundingRate", "rate", "open")},
    "open_interest": {"value": ("oi_usd", "open_interest_usd", "oi_value")},
    "taker_volume": {"buy": ("taker_buy_usd", "buy_usd", "buyVol"), "sell": ("taker_sell_usd", "sell_usd", "sellVol")},
    "exchange_netflow": {"value": ("exchange_netflow_usd", "netflow_usd")},
    "fear_greed": {"value": ("fng", "fear_greed", "value")},
    "liquidations": {"side": ("side",), "size": ("size_usd", "usd", "value_usd", "amount_usd")},
}
#: Snapshot field each role fills, per carried series.
FIELDS = {
    "mark": {"value": "mark"},
    "funding": {"value": "funding_rate"},
    "open_interest": {"value": "open_interest_usd"},
    "taker_volume": {"buy": "taker_buy_usd", "sell": "taker_sell_usd"},
    "exchange_netflow": {"value": "exchange_netflow_usd"},
    "fear_greed": {"value": "fear_greed"},
}
COMMON_KEYS = {"file", "files", "format", "time", "time_unit", "filter", "on_conflict"}
DEFAULT_SIDES = {"buy": "short", "sell": "long"}
SYMBOL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,39}$")
#: The longest `interval` or `lag` a spec may give. A series whose rows become visible more
#: than a year after their time is useless to one-minute snapshots; a longer value is a slip
#: of the units (or 10**23 days), after which the input is silently never published.
MAX_PUBLICATION_DELAY = 365 * 86400.0


# ------------------------------------------------------------------ the spec


@dataclass(frozen=True)
class Source:
    """One input of the spec: where its rows are and how to read and publish them."""

    kind: str
    where: str  # spec path, e.g. symbols.BTCUSDT.funding
    files: tuple[Path, ...]
    labels: tuple[str, ...]  # the file names as the spec wrote them
    format: str | None = None
    columns: Mapping[str, str] = field(default_factory=dict)  # role → column, as overridden
    time: str | None = None
    time_unit: str | None = None
    filter: Mapping[str, tuple] = field(default_factory=dict)
    on_conflict: str = "first"
    interval: float = 0.0
    lag: float = 0.0
    sides: Mapping[str, str] = field(default_factory=dict)
    coverage: tuple[float, float] | None = None


@dataclass(frozen=True)
class Spec:
    path: Path
    start: float
    end: float
    symbols: Mapping[str, Mapping[str, Source]]
    fear_greed: Source | None


class _Checker:
    """Collects spec errors, each located in the YAML file."""

    def __init__(self, doc):
        self.doc, self.errors = doc, []

    def error(self, path: tuple, message: str) -> None:
        loc = self.doc.location_of(path)
        dotted = ".".join(str(p) for p in path) or "(top level)"
        self.errors.append(sb.Problem(f"{loc.file}:{loc.line}:{loc.col}", f"{dotted}: {message}", "error"))

    def mapping(self, value: Any, path: tuple, allowed: set[str], required: set[str] = frozenset()) -> bool:
        """Report a non-mapping, unknown keys and missing required keys; True when the
        mapping can be read further (unknown keys are reported, not fatal)."""
        if not isinstance(value, dict):
            self.error(path, f"must be a mapping, found {type(value).__name__}")
            return False
        for key in value:
            if key not in allowed:
                self.error(path + (key,), f"unknown key; expected one of {', '.join(sorted(allowed))}")
        missing = sorted(required - set(value))
        for key in missing:
            self.error(path, f"`{key}` is required")
        return not missing  # the caller reads the required keys: stop here without them

    def duration(self, value: Any, path: tuple) -> float:
        """Seconds of an `interval` or `lag`, at most :data:`MAX_PUBLICATION_DELAY`."""
        try:
            seconds = parse_duration(value)
        except ValueError as error:
            self.error(path, str(error))
            return 0.0
        if seconds > MAX_PUBLICATION_DELAY:
            self.error(
                path,
                f"{shown(value)} is longer than a year, too late for any snapshot to use; check the unit (e.g. 8h, 1d)",
            )
            return 0.0
        return seconds

    def time(self, value: Any, path: tuple, whole_minute: bool = False) -> float | None:
        """Epoch seconds of a spec time; None (reported) when it is not a time of market data."""
        seconds = _parse_time(value)
        if seconds is None:
            self.error(path, f"{value!r} is not a UTC time; write e.g. 2025-05-20T00:00:00Z")
        elif not plausible_time(seconds):
            self.error(path, f"{value!r} is outside {TIME_RANGE}, the times market data can have")
            return None
        elif whole_minute and seconds % 60:
            self.error(path, "must be on a whole minute (snapshots are one per minute)")
        return seconds


def _parse_time(value: Any) -> float | None:
    """Epoch seconds of an ISO time written in the spec (UTC unless it says otherwise)."""
    import pandas as pd

    if not isinstance(value, str):
        return None
    try:
        stamp = pd.Timestamp(value)
        if stamp is pd.NaT:
            return None
        stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
        if not plausible_time(stamp.timestamp()):  # the exact form below overflows nanoseconds after 2262
            return stamp.timestamp()
        return (stamp - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(seconds=1)
    except (ValueError, TypeError, OverflowError):  # OutOfBoundsDatetime is a ValueError
        return None


def _allowed_keys(kind: str) -> set[str]:
    """Keys a source of this kind may have: a typo must be an error, not ignored."""
    keys = COMMON_KEYS | set(ROLES[kind])
    if kind == "liquidations":
        return keys | {"sides", "lag", "coverage"}
    if kind != "candles":
        keys |= {"interval", "lag"}
    return keys


def _source(c: _Checker, kind: str, raw: Any, path: tuple, base: Path) -> Source | None:
    required = {"lag"} if kind == "liquidations" else set() if kind == "candles" else {"interval", "lag"}
    if not c.mapping(raw, path, _allowed_keys(kind), required):
        return None
    files = _files(c, raw, path)
    if raw.get("format") not in (None, "feather", "parquet", "csv"):
        c.error(path + ("format",), "must be feather, parquet or csv (default: from the file extension)")
    if raw.get("on_conflict", "first") not in ("first", "error"):
        c.error(path + ("on_conflict",), "must be `first` (keep the earliest-listed file's row) or `error`")
    if raw.get("time_unit") not in (None, "s", "ms", "us", "ns"):
        c.error(path + ("time_unit",), "must be s, ms, us or ns (default: guessed from the magnitude)")
    columns = {}
    for role in ROLES[kind]:
        if role in raw:
            if isinstance(raw[role], str) and raw[role]:
                columns[role] = raw[role]
            else:
                c.error(path + (role,), "must be a column name")
    for key in ("time",):
        if key in raw and not (isinstance(raw[key], str) and raw[key]):
            c.error(path + (key,), "must be a column name")
    return Source(
        kind,
        ".".join(map(str, path)),
        tuple(base / f for f in files),
        tuple(files),
        raw.get("format"),
        columns,
        raw.get("time"),
        raw.get("time_unit"),
        _filter(c, raw, path),
        raw.get("on_conflict", "first"),
        c.duration(raw["interval"], path + ("interval",)) if "interval" in raw else 0.0,
        c.duration(raw["lag"], path + ("lag",)) if "lag" in raw else 0.0,
        _sides(c, raw, path),
        _coverage(c, raw, path),
    )


def _files(c: _Checker, raw: dict, path: tuple) -> list[str]:
    if ("file" in raw) == ("files" in raw):
        c.error(path, "give exactly one of `file` (one path) or `files` (a list, stitched in order)")
        return []
    files = [raw["file"]] if "file" in raw else raw["files"]
    if not isinstance(files, list) or not files or not all(isinstance(f, str) and f for f in files):
        c.error(path + ("files" if "files" in raw else "file",), "must be a path or a non-empty list of paths")
        return []
    return files


def _filter(c: _Checker, raw: dict, path: tuple) -> dict[str, tuple]:
    value = raw.get("filter", {})
    if not isinstance(value, dict):
        c.error(path + ("filter",), "must map column names to a value or a list of values")
        return {}
    out = {}
    for column, wanted in value.items():
        wanted = tuple(wanted) if isinstance(wanted, list) else (wanted,)
        if not wanted or not all(isinstance(w, (str, int, float)) and not isinstance(w, bool) for w in wanted):
            c.error(path + ("filter", column), "must be a string or number, or a list of them")
        out[column] = wanted
    return out


def _sides(c: _Checker, raw: dict, path: tuple) -> dict[str, str]:
    value = raw.get("sides", {})
    if not isinstance(value, dict) or not all(v in ("long", "short") for v in value.values()):
        c.error(path + ("sides",), "must map each side code to `long` or `short` (the position liquidated)")
        return {}
    return {str(k).lower(): v for k, v in value.items()}


def _coverage(c: _Checker, raw: dict, path: tuple) -> tuple[float, float] | None:
    if "coverage" not in raw:
        return None
    value = raw["coverage"]
    if not c.mapping(value, path + ("coverage",), {"from", "to"}, {"from", "to"}):
        return None
    start, end = c.time(value["from"], path + ("coverage", "from")), c.time(value["to"], path + ("coverage", "to"))
    if start is not None and end is not None and start > end:
        c.error(path + ("coverage",), "`from` is after `to`")
    return (start or 0.0, end or 0.0)


def load_spec(path: str | os.PathLike) -> tuple[Spec | None, list]:
    """The validated spec, or None with every problem found (located in the YAML)."""
    from engine.language.yamlstrict import load_yaml_file

    doc, diagnostics = load_yaml_file(path)
    if doc is None or any(d.is_error for d in diagnostics):
        return None, diagnostics
    c = _Checker(doc)
    top = doc.data
    if not c.mapping(
        top,
        (),
        {"version", "description", "base_dir", "from", "to", "fear_greed", "symbols"},
        {"version", "from", "to", "symbols"},
    ):
        return None, c.errors
    if top["version"] != SPEC_VERSION:
        c.error(("version",), f"must be {SPEC_VERSION}")
    here = Path(path).resolve().parent
    base = here / top["base_dir"] if isinstance(top.get("base_dir"), str) else here
    if "base_dir" in top and not isinstance(top["base_dir"], str):
        c.error(("base_dir",), "must be a directory path (relative to this file)")
    start = c.time(top["from"], ("from",), whole_minute=True)
    end = c.time(top["to"], ("to",), whole_minute=True)
    if start is not None and end is not None and start >= end:
        c.error(("to",), "must be after `from`")
    fear = _source(c, "fear_greed", top["fear_greed"], ("fear_greed",), base) if "fear_greed" in top else None
    symbols = _symbols(c, top["symbols"], base)
    if c.errors:
        return None, c.errors
    return Spec(Path(path), start, end, symbols, fear), []


def _symbols(c: _Checker, raw: Any, base: Path) -> dict[str, dict[str, Source]]:
    if not isinstance(raw, dict) or not raw:
        c.error(("symbols",), "must map at least one symbol (e.g. BTCUSDT) to its sources")
        return {}
    kinds = {"candles", "mark", "funding", "open_interest", "taker_volume", "exchange_netflow", "liquidations"}
    out = {}
    for name, sources in raw.items():
        path = ("symbols", name)
        if not SYMBOL_NAME.match(str(name)):
            c.error(path, "a symbol is letters and digits, e.g. BTCUSDT")
        if not c.mapping(sources, path, kinds, {"candles"}):
            continue
        out[name] = {
            kind: s
            for kind, value in sources.items()
            if kind in kinds
            for s in [_source(c, kind, value, path + (kind,), base)]
            if s is not None
        }
    return out


# ------------------------------------------------------------------ reading sources


class SourceError(Exception):
    """A source file that cannot be used; the message names the file and why."""


def _format(source: Source, path: Path) -> str:
    """The spec's format, else the one the extension says."""
    if source.format:
        return source.format
    for suffix, fmt in FORMATS.items():
        if path.name.endswith(suffix):
            return fmt
    raise SourceError("cannot tell the format from the extension; set `format:` (feather, parquet or csv)")


def _column_names(path: Path, fmt: str) -> list[str]:
    """The columns, read from the schema only (so a big file is read once, narrowly)."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.feather as feather
    import pyarrow.parquet as pq

    if fmt == "parquet":
        return list(pq.read_schema(path).names)
    if fmt == "feather":
        try:
            with pa.ipc.open_file(path) as reader:  # feather v2 is an Arrow IPC file
                return list(reader.schema.names)
        except pa.ArrowInvalid:
            return list(feather.read_table(path).schema.names)  # feather v1
    return list(pd.read_csv(path, nrows=0).columns)


def _read_columns(path: Path, fmt: str, columns: list[str]):
    """Only the columns needed: time, values and filter columns."""
    import pandas as pd

    if fmt == "parquet":
        return pd.read_parquet(path, columns=columns)
    if fmt == "feather":
        return pd.read_feather(path, columns=columns)
    return pd.read_csv(path, usecols=columns)


def _pick(names: list[str], source: Source, role: str, candidates: tuple[str, ...]) -> str:
    """The column for a role: the spec's override, else the first candidate present."""
    wanted = source.columns.get(role) if role != "time" else source.time
    if wanted is not None:
        if wanted not in names:
            raise SourceError(f"no column `{wanted}` (`{role}:` in the spec); columns are {', '.join(names)}")
        return wanted
    for name in candidates:
        if name in names:
            return name
    raise SourceError(
        f"no {role} column: expected one of {', '.join(candidates)}; set `{role}:` in the spec "
        f"(columns are {', '.join(names)})"
    )


def _seconds(values, unit: str | None) -> np.ndarray:
    """Epoch seconds (NaN where not a time) from datetimes, numbers or date strings."""
    import pandas as pd

    if pd.api.types.is_datetime64_any_dtype(values):
        stamps = values.dt.tz_localize("UTC") if values.dt.tz is None else values.dt.tz_convert("UTC")
        return ((stamps - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(seconds=1)).to_numpy(dtype=float, na_value=np.nan)
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        numbers = values.to_numpy(dtype=float, na_value=np.nan)
        if unit is None:
            top = np.nanmax(np.abs(numbers)) if np.isfinite(numbers).any() else 0
            unit = "ns" if top > 1e17 else "us" if top > 1e14 else "ms" if top > 1e11 else "s"
        return numbers / {"s": 1, "ms": 1e3, "us": 1e6, "ns": 1e9}[unit]
    stamps = pd.to_datetime(values.astype("string"), utc=True, errors="coerce", format="ISO8601")
    return ((stamps - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(seconds=1)).to_numpy(dtype=float, na_value=np.nan)


def _numbers(values) -> np.ndarray:
    """Floats, NaN where a value is not a number (dropped later, and counted)."""
    import pandas as pd

    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def read_frame(source: Source, path: Path, extra_roles: Mapping[str, tuple[str, ...]]):
    """(times, {role: values}, {role: column name}) of one file, filtered; SourceError
    saying why not."""
    if not path.is_file():
        raise SourceError(f"no such file ({path})" if not path.exists() else f"not a regular file ({path})")
    fmt = _format(source, path)
    try:
        names = _column_names(path, fmt)
        time_column = _pick(names, source, "time", TIME_COLUMNS)
        roles = {role: _pick(names, source, role, candidates) for role, candidates in extra_roles.items()}
        for column in source.filter:
            if column not in names:
                raise SourceError(f"no column `{column}` to filter on; columns are {', '.join(names)}")
        wanted = list(dict.fromkeys([time_column, *roles.values(), *source.filter]))
        frame = _read_columns(path, fmt, wanted)
    except SourceError:
        raise
    except Exception as error:
        raise SourceError(f"cannot be read as {fmt}: {type(error).__name__}: {error}"[:300]) from error
    for column, allowed in source.filter.items():
        frame = frame[frame[column].isin(list(allowed))]
    if frame.empty:
        raise SourceError("no rows" + (f" match filter {dict(source.filter)}" if source.filter else ""))
    times = _seconds(frame[time_column], source.time_unit)
    if not np.isfinite(times).any():
        raise SourceError(f"column `{time_column}` holds no times")
    return times, {role: frame[column] for role, column in roles.items()}, roles


@dataclass
class _Report:
    """What a build found, for the command's output."""

    problems: list = field(default_factory=list)
    lines: list[str] = field(default_factory=list)

    def add(self, problems: Iterable) -> None:
        self.problems.extend(problems)

    @property
    def failed(self) -> bool:
        return any(p.is_error for p in self.problems)


def _rows_of(source: Source, report: _Report) -> list[tuple[str, sb.Rows]] | None:
    """Each file of a table source as Rows named by snapshot field (or candle column)."""
    fields = FIELDS.get(source.kind, {r: r for r in ROLES["candles"]})
    parts = []
    for path, label in zip(source.files, source.labels):
        try:
            times, columns, roles = read_frame(source, path, ROLES[source.kind])
        except SourceError as error:
            report.add([sb.Problem(f"{source.where}: {label}", str(error), "error")])
            continue
        used = ", ".join(f"{fields[r]}←`{c}`" for r, c in roles.items())
        report.lines.append(f"  {source.where}: {label}: {len(times):,} rows ({used})")
        parts.append((label, sb.Rows(times, {fields[r]: _numbers(v) for r, v in columns.items()})))
    return parts if len(parts) == len(source.files) else None


def load_candles(source: Source, report: _Report) -> sb.Rows | None:
    """One stitched, cleaned candle series; None when a file could not be used."""
    parts = _rows_of(source, report)
    if parts is None:
        return None
    rows, problems = sb.stitch(parts, source.where, source.on_conflict)
    report.add(problems)
    rows, problems = sb.clean_candles(rows, source.where)
    report.add(problems)
    return rows


def load_series(source: Source, report: _Report) -> sb.Published | None:
    """One stitched, cleaned series with its publication times."""
    parts = _rows_of(source, report)
    if parts is None:
        return None
    rows, problems = sb.stitch(parts, source.where, source.on_conflict)
    report.add(problems)
    rows, problems = sb.clean_values(rows, source.where)
    report.add(problems)
    return sb.publish(rows, source.interval, source.lag)


def load_liquidations(source: Source, report: _Report) -> sb.Events | None:
    """Events from every file; an event already in an earlier-listed file is not counted
    twice (overlapping downloads), repeated events within one file are (several fills)."""
    seen: set[tuple] = set()
    times_all, long_all, short_all = [], [], []
    for path, label in zip(source.files, source.labels):
        try:
            times, columns, _ = read_frame(source, path, ROLES["liquidations"])
        except SourceError as error:
            report.add([sb.Problem(f"{source.where}: {label}", str(error), "error")])
            return None
        sides, sizes = columns["side"].astype("string").fillna("").to_numpy(dtype=object), _numbers(columns["size"])
        mapping = {**DEFAULT_SIDES, **source.sides}
        unknown = Counter(s for s in sides if s.lower() not in mapping)
        if unknown:
            listed = ", ".join(f"{k!r} ({n:,} events)" for k, n in unknown.most_common(5))
            report.add(
                [
                    sb.Problem(
                        f"{source.where}: {label}",
                        f"side code(s) not mapped to a liquidated position: {listed}; map them "
                        f"under `sides:` in {source.where}, e.g. sides: {{S: short}}",
                        "error",
                    )
                ]
            )
            return None
        keys = list(zip(times.tolist(), sides.tolist(), sizes.tolist()))
        fresh = np.array([k not in seen for k in keys], dtype=bool)
        seen.update(keys)
        if not fresh.all():
            report.add(
                [
                    sb.Problem(
                        source.where,
                        f"{label}: {int((~fresh).sum()):,} event(s) already in an earlier file; counted once",
                        "info",
                    )
                ]
            )
        is_long = np.array([mapping[s.lower()] == "long" for s in sides], dtype=bool)
        bad = ~np.isfinite(times) | ~np.isfinite(sizes) | (sizes < 0)
        if bad.any():
            report.add(
                [
                    sb.Problem(
                        f"{source.where}: {label}", f"{int(bad.sum()):,} event(s) dropped: no time or size not ≥ 0"
                    )
                ]
            )
        keep = fresh & ~bad
        times_all.append(times[keep])
        long_all.append(np.where(is_long, sizes, 0.0)[keep])
        short_all.append(np.where(is_long, 0.0, sizes)[keep])
        report.lines.append(
            f"  {source.where}: {label}: {int(keep.sum()):,} events "
            f"({int((is_long & keep).sum()):,} long, {int((~is_long & keep).sum()):,} short)"
        )
    result = sb.events(
        np.concatenate(times_all), np.concatenate(long_all), np.concatenate(short_all), source.lag, source.coverage
    )
    if np.isfinite(result.coverage[0]):
        report.lines.append(
            f"  {source.where}: coverage {sb.utc(result.coverage[0] - source.lag)} → "
            f"{sb.utc(result.coverage[1] - source.lag)}"
        )
    return result


def build_from_spec(spec: Spec) -> tuple[Iterator[Snapshot], _Report]:
    """The snapshots the spec describes, in time order, plus what was found reading the
    sources. The sources are read and checked here; the snapshots are made as they are
    consumed (engine.replay.build.build_snapshots), none when the report has failed."""
    report = _Report()
    symbols = {}
    for name, sources in spec.symbols.items():
        candles = load_candles(sources["candles"], report)
        series = {kind: load_series(src, report) for kind, src in sources.items() if kind in sb.SERIES}
        liq = load_liquidations(sources["liquidations"], report) if "liquidations" in sources else None
        if candles is not None and None not in series.values():
            symbols[name] = sb.SymbolInputs(candles, series, liq)
    fear = load_series(spec.fear_greed, report) if spec.fear_greed is not None else None
    if report.failed:
        return iter(()), report
    return sb.build_snapshots(spec.start, spec.end, symbols, fear), report


def build_metadata(spec: Spec) -> dict:
    """Where a built file came from: window and sources as the spec names them (no
    absolute paths or clock times, so a rebuild writes the same metadata)."""
    sources = {name: {kind: list(src.labels) for kind, src in s.items()} for name, s in spec.symbols.items()}
    if spec.fear_greed is not None:
        sources["fear_greed"] = list(spec.fear_greed.labels)
    return {"spec": spec.path.name, "from": sb.utc(spec.start), "to": sb.utc(spec.end), "sources": sources}


# ------------------------------------------------------------------ writing


def write_jsonl(snapshots: Iterable[Snapshot], path: Path) -> int:
    """Snapshots as JSON lines (gzip when the name ends in .gz), written atomically."""
    tmp = path.with_name(path.name + ".tmp")
    count = stream_jsonl(snapshots, tmp, compress=path.name.endswith(".gz"))
    os.replace(tmp, path)
    return count


def stream_jsonl(snapshots: Iterable[Snapshot], path: Path, *, compress: bool) -> int:
    """Snapshots as JSON lines into ``path`` as they come (no temporary file: the caller renames)."""
    opener = gzip.open if compress else open
    count = 0
    with opener(path, "wt", encoding="utf-8") as handle:
        for snapshot in snapshots:
            handle.write(json.dumps(snapshot_to_json(snapshot), separators=(",", ":"), allow_nan=False) + "\n")
            count += 1
    return count


def _bad_output(out: Path, echo: Echo) -> bool:
    if out.name.endswith((".parquet", ".jsonl", ".jsonl.gz")):
        return False
    echo(
        f"{out}: error: the output must end in .parquet (columnar, by convention .snapshots.parquet), "
        ".jsonl or .jsonl.gz"
    )
    return True


def _stream_out(
    snapshots: Iterable[Snapshot], out: Path, build: dict, echo: Echo, refuse: Callable[[dict], str | None]
) -> int:
    """Write the snapshots as they come (memory holds a row group) into a temporary file:
    columnar for .parquet (``build`` kept in its metadata), JSON lines otherwise. Then
    ``refuse`` sees what went through ({"count", "first", "last"}); when it names no reason,
    the file is renamed into ``out`` and what was written is said. 0 when written, else 1
    and nothing is left behind."""
    from adapters.snapshots.columnar import stream_columnar

    span: dict = {"count": 0}
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tracked = _tracked(snapshots, span)
        if out.name.endswith(".parquet"):
            rows = stream_columnar(tracked, tmp, build=build)
        else:
            rows = stream_jsonl(tracked, tmp, compress=out.name.endswith(".gz"))
        why = refuse(span)
        if why:
            echo(why)
            return 1
        os.replace(tmp, out)
    except OSError as error:
        echo(f"{out}: error: cannot write: {error.strerror or error}")
        return 1
    finally:
        if tmp.exists():
            tmp.unlink()
    echo(
        f"wrote {out}: {span['count']:,} snapshots, {rows:,} rows, {_size(out.stat().st_size)}, "
        f"{sb.utc(span['first'])} → {sb.utc(span['last'])}"
    )
    return 0


def _echo_problems(problems: Iterable, echo: Echo) -> None:
    from engine.language.diagnostics import Diagnostic
    from engine.language.formats import as_text

    for p in problems:
        echo(as_text([p]) if isinstance(p, Diagnostic) else str(p))


def build_command(spec_path: str | os.PathLike, out_path: str | os.PathLike, echo: Echo) -> int:
    """`rulebot snapshots build SPEC --out FILE`: 0 when written, 1 for bad input."""
    out = Path(out_path)
    if _bad_output(out, echo):
        return 1
    spec, problems = load_spec(spec_path)
    if spec is None:
        _echo_problems(problems, echo)
        echo(f"{spec_path}: invalid build spec; nothing written")
        return 1
    snapshots, report = build_from_spec(spec)
    for line in report.lines:
        echo(line)
    _echo_problems(report.problems, echo)
    if report.failed:
        echo(f"{spec_path}: cannot build from these sources; nothing written")
        return 1

    def refuse(span: dict) -> str | None:
        if span["count"]:
            return None
        return (
            f"{spec_path}: error: no candle closes between {sb.utc(spec.start)} and {sb.utc(spec.end)}; nothing written"
        )

    return _stream_out(snapshots, out, build_metadata(spec), echo, refuse)


def _provenance(build: dict) -> str:
    """Where a columnar file came from, as its metadata says (build spec, conversion, other)."""
    if "spec" in build:
        return f"  built:     from {build['spec']} ({build.get('from')} → {build.get('to')})"
    if "converted_from" in build:
        return f"  converted: from {', '.join(map(str, build['converted_from']))}"
    return "  origin:    " + ", ".join(f"{k}: {v}" for k, v in sorted(build.items()))


def convert_command(paths: Iterable[str | os.PathLike], out_path: str | os.PathLike, echo: Echo) -> int:
    """`rulebot snapshots convert FILES… --out FILE`: the snapshots of FILES (any format, in the
    order given) as one file, e.g. JSON-lines recordings as one columnar file for the dry-run
    fast path. Streamed: memory holds a row group, not the recording. 0 when written
    (warnings allowed: a torn last line, a snapshot out of order); 1 when an input has an
    error, and then nothing is written."""
    from adapters.snapshots.columnar import read_many
    from engine.language.formats import as_text_capped

    paths, out = [os.fspath(p) for p in paths], Path(out_path)
    if _bad_output(out, echo):
        return 1
    problems: list = []

    def refuse(span: dict) -> str | None:
        if problems:
            echo(as_text_capped(problems))
        if span["count"] and not any(p.is_error for p in problems):
            return None
        return f"{out}: not written: " + (
            "the input has errors (above)" if span["count"] else "the input holds no snapshot"
        )

    return _stream_out(read_many(paths, problems), out, {"converted_from": [Path(p).name for p in paths]}, echo, refuse)


def _tracked(snapshots: Iterable[Snapshot], span: dict) -> Iterator[Snapshot]:
    """The snapshots as they pass, counted, with the first and last ts kept in ``span``."""
    for snapshot in snapshots:
        span["count"] += 1
        span.setdefault("first", snapshot.ts)
        span["last"] = snapshot.ts
        yield snapshot


# ------------------------------------------------------------------ info

INPUTS = (
    "price",
    "order_book",
    "candles_1m",
    "funding_rate",
    "open_interest",
    "liquidations",
    "taker_volume",
    "exchange_netflow",
    "volatility_skew",
)


def _present(sym) -> list[str]:
    """The inputs a symbol snapshot carries."""
    out = [
        name
        for name in (
            "price",
            "order_book",
            "funding_rate",
            "open_interest",
            "liquidations",
            "taker_volume",
            "exchange_netflow",
            "volatility_skew",
        )
        if name in sym.times
    ]
    if sym.candles:
        out.append("candles_1m")
    return out


@dataclass
class Summary:
    """Counts gathered while reading a snapshot file once."""

    snapshots: int = 0
    times: list[float] = field(default_factory=list)
    rows: Counter = field(default_factory=Counter)  # symbol → snapshots present
    inputs: dict[str, Counter] = field(default_factory=dict)  # symbol → input → snapshots
    readings: dict[str, dict[str, set]] = field(default_factory=dict)  # symbol → input → distinct _ts
    fear_greed: int = 0
    fear_greed_readings: set = field(default_factory=set)
    errors: int = 0
    warnings: int = 0
    prices: dict[str, tuple[list, list]] = field(default_factory=dict)  # symbol → (times, prices)

    def add(self, snapshot: Snapshot) -> None:
        self.snapshots += 1
        self.times.append(snapshot.ts)
        if snapshot.fear_greed is not None:
            self.fear_greed += 1
            self.fear_greed_readings.add(snapshot.fear_greed_ts)
        for name, sym in snapshot.symbols.items():
            self.rows[name] += 1
            counter = self.inputs.setdefault(name, Counter())
            readings = self.readings.setdefault(name, {})
            for input_name in _present(sym):
                counter[input_name] += 1
                readings.setdefault(input_name, set()).add(sym.times.get(input_name))
            self.prices.setdefault(name, ([], []))
            self.prices[name][0].append(snapshot.ts)
            self.prices[name][1].append(_price_of(sym))


def _price_of(sym) -> float:
    price = sym.get("price")
    if price is None and sym.candles:
        price = sym.candles[-1].close
    return float("nan") if price is None else price


def _move_lines(times: list[float], prices: list[float]) -> list[str]:
    from engine.market.price_moves import SUSPECT_RATIO, price_moves

    moves = price_moves(times, prices)
    if moves.largest is None:
        return []
    lines = [
        f"    {'largest move':<16} {moves.largest * 100:+.2f} % at {_minute(moves.largest_ts)} "
        "(from the snapshot before)"
    ]
    if moves.suspect:
        lines.append(
            f"    {'suspect prices':<16} {moves.suspect:,} move(s) of {(SUSPECT_RATIO - 1) * 100:.0f} % "
            f"or more between snapshots, the first at {_minute(moves.first_suspect_ts)}: check the source"
        )
    return lines


MAX_SHOWN = 50


def summarize(path: str | os.PathLike, echo: Echo) -> Summary:
    """Read a file once, echoing its problems; never raises."""
    from adapters.snapshots.columnar import read_any

    summary, shown = Summary(), 0
    for snapshot, problems in read_any(path):
        for p in problems:
            summary.errors += p.is_error
            summary.warnings += not p.is_error
        _echo_problems(problems[: max(0, MAX_SHOWN - shown)], echo)
        shown += len(problems)
        if snapshot is not None:
            summary.add(snapshot)
    if shown > MAX_SHOWN:
        echo(f"{path}: … {shown - MAX_SHOWN:,} more problem(s)")
    return summary


def _size(n: int) -> str:
    return f"{n / 1e6:.2f} MB" if n >= 1e5 else f"{n / 1e3:.1f} kB"


def _minute(ts: float) -> str:
    return sb.utc(ts)[:16] if ts % 60 == 0 else sb.utc(ts)[:19]


def gaps(times: list[float]) -> tuple[float, list[tuple[float, float, int]]]:
    """(step, [(first missing, last missing, count)]) with step the most common spacing."""
    if len(times) < 2:
        return 0.0, []
    diffs = np.diff(np.asarray(times, dtype=float))
    values, counts = np.unique(diffs, return_counts=True)
    step = float(values[np.argmax(counts)])
    out = []
    for i in np.flatnonzero(diffs > step * 1.5):
        missing = round(diffs[i] / step) - 1
        out.append((times[i] + step, times[i + 1] - step, max(missing, 1)))
    return step, out


def _gap_lines(times: list[float], limit: int = 10) -> list[str]:
    step, found = gaps(times)
    if not found:
        return ["  gaps:      none"]
    unit = "min" if step == 60 else f"× {step:g}s"
    total = sum(n for _, _, n in found)
    lines = [f"  gaps:      {len(found):,} ({total:,} {unit} missing)"]
    for first, last, n in found[:limit]:
        span = (
            _minute(first)
            if n == 1
            else f"{_minute(first)} → {_minute(last)[11:] if _minute(first)[:10] == _minute(last)[:10] else _minute(last)}"
        )
        lines.append(f"    {span} ({n:,} {unit})")
    if len(found) > limit:
        rest = found[limit:]
        lines.append(f"    … {len(rest):,} more gaps ({sum(n for _, _, n in rest):,} {unit})")
    return lines


def _file_lines(path: Path) -> list[str]:
    """The format line: columnar facts from the footer, or the JSON lines flavour."""
    name = path.name
    if name.endswith(".parquet"):
        from adapters.snapshots.columnar import columnar_info

        try:
            info = columnar_info(path)
        except Exception:
            return []
        lines = [
            f"  format:    columnar Parquet v{info['format_version']}, {_size(info['bytes'])}, "
            f"{info['rows']:,} rows in {info['row_groups']} row group(s), {info['compression']}"
        ]
        if info["build"]:
            lines.append(_provenance(info["build"]))
        return lines
    if not name.endswith((".jsonl", ".jsonl.gz")):
        return []  # not a snapshot file's name: the reader said so (RB710)
    kind = "gzip JSON lines" if name.endswith(".gz") else "JSON lines"
    size = path.stat().st_size if path.is_file() else 0
    return [f"  format:    {kind}, {_size(size)}"]


def _readings(n: int) -> str:
    """Distinct publication times: how many separate readings the coverage is made of."""
    return f"{n:,} reading" + ("" if n == 1 else "s")


def describe(path: Path, summary: Summary) -> list[str]:
    """The info block of one file."""
    lines = [str(path)] + _file_lines(path)
    if not summary.snapshots:
        return lines + ["  snapshots: none"]
    step, _ = gaps(summary.times)
    every = f" (every {step:g}s)" if step and step != 60 else " (every 1m)" if step else ""
    lines.append(
        f"  snapshots: {summary.snapshots:,} from {_minute(summary.times[0])} to {_minute(summary.times[-1])}{every}"
    )
    lines += _gap_lines(summary.times)
    lines.append(f"  symbols:   {', '.join(sorted(summary.rows)) or 'none'}")
    pct = lambda n: f"{100.0 * n / summary.snapshots:5.1f}%"  # noqa: E731
    if summary.fear_greed:
        lines.append(
            f"  global     fear_greed {pct(summary.fear_greed)} ({_readings(len(summary.fear_greed_readings))})"
        )
    for name in sorted(summary.rows):
        lines.append(f"  {name:<10} {pct(summary.rows[name])} of snapshots")
        for input_name in INPUTS:
            n = summary.inputs[name].get(input_name, 0)
            if n:
                lines.append(f"    {input_name:<16} {pct(n)}  ({_readings(len(summary.readings[name][input_name]))})")
        lines += _move_lines(*summary.prices[name])
    return lines


def info_command(paths: Iterable[str | os.PathLike], echo: Echo) -> int:
    """`rulebot snapshots info FILES...`: 0 when every file read cleanly, 1 otherwise."""
    code = 0
    for i, path in enumerate(paths):
        if i:
            echo("")
        summary = summarize(path, echo)
        for line in describe(Path(path), summary):
            echo(line)
        if summary.errors:
            echo(f"  problems:  {summary.errors:,} error(s), {summary.warnings:,} warning(s)")
            code = 1
    return code
