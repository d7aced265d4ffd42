"""Reading the source files a build spec names into cleaned, time-indexed columns.

Each file is read narrowly (its schema first, then only the time, value and filter
columns), its times made epoch seconds and its values floats; the pure functions of
:mod:`engine.replay.build` stitch, clean and publish them. What was read and what was
wrong is collected in a :class:`BuildReport` as data, for the command to show.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from adapters.snapshots.history.spec import ROLES, Source
from engine.common.errors import BuildSourceError
from engine.replay import build as sb

FORMATS = {".feather": "feather", ".parquet": "parquet", ".csv": "csv", ".csv.gz": "csv"}
TIME_COLUMNS = ("date", "timestamp", "time", "ts", "datetime", "open_time")
#: Snapshot field each role fills, per carried series.
FIELDS = {
    "mark": {"value": "mark"},
    "funding": {"value": "funding_rate"},
    "open_interest": {"value": "open_interest_usd"},
    "taker_volume": {"buy": "taker_buy_usd", "sell": "taker_sell_usd"},
    "exchange_netflow": {"value": "exchange_netflow_usd"},
    "fear_greed": {"value": "fear_greed"},
}
DEFAULT_SIDES = {"buy": "short", "sell": "long"}


class SourceError(BuildSourceError):
    """A source file that cannot be used; the message names the file and why."""


# ------------------------------------------------------------------ what a build found


@dataclass(frozen=True)
class TableRead:
    """One file of a table source, read: its rows and which column filled which field."""

    what: ClassVar[str] = "table"
    where: str
    label: str
    rows: int
    used: Mapping[str, str]  # snapshot field (or candle column) → source column


@dataclass(frozen=True)
class EventsRead:
    """One file of liquidation events, read: the events kept, by position liquidated."""

    what: ClassVar[str] = "events"
    where: str
    label: str
    events: int
    long: int
    short: int


@dataclass(frozen=True)
class CoverageRead:
    """The span in which a liquidation source counts a minute without events as 0."""

    what: ClassVar[str] = "coverage"
    where: str
    start: float
    end: float


Read = TableRead | EventsRead | CoverageRead


@dataclass
class BuildReport:
    """What a build found reading its sources, in order: what was read, and the problems."""

    problems: list[sb.Problem] = field(default_factory=list)
    reads: list[Read] = field(default_factory=list)

    def add(self, problems: Iterable[sb.Problem]) -> None:
        self.problems.extend(problems)

    @property
    def failed(self) -> bool:
        return any(p.is_error for p in self.problems)


# ------------------------------------------------------------------ one file


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


def _read_columns(path: Path, fmt: str, columns: list[str]) -> Any:
    """Only the columns needed: time, values and filter columns (a pandas DataFrame)."""
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


def _seconds(values: Any, unit: str | None) -> np.ndarray:
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


def _numbers(values: Any) -> np.ndarray:
    """Floats, NaN where a value is not a number (dropped later, and counted)."""
    import pandas as pd

    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def read_frame(
    source: Source, path: Path, extra_roles: Mapping[str, tuple[str, ...]]
) -> tuple[np.ndarray, dict[str, Any], dict[str, str]]:
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


# ------------------------------------------------------------------ one source


def _rows_of(source: Source, report: BuildReport) -> list[tuple[str, sb.Rows]] | None:
    """Each file of a table source as Rows named by snapshot field (or candle column)."""
    fields = FIELDS.get(source.kind, {r: r for r in ROLES["candles"]})
    parts = []
    for path, label in zip(source.files, source.labels):
        try:
            times, columns, roles = read_frame(source, path, ROLES[source.kind])
        except SourceError as error:
            report.add([sb.Problem(f"{source.where}: {label}", str(error), "error")])
            continue
        report.reads.append(TableRead(source.where, label, len(times), {fields[r]: c for r, c in roles.items()}))
        parts.append((label, sb.Rows(times, {fields[r]: _numbers(v) for r, v in columns.items()})))
    return parts if len(parts) == len(source.files) else None


def load_candles(source: Source, report: BuildReport) -> sb.Rows | None:
    """One stitched, cleaned candle series; None when a file could not be used."""
    parts = _rows_of(source, report)
    if parts is None:
        return None
    rows, problems = sb.stitch(parts, source.where, source.on_conflict)
    report.add(problems)
    rows, problems = sb.clean_candles(rows, source.where)
    report.add(problems)
    return rows


def load_series(source: Source, report: BuildReport) -> sb.Published | None:
    """One stitched, cleaned series with its publication times."""
    parts = _rows_of(source, report)
    if parts is None:
        return None
    rows, problems = sb.stitch(parts, source.where, source.on_conflict)
    report.add(problems)
    rows, problems = sb.clean_values(rows, source.where)
    report.add(problems)
    return sb.publish(rows, source.interval, source.lag)


def load_liquidations(source: Source, report: BuildReport) -> sb.Events | None:
    """Events from every file; an event already in an earlier-listed file is not counted
    twice (overlapping downloads), repeated events within one file are (several fills)."""
    seen: set[tuple[float, str, float]] = set()
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
        report.reads.append(
            EventsRead(source.where, label, int(keep.sum()), int((is_long & keep).sum()), int((~is_long & keep).sum()))
        )
    result = sb.events(
        np.concatenate(times_all), np.concatenate(long_all), np.concatenate(short_all), source.lag, source.coverage
    )
    if np.isfinite(result.coverage[0]):
        report.reads.append(
            CoverageRead(source.where, result.coverage[0] - source.lag, result.coverage[1] - source.lag)
        )
    return result
