"""Columnar snapshot files (``.snapshots.parquet``): the compact, fast form for history.

One row per (ts, symbol), rows sorted by ts; a column per scalar input and per
``<input>_ts``; the usual single 1-minute candle as six ``candle_*`` columns, more than one
in the ``candles`` list column; book levels as list columns; ``fear_greed`` repeated on
each row of its snapshot. A snapshot without symbols is one row whose ``symbol`` is null.
As in JSON, a null ``<input>_ts`` of a present input means the snapshot's ts (for candles:
the last candle's close), so the mostly-distinct time columns cost almost nothing.
Why Parquet and the measured gain over gzip JSON lines: docs/snapshot-build.md.

Reading checks values exactly as :func:`engine.market.snapshot.parse_snapshot` does: clean rows
take a fast path; a snapshot with any suspect value (times outside the range of market
data included) is rebuilt as JSON and parsed, so a bad value is dropped and reported (RB703)
just as it would be in a JSON line. The ``symbol`` column must hold strings, and a null
symbol on a row that carries market data is an error (RB710 at that row): neither may lose
data silently.
"""

from __future__ import annotations

import gzip
import json
import logging
import math
import os
from collections.abc import Iterable, Iterator
from itertools import compress
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from engine.common.errors import RulebotError
from engine.common.files import whole_file
from engine.language.diagnostics import Diagnostic, Severity
from engine.market.snapshot import (
    FORMAT_VERSION,
    INPUT_NAMES,
    NON_NEGATIVE,
    SCALARS,
    Book,
    Candle,
    Snapshot,
    SymbolSnapshot,
    describe_ts,
    parse_snapshot,
    plausible_time,
)

logger = logging.getLogger(__name__)

COLUMNAR_VERSION = 1
EXTENSION = ".snapshots.parquet"
META_FORMAT, META_VERSION, META_BUILD = b"rulebot.format", b"rulebot.format_version", b"rulebot.build"
FORMAT_NAME = b"rulebot-snapshots"
ROW_GROUP = 65_536
PIECE = 8_192  # rows gathered as dicts before they become Arrow columns (streamed writes)

SCALAR_FIELDS = tuple(SCALARS)
TS_FIELDS = tuple(f"{name}_ts" for name in INPUT_NAMES if name != "fear_greed")
CANDLE_FIELDS = ("candle_ts", "candle_open", "candle_high", "candle_low", "candle_close", "candle_volume")
_LEVEL = pa.list_(pa.struct([("price", pa.float64()), ("size", pa.float64())]))
SCHEMA = pa.schema(
    [("ts", pa.float64()), ("symbol", pa.dictionary(pa.int32(), pa.string()))]
    + [(f, pa.float64()) for f in SCALAR_FIELDS + TS_FIELDS + CANDLE_FIELDS]
    + [
        ("candles", pa.list_(pa.list_(pa.float64()))),
        ("book_bids", _LEVEL),
        ("book_asks", _LEVEL),
        ("fear_greed", pa.float64()),
        ("fear_greed_ts", pa.float64()),
    ]
)
FLOAT_FIELDS = SCALAR_FIELDS + TS_FIELDS + CANDLE_FIELDS + ("fear_greed", "fear_greed_ts")
#: Columns holding times, which must be plausible (engine.market.snapshot.plausible_time).
TIME_FIELDS = TS_FIELDS + ("candle_ts", "fear_greed_ts")
#: Columns of one symbol's market data: a row with any of them needs a symbol.
SYMBOL_FIELDS = SCALAR_FIELDS + TS_FIELDS + CANDLE_FIELDS + ("candles", "book_bids", "book_asks")
#: Columns of mostly distinct values, where a dictionary only costs space.
NO_DICTIONARY = (
    "ts",
    "price",
    "mark",
    "bid",
    "ask",
    "liq_long_usd",
    "liq_short_usd",
    "taker_buy_usd",
    "taker_sell_usd",
) + CANDLE_FIELDS


class ColumnarError(RulebotError):
    """A columnar file that cannot be read at all (raised by :func:`read_columnar` only)."""

    code = "RB710"


# ------------------------------------------------------------------ writing


def _row(snapshot: Snapshot, sym: SymbolSnapshot | None) -> dict[str, Any]:
    fg_ts = snapshot.fear_greed_ts
    row: dict[str, Any] = {
        "ts": snapshot.ts,
        "symbol": None if sym is None else sym.symbol,
        "fear_greed": snapshot.fear_greed,
        "fear_greed_ts": None if snapshot.fear_greed is not None and fg_ts == snapshot.ts else fg_ts,
    }
    if sym is None:
        return row
    row.update(sym.values)
    defaults = _default_times(snapshot.ts, sym)
    row.update({f"{name}_ts": ts for name, ts in sym.times.items() if defaults.get(name) != ts})
    if len(sym.candles) == 1:
        c = sym.candles[0]
        row.update(zip(CANDLE_FIELDS, (c.ts, c.open, c.high, c.low, c.close, c.volume)))
    elif sym.candles:
        row["candles"] = [[c.ts, c.open, c.high, c.low, c.close, c.volume] for c in sym.candles]
    if sym.book is not None:
        row["book_bids"] = [{"price": p, "size": s} for p, s in sym.book.bids]
        row["book_asks"] = [{"price": p, "size": s} for p, s in sym.book.asks]
    return row


def _default_times(ts: float, sym: SymbolSnapshot) -> dict[str, float]:
    """The times a reader assumes when ``<input>_ts`` is null, as in JSON (docs/snapshots.md):
    the snapshot's ts for an input that is present, the last candle's close for candles.
    Storing null for those keeps the mostly-distinct time columns nearly free."""
    out = {SCALARS[f][0]: ts for f in sym.values}
    if sym.book is not None:
        out["order_book"] = ts
    if sym.candles:
        out["candles_1m"] = sym.candles[-1].ts + 60.0
    return out


def _table(rows: list[dict], metadata: dict[bytes, bytes]) -> pa.Table:
    columns = {name: [r.get(name) for r in rows] for name in SCHEMA.names}
    arrays = [
        pa.array(columns[f.name], type=f.type.value_type if pa.types.is_dictionary(f.type) else f.type) for f in SCHEMA
    ]
    arrays[1] = arrays[1].dictionary_encode()
    return pa.Table.from_arrays(arrays, schema=SCHEMA.with_metadata(metadata))


def _metadata(build: dict | None) -> dict[bytes, bytes]:
    """The file's own metadata: format name and version, and where the data came from."""
    metadata = {META_FORMAT: FORMAT_NAME, META_VERSION: str(COLUMNAR_VERSION).encode()}
    if build is not None:
        metadata[META_BUILD] = json.dumps(build, sort_keys=True, separators=(",", ":")).encode()
    return metadata


WRITE_OPTIONS = dict(
    compression="zstd",
    compression_level=15,
    write_statistics=["ts"],
    use_dictionary=[n for n in SCHEMA.names if n not in NO_DICTIONARY],
)


def write_columnar(snapshots: Iterable[Snapshot], path: str | os.PathLike, *, build: dict | None = None) -> int:
    """Write snapshots (sorted by ts here) atomically; returns the number of rows.

    ``build`` (JSON-able) is kept in the file metadata to say where the data came from.
    Two snapshots with the same ts cannot be told apart in rows: ValueError."""
    ordered = sorted(snapshots, key=lambda s: s.ts)
    for a, b in zip(ordered, ordered[1:]):
        if a.ts == b.ts:
            raise ValueError(f"two snapshots with ts {a.ts:g}; a columnar file holds one per ts")
    rows = [_row(s, sym) for s in ordered for sym in (list(s.symbols.values()) or (None,))]
    metadata = _metadata(build)
    table = _table(rows, metadata)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with whole_file(path) as tmp:
        pq.write_table(table, tmp, row_group_size=ROW_GROUP, **WRITE_OPTIONS)
    return len(rows)


def stream_columnar(snapshots: Iterable[Snapshot], path: str | os.PathLike, *, build: dict | None = None) -> int:
    """Write snapshots that come in strictly increasing ts order (ValueError otherwise) one
    row group at a time, so memory holds a row group, not the file (``snapshots convert``).
    Writes ``path`` itself (no temporary file: the caller renames); returns the number of rows."""
    metadata = _metadata(build)
    written, rows, pieces, last = 0, [], [], float("-inf")
    with pq.ParquetWriter(path, SCHEMA.with_metadata(metadata), **WRITE_OPTIONS) as writer:
        for snapshot in snapshots:
            if not snapshot.ts > last:
                raise ValueError(f"ts {describe_ts(snapshot.ts)} is not after {describe_ts(last)}")
            last = snapshot.ts
            rows += [_row(snapshot, sym) for sym in (list(snapshot.symbols.values()) or (None,))]
            if len(rows) >= min(PIECE, ROW_GROUP):  # rows as dicts are large: keep them as Arrow pieces
                pieces.append(_table(rows, metadata))
                rows = []
            if sum(len(p) for p in pieces) >= ROW_GROUP:
                written += _write_group(writer, pieces)
                pieces = []
        if rows:
            pieces.append(_table(rows, metadata))
        if pieces or not written:
            written += _write_group(writer, pieces or [_table([], metadata)])
    return written


def _write_group(writer: pq.ParquetWriter, pieces: list[pa.Table]) -> int:
    """The pieces as one row group (their dictionaries unified); returns its row count."""
    table = pa.concat_tables(pieces).unify_dictionaries().combine_chunks()
    writer.write_table(table, row_group_size=len(table) or None)
    return len(table)


# ------------------------------------------------------------------ reading


def _rb710(where: str, why: str) -> Diagnostic:
    return Diagnostic("RB710", f"cannot be read: {why}"[:300], file=where)


def _open(path: Path, where: str) -> tuple[pq.ParquetFile | None, list[Diagnostic]]:
    """The Parquet file when it is a rulebot columnar file of a version this code reads."""
    try:
        handle = pq.ParquetFile(path)
    except (OSError, pa.ArrowException, ValueError) as error:
        return None, [_rb710(where, str(getattr(error, "strerror", None) or error))]
    meta = handle.schema_arrow.metadata or {}
    if meta.get(META_FORMAT) != FORMAT_NAME:
        return None, [_rb710(where, "a Parquet file, but not a rulebot snapshot file (no rulebot.format metadata)")]
    version = meta.get(META_VERSION)
    if version != str(COLUMNAR_VERSION).encode():
        return None, [_version_problem(version, where)]
    problems = []
    if "ts" not in handle.schema_arrow.names:
        return None, [_rb710(where, "no `ts` column")]
    bad_symbol = _symbol_column_problem(handle.schema_arrow)
    if bad_symbol:
        return None, [_rb710(where, bad_symbol)]
    unknown = [n for n in handle.schema_arrow.names if n not in SCHEMA.names]
    if unknown:
        problems.append(
            Diagnostic(
                "RB704", f"unknown column(s) {', '.join(unknown)}; ignored", file=where, severity=Severity.WARNING
            )
        )
    return handle, problems


def _version_problem(version: bytes | None, where: str) -> Diagnostic:
    """RB705 for another (or no) version number; RB710 when the metadata is not a number
    at all (it is bytes, and may not even be text)."""
    text = "?" if version is None else version.decode("ascii", errors="replace")
    if version is not None and not text.isdigit():
        return _rb710(where, f"rulebot.format_version metadata {version[:40]!r} is not a version number")
    return Diagnostic("RB705", f"columnar format_version {text!r}; this rulebot reads {COLUMNAR_VERSION}", file=where)


def _symbol_column_problem(schema: pa.Schema) -> str:
    """Why the ``symbol`` column cannot name the rows' symbols ('' when it can). Without
    it every row's market data would be dropped as "no symbol"; numbers would become
    symbols named "0", "1", …"""
    index = schema.get_field_index("symbol")
    if index < 0:
        return "no `symbol` column"
    kind = schema.field(index).type
    kind = kind.value_type if pa.types.is_dictionary(kind) else kind
    if not (
        pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
        or getattr(pa.types, "is_string_view", lambda _: False)(kind)
    ):
        return f"the `symbol` column holds {kind}, not strings"
    return ""


# Arrow's own to_numpy goes through its pandas conversion, which imports pandas (a quarter of
# a second) even for a plain float column, and Array.cast imports pyarrow.compute (0.03 s);
# these read the buffers with numpy instead, casting only what is not float64 already.


def _whole(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    """One contiguous array (a column read from a file may come in chunks)."""
    return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column


def _bits(buffer: pa.Buffer | None, offset: int, n: int) -> np.ndarray:
    """Arrow's little-endian bitmap as n booleans starting at bit ``offset``."""
    if buffer is None or n == 0:
        return np.zeros(n, dtype=bool)
    bits = np.unpackbits(np.frombuffer(buffer, dtype=np.uint8), bitorder="little")
    return bits[offset : offset + n].astype(bool)


def _valid(array: pa.Array) -> np.ndarray:
    """Per row, whether the value is present (not null; a dictionary's null entries count)."""
    if pa.types.is_dictionary(array.type):
        valid = _valid(array.indices)
        entries = _valid(array.dictionary)
        if entries.all():
            return valid
        kind = array.indices.type
        code = f"{'i' if pa.types.is_signed_integer(kind) else 'u'}{kind.bit_width // 8}"
        data = array.indices.buffers()[1]
        indices = np.frombuffer(data, code, len(array), array.indices.offset * (kind.bit_width // 8))
        return valid & entries[np.where(valid, indices, 0)]
    if array.null_count == 0:
        return np.ones(len(array), dtype=bool)
    return _bits(array.buffers()[0], array.offset, len(array))


def _raw_floats(column: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """The column as float64 values (whatever a null slot holds) and its validity."""
    array = _whole(column if column.type == pa.float64() else column.cast(pa.float64()))
    n = len(array)
    data = array.buffers()[1]
    values = np.zeros(n) if data is None or n == 0 else np.frombuffer(data, np.float64, n, array.offset * 8)
    return values, _valid(array)


def _numbers(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Float values with NaN for nulls (a stored NaN is told apart by :func:`_nan_rows`)."""
    if not (pa.types.is_floating(column.type) or pa.types.is_integer(column.type) or pa.types.is_decimal(column.type)):
        raise TypeError(f"a column of type {column.type} where numbers belong")
    values, valid = _raw_floats(column)
    return np.where(valid, values, np.nan)


def _suspect(numbers: dict[str, np.ndarray], n: int, ts: np.ndarray) -> np.ndarray:
    """Rows with a value parse_snapshot would drop; those take the careful path."""
    bad = np.zeros(n, dtype=bool)
    with np.errstate(invalid="ignore"):
        for name, values in numbers.items():
            if name in SCALARS and SCALARS[name][1]:
                bad |= values <= 0
            elif name in NON_NEGATIVE:
                bad |= values < 0
            elif name == "fear_greed":
                bad |= (values < 0) | (values > 100)
            elif name in TIME_FIELDS:
                bad |= ~np.isnan(values) & ~plausible_time(values)  # a null is no time, not a bad one
            bad |= np.isinf(values)
        if "candle_ts" in numbers or "candle_open" in numbers:
            c = [numbers.get(f, np.full(n, np.nan)) for f in CANDLE_FIELDS]
            missing = np.isnan(np.stack(c))
            ok = (
                ~missing.any(axis=0)
                & (np.minimum(c[1], c[4]) >= c[3])
                & (np.maximum(c[1], c[4]) <= c[2])
                & (c[3] > 0)
                & (c[5] >= 0)
            )
            bad |= ~missing.all(axis=0) & ~ok
            bad |= c[0] >= ts  # a candle opening at or after its snapshot: from the future
    return bad


def _orphans(batch: pa.RecordBatch) -> list[bool] | None:
    """Per row, whether it carries market data but no symbol (None: no such row). A row
    with a null symbol is how an empty snapshot is written; with data it cannot be placed."""
    nameless = ~_valid(_whole(batch.column("symbol")))
    if not nameless.any():
        return None
    carried = np.zeros(batch.num_rows, dtype=bool)
    for name in SYMBOL_FIELDS:
        index = batch.schema.get_field_index(name)
        if index >= 0:
            carried |= _valid(_whole(batch.column(index)))
    orphans = nameless & carried
    return orphans.tolist() if orphans.any() else None


def _nan_rows(batch: pa.RecordBatch) -> np.ndarray:
    """Rows holding a stored NaN (not a null): parse_snapshot drops those as not finite."""
    bad = np.zeros(batch.num_rows, dtype=bool)
    for name in FLOAT_FIELDS + ("ts",):
        index = batch.schema.get_field_index(name)
        if index >= 0 and pa.types.is_floating(batch.column(index).type):
            values, valid = _raw_floats(batch.column(index))
            bad |= np.isnan(values) & valid
    return bad


class _Rows:
    """Same-shaped values of a group of columns, row by row: for each row the names of the
    columns present there and their values, without a Python test per cell."""

    def __init__(self, names: list[str], numbers: dict[str, np.ndarray], n: int, keys: list[str] | None = None):
        self.names = names
        self.keys = keys or names
        self.shapes: dict[int, tuple] = {}
        if not names:
            self.rows, self.masks = [()] * n, [0] * n
            return
        present = ~np.isnan(np.stack([numbers[f] for f in names]))
        self.masks = (present * (1 << np.arange(len(names)))[:, None]).sum(axis=0).tolist()
        self.rows = list(zip(*(numbers[f].tolist() for f in names)))

    def get(self, i: int) -> dict:
        mask = self.masks[i]
        if not mask:
            return {}
        shape = self.shapes.get(mask)
        if shape is None:
            shape = self.shapes[mask] = (
                tuple(f for k, f in enumerate(self.keys) if mask >> k & 1),
                tuple(mask >> k & 1 for k in range(len(self.names))),
            )
        return dict(zip(shape[0], compress(self.rows[i], shape[1])))


class _Batch:
    """One record batch, decoded once: per-row access for the fast and the careful path."""

    def __init__(self, batch: pa.RecordBatch, first_row: int = 0):
        self.batch, n = batch, batch.num_rows
        self.n, self.first_row = n, first_row
        self.ts = _numbers(batch.column("ts")).tolist()
        self.symbol: list[str | None] = (
            batch.column("symbol").cast(pa.string()).to_pylist() if "symbol" in batch.schema.names else [None] * n
        )
        numbers = {}
        for name in FLOAT_FIELDS:
            index = batch.schema.get_field_index(name)
            if index >= 0 and batch.column(index).null_count < n:
                numbers[name] = _numbers(batch.column(index))
        self.suspect = (_suspect(numbers, n, np.asarray(self.ts, dtype=float)) | _nan_rows(batch)).tolist()
        self.orphan = _orphans(batch)
        self.values = _Rows([f for f in SCALAR_FIELDS if f in numbers], numbers, n)
        present = [f for f in TS_FIELDS if f in numbers]
        self.times = _Rows(present, numbers, n, [f[:-3] for f in present])
        self.candle = list(zip(*(numbers[f].tolist() for f in CANDLE_FIELDS))) if "candle_ts" in numbers else None
        self.fear = (
            numbers["fear_greed"].tolist() if "fear_greed" in numbers else None,
            numbers["fear_greed_ts"].tolist() if "fear_greed_ts" in numbers else None,
        )
        self.lists = {
            name: batch.column(name).to_pylist()
            for name in ("candles", "book_bids", "book_asks")
            if name in batch.schema.names and batch.column(name).null_count < n
        }
        self.has_book = bool(self.lists.keys() & {"book_bids", "book_asks"})

    def row(self, i: int) -> int:
        """Row ``i``'s number in the file (1-based): the LINE of a columnar file's diagnostics."""
        return self.first_row + i + 1

    def cell(self, name: str, i: int):
        """One stored value as Python (None for null), for the careful path."""
        index = self.batch.schema.get_field_index(name)
        return None if index < 0 else self.batch.column(index)[i].as_py()


def _levels(raw: list | None) -> tuple[tuple[float, float], ...] | None:
    if raw is None:
        return None
    levels = tuple((level["price"], level["size"]) for level in raw)
    for price, size in levels:
        if price is None or size is None or not 0 < price < math.inf or not 0 <= size < math.inf:
            raise ValueError("bad book level")
    return levels


def _list_candles(raw: list, ts: float) -> tuple[Candle, ...]:
    out: list[Candle] = []
    for row in raw:
        if (
            row is None
            or len(row) != 6
            or any(x is None or not math.isfinite(x) for x in row)
            or not plausible_time(row[0])
            or row[0] >= ts
        ):
            raise ValueError("bad candle")
        t, o, h, low, c, v = row
        if not (low <= min(o, c) <= max(o, c) <= h and low > 0 and v >= 0) or (out and t <= out[-1].ts):
            raise ValueError("bad candle")
        out.append(Candle(*row))
    return tuple(out)


def _fast_symbol(b: _Batch, i: int, ts: float, name: str) -> SymbolSnapshot:
    """The symbol ``name`` of row ``i``, its numbers already checked by :func:`_suspect`;
    ValueError for what only a look at the row can see (list columns)."""
    values, times = b.values.get(i), b.times.get(i)
    for f in values:  # a present input without its own time was published at ts
        times.setdefault(SCALARS[f][0], ts)
    candles: tuple[Candle, ...] = ()
    if b.candle is not None and b.candle[i][0] == b.candle[i][0]:
        candles = (Candle(*b.candle[i]),)
    elif "candles" in b.lists and b.lists["candles"][i] is not None:
        candles = _list_candles(b.lists["candles"][i], ts)
    if candles:
        times.setdefault("candles_1m", candles[-1].ts + 60.0)
    book = None
    if b.has_book:
        bids, asks = (_levels(b.lists[k][i]) if k in b.lists else None for k in ("book_bids", "book_asks"))
        if (bids is None) != (asks is None):
            raise ValueError("book needs bids and asks")
        if bids is not None and asks is not None:  # both or neither, checked just above
            book = Book(bids, asks)
            times.setdefault("order_book", ts)
    return SymbolSnapshot(name, MappingProxyType(values), MappingProxyType(times), book, candles)


def _json_symbol(b: _Batch, i: int) -> dict:
    """Row ``i`` as the JSON object of one symbol, values exactly as stored."""
    obj = {f: v for f in SCALAR_FIELDS + TS_FIELDS if (v := b.cell(f, i)) is not None}
    candle = [b.cell(f, i) for f in CANDLE_FIELDS]
    if any(x is not None for x in candle):
        obj["candles"] = [candle]
    elif b.cell("candles", i) is not None:
        obj["candles"] = b.cell("candles", i)
    bids, asks = b.cell("book_bids", i), b.cell("book_asks", i)
    if bids is not None or asks is not None:
        obj["book"] = {"bids": _json_levels(bids), "asks": _json_levels(asks)}
    return obj


def _json_levels(raw: Any) -> Any:
    """Stored book levels as JSON [[price, size], …]; anything else is passed on as it is,
    for parse_snapshot to report (RB703) rather than fail the whole file here."""
    try:
        return None if raw is None else [[x["price"], x["size"]] for x in raw]
    except (TypeError, KeyError, IndexError):
        return raw


def _careful(rows: list[tuple[_Batch, int]], where: str) -> tuple[Snapshot | None, list[Diagnostic]]:
    """A snapshot rebuilt as JSON and parsed, so every bad value is dropped and reported."""
    b0, i0 = rows[0]
    obj: dict = {"v": FORMAT_VERSION, "ts": b0.cell("ts", i0), "symbols": {}}
    for key in ("fear_greed", "fear_greed_ts"):
        if b0.cell(key, i0) is not None:
            obj[key] = b0.cell(key, i0)
    for b, i in rows:
        if b.symbol[i] is not None:
            obj["symbols"][b.symbol[i]] = _json_symbol(b, i)
    return parse_snapshot(obj, where, b0.row(i0))


def _snapshot(rows: list[tuple[_Batch, int]], where: str) -> tuple[Snapshot | None, list[Diagnostic]]:
    """One snapshot from its rows: the fast path when every row is clean."""
    b0, i0 = rows[0]
    ts = b0.ts[i0]
    problems = [_orphan(b, i, where) for b, i in rows if b.orphan is not None and b.orphan[i]]
    if len(rows) > 1 and len({b.symbol[i] for b, i in rows}) < len(rows):
        rows, found = _unique(rows, ts, where)
        problems += found
    if not plausible_time(ts) or any(b.suspect[i] for b, i in rows):
        snapshot, found = _careful(rows, where)
        return snapshot, problems + found
    try:
        symbols = {name: _fast_symbol(b, i, ts, name) for b, i in rows if (name := b.symbol[i]) is not None}
    except (ValueError, TypeError):
        snapshot, found = _careful(rows, where)
        return snapshot, problems + found
    fg, fg_ts = (None if col is None else col[i0] for col in b0.fear)
    if fg is None or fg != fg:
        fg = fg_ts = None
    elif fg_ts is None or fg_ts != fg_ts:
        fg_ts = ts
    return Snapshot(ts, MappingProxyType(symbols), fg, fg_ts), problems


def _orphan(b: _Batch, i: int, where: str) -> Diagnostic:
    """RB710 for a row whose market data has no symbol to belong to (it is skipped)."""
    return Diagnostic(
        "RB710",
        "a row with market data but a null `symbol`; the row is skipped",
        file=where,
        line=b.row(i),
        col=1,
        path="/symbols",
    )


def _unique(rows: list[tuple[_Batch, int]], ts: float, where: str) -> tuple[list, list[Diagnostic]]:
    """The rows of a snapshot without a second row for the same symbol (reported)."""
    seen: set[str] = set()
    out, problems = [], []
    for b, i in rows:
        name = b.symbol[i]
        if name in seen:
            problems.append(
                Diagnostic(
                    "RB703",
                    f"ts {describe_ts(ts)}: second row for {name}; ignored",
                    file=where,
                    line=b.row(i),
                    col=1,
                    path=f"/symbols/{name}",
                    severity=Severity.WARNING,
                )
            )
            continue
        if name is not None:
            seen.add(name)
        out.append((b, i))
    return out, problems


def _groups(handle: pq.ParquetFile) -> Iterator[list[tuple[_Batch, int]]]:
    """The rows of each ts, in file order, across batch boundaries."""
    group: list[tuple[_Batch, int]] = []
    first_row = 0
    for batch in handle.iter_batches(batch_size=ROW_GROUP):
        b = _Batch(batch, first_row)
        first_row += b.n
        ts = b.ts
        for i in range(b.n):
            if group and ts[i] != group[0][0].ts[group[0][1]]:  # NaN never joins a group
                yield group
                group = []
            group.append((b, i))
    if group:
        yield group


def _checked(path: Path, where: str) -> Iterator[tuple[Snapshot | None, list[Diagnostic]]]:
    """(snapshot or None, problems) per ts group of a columnar file."""
    handle, problems = _open(path, where)
    if problems or handle is None:
        yield None, problems
        if handle is None:
            return
    last = float("-inf")
    for group in _groups(handle):
        snapshot, found = _snapshot(group, where)
        snapshot, last = _in_order(snapshot, found, last, where, group[0][0].row(group[0][1]))
        yield snapshot, found


def _in_order(
    snapshot: Snapshot | None, found: list[Diagnostic], last: float, where: str, row: int
) -> tuple[Snapshot | None, float]:
    """An out-of-order snapshot is reported (RB714, at its first row) and skipped, as in JSON lines."""
    if snapshot is None:
        return None, last
    if snapshot.ts <= last:
        found.append(
            Diagnostic(
                "RB714",
                f"ts {describe_ts(snapshot.ts)} is not after the previous {describe_ts(last)}",
                file=where,
                line=row,
                col=1,
                severity=Severity.WARNING,
            )
        )
        return None, last
    return snapshot, snapshot.ts


def read_columnar(path: str | os.PathLike) -> Iterator[Snapshot]:
    """The snapshots of a columnar file, in ts order; values are checked as in JSON and bad
    ones dropped silently (use :func:`read_any` to see them). ColumnarError when the file
    cannot be read at all."""
    where = os.fspath(path)
    try:
        for snapshot, problems in _checked(Path(path), where):
            fatal = [p for p in problems if p.code in ("RB705", "RB710")]
            if fatal:
                raise ColumnarError(f"{where}: {fatal[0].message}")
            if snapshot is not None:
                yield snapshot
    except (OSError, pa.ArrowException, TypeError, KeyError, ValueError) as error:
        raise ColumnarError(f"{where}: cannot be read: {error}") from error


def read_any(path: str | os.PathLike) -> Iterator[tuple[Snapshot | None, list[Diagnostic]]]:
    """(snapshot or None, problems) from any snapshot file, chosen by extension; never
    raises: a file that cannot be read is one RB710 diagnostic."""
    where = os.fspath(path)
    name = Path(path).name
    if name.endswith((".jsonl", ".jsonl.gz")):
        from adapters.snapshots.files import read_snapshots

        reader = read_snapshots(path)
    elif name.endswith(".parquet"):
        reader = _checked(Path(path), where)
    else:
        logger.info("%s skipped: not a .jsonl, .jsonl.gz or .parquet file", where)
        yield None, [_rb710(where, "unknown snapshot file type; expected .jsonl, .jsonl.gz or .parquet")]
        return
    try:
        yield from reader
    except Exception as error:
        logger.debug("%s stopped reading", where, exc_info=True)
        yield None, [_rb710(where, f"{type(error).__name__}: {error}")]


def read_many(paths: Iterable[str | os.PathLike], problems: list) -> Iterator[Snapshot]:
    """Every valid snapshot of the files (any format), in the order given; problems are
    collected, not raised. Each file's reader skips a snapshot not later than the one before
    it (RB714); across files the same holds: files overlapping in time, or given out of
    order, lose the snapshots that go back (reported, never passed on)."""
    last = float("-inf")
    last_path: str | os.PathLike | None = None  # set together with last, by the first snapshot
    for path in paths:
        for snapshot, found in read_any(path):
            problems.extend(found)
            if snapshot is None:
                continue
            if snapshot.ts <= last and last_path is not None:  # a finite ts is never <= -inf: last_path is set
                logger.debug("%s: snapshot at %s skipped, not after %s", os.fspath(path), snapshot.ts, last_path)
                problems.append(
                    Diagnostic(
                        "RB714",
                        f"ts {describe_ts(snapshot.ts)} is not after {describe_ts(last)}, the last snapshot of "
                        f"{os.fspath(last_path)}; skipped (give the files in time order)",
                        file=os.fspath(path),
                        severity=Severity.WARNING,
                    )
                )
                continue
            last, last_path = snapshot.ts, path
            yield snapshot


def columnar_info(path: str | os.PathLike) -> dict:
    """Facts from the file's footer and ts/symbol columns, without building snapshots."""
    handle, problems = _open(Path(path), os.fspath(path))
    if handle is None:
        raise ColumnarError(problems[0].message if problems else "cannot be read")
    meta = handle.metadata
    logger.debug("%s: %d rows in %d row groups", path, meta.num_rows, meta.num_row_groups)
    table = handle.read(columns=["ts", "symbol"])
    ts = table.column("ts").to_numpy()
    symbols = table.column("symbol").cast(pa.string()).drop_null().unique().to_pylist()
    build = (handle.schema_arrow.metadata or {}).get(META_BUILD)
    return {
        "format": "columnar",
        "format_version": COLUMNAR_VERSION,
        "bytes": os.path.getsize(path),
        "rows": meta.num_rows,
        "row_groups": meta.num_row_groups,
        "compression": meta.row_group(0).column(0).compression if meta.num_row_groups else None,
        "snapshots": len(np.unique(ts)),
        "first_ts": float(ts.min()) if len(ts) else None,
        "last_ts": float(ts.max()) if len(ts) else None,
        "symbols": sorted(symbols),
        "build": json.loads(build) if build else None,
    }


def count_snapshots(path: str | os.PathLike) -> int | None:
    """How many snapshots a file holds, cheaply (for progress bars); None when unknown.
    Columnar: distinct ts values. JSON lines: non-empty lines, an upper bound."""
    name = Path(path).name
    try:
        if name.endswith(".parquet"):
            handle, _ = _open(Path(path), os.fspath(path))
            import pyarrow.compute as pc  # not at the top: importing it costs explain 0.03 s

            return None if handle is None else int(pc.count_distinct(handle.read(columns=["ts"]).column("ts")).as_py())
        if name.endswith((".jsonl", ".jsonl.gz")):
            opener = gzip.open if name.endswith(".gz") else open
            with opener(path, "rb") as handle:
                return sum(1 for line in handle if line.strip())
    except Exception:
        return None
    return None


# ------------------------------------------------------------------ the fast path's columns

#: The fast path holds the whole file as columns, a few working copies at its peak; above
#: this estimate a file replays snapshot by snapshot instead (bounded memory, slower).
RECORDING_BUDGET_BYTES = 2 * 2**30
WORKING_COPIES = 4


def read_recording(*paths: str | os.PathLike):
    """The files, in the order given, as one ``engine.replay.recording.Recording`` (columns, no Snapshot
    objects), for the dry-run fast path. NotReplayable (with the reason) when a file is not
    dense or holds a value the parser would drop, or when a file does not start after the one
    before it ends — the caller then replays them through :func:`read_any`, one by one."""
    from engine.replay.recording import NotReplayable

    if not paths:
        raise NotReplayable("no snapshot file")
    handles = [_replayable(path) for path in paths]
    rows = sum(h.metadata.num_rows for h in handles)
    needed = rows * len(set().union(*(h.schema_arrow.names for h in handles))) * 8 * WORKING_COPIES
    if needed > RECORDING_BUDGET_BYTES:  # the scalar path streams: its memory does not grow with the file
        raise NotReplayable(
            f"{rows:,} rows would take about {needed / 2**30:.1f} GiB as "
            f"columns (budget {RECORDING_BUDGET_BYTES / 2**30:.0f} GiB)"
        )
    try:
        tables = [h.read() for h in handles]
        _check_sequence(tables, paths)
        table = tables[0] if len(tables) == 1 else pa.concat_tables(tables, promote_options="default")
        del tables
        if table.num_rows == 0:
            raise NotReplayable("no snapshots")
        recording = _recording(table)
    except (OSError, pa.ArrowException, TypeError, KeyError, ValueError) as error:
        if isinstance(error, NotReplayable):
            raise
        raise NotReplayable(f"cannot be read as columns: {error}") from error  # the scalar reader says where
    del table
    pa.default_memory_pool().release_unused()  # hand the decoded file back before the run
    return recording


def _replayable(path: str | os.PathLike) -> pq.ParquetFile:
    """The open file, or NotReplayable when it is not a columnar snapshot file this code reads."""
    from engine.replay.recording import NotReplayable

    handle, problems = _open(Path(path), os.fspath(path))
    if handle is None or any(p.code in ("RB704", "RB705", "RB710") for p in problems):
        reason = problems[0].message if problems else "cannot be read"
        raise NotReplayable(reason)
    return handle


def _check_sequence(tables: list[pa.Table], paths: Iterable[str | os.PathLike]) -> None:
    """NotReplayable unless each file starts after the one before it ends (what reading them
    one after the other would see; an overlap is for the scalar path to report)."""
    from engine.replay.recording import NotReplayable

    previous_end: float | None = None
    previous: str | os.PathLike | None = None  # set together with previous_end
    for table, path in zip(tables, paths):
        ts = _numbers(table.column("ts"))
        if not len(ts):
            continue
        if previous_end is not None and previous is not None and not ts[0] > previous_end:
            raise NotReplayable(
                f"{os.fspath(path)} does not start after {os.fspath(previous)} ends "
                "(give the files in time order, without overlaps)"
            )
        previous_end, previous = ts[-1], path


def _symbol_rows(column: pa.ChunkedArray) -> dict[str, np.ndarray]:
    """Each symbol's rows, by name (strings as checked, nulls refused before). A dictionary
    column (as write_columnar writes it) is read as its codes, so no Python string is made
    per row."""
    parts: dict[str, list[np.ndarray]] = {}
    offset = 0
    for chunk in column.chunks:
        if pa.types.is_dictionary(chunk.type) and pa.types.is_signed_integer(chunk.type.index_type):
            indices = chunk.indices  # read from its buffer: to_numpy would import pandas
            dtype = np.dtype(f"int{indices.type.bit_width}")
            data = indices.buffers()[1]
            codes = (
                np.zeros(0, dtype)
                if data is None or not len(indices)
                else np.frombuffer(data, dtype, len(indices), indices.offset * dtype.itemsize)
            )
            found = {name: np.flatnonzero(codes == k) for k, name in enumerate(chunk.dictionary.to_pylist())}
        else:
            names = np.array(chunk.to_pylist(), dtype=object)
            found = {name: np.flatnonzero(names == name) for name in set(names.tolist())}
        for name, rows in found.items():
            if len(rows):
                parts.setdefault(name, []).append(rows + offset)
        offset += len(chunk)
    return {name: np.concatenate(parts[name]) for name in sorted(parts)}


def _recording(batch: pa.Table):
    from engine.replay.columns.candles import CandleSeries
    from engine.replay.recording import FAST_SCALARS, NotReplayable, Recording, SymbolRecording, check_order, times_from

    n = batch.num_rows
    numbers = {
        name: _numbers(batch.column(name))
        for name in FLOAT_FIELDS
        if name in batch.schema.names and batch.column(name).null_count < n
    }
    ts_all = _numbers(batch.column("ts"))
    if not bool(plausible_time(ts_all).all()) or bool((_suspect(numbers, n, ts_all) | _nan_rows(batch)).any()):
        raise NotReplayable("a value the parser would drop (the careful path reports it)")
    for name in ("candles", "book_bids", "book_asks", "implied_skew"):
        if name in numbers or (name in batch.schema.names and batch.column(name).null_count < n):
            raise NotReplayable(f"the file has {name.replace('_', ' ')}")
    if any(f not in numbers or np.isnan(numbers[f]).any() for f in CANDLE_FIELDS):
        raise NotReplayable("a snapshot without exactly one candle per symbol")
    if batch.column("symbol").null_count:
        raise NotReplayable("a snapshot without symbols")
    ts, first = np.unique(ts_all, return_index=True)
    symbols = {}
    for name, rows in _symbol_rows(batch.column("symbol")).items():
        if len(rows) != len(ts) or not np.array_equal(ts_all[rows], ts):
            raise NotReplayable(f"{name} is not in every snapshot exactly once")
        values = {f: numbers[f][rows] for f in FAST_SCALARS if f in numbers and not np.isnan(numbers[f][rows]).all()}
        explicit = {f[:-3]: numbers[f][rows] for f in TS_FIELDS if f in numbers}
        candles = CandleSeries(*(np.ascontiguousarray(numbers[f][rows]) for f in CANDLE_FIELDS))
        symbols[name] = SymbolRecording(
            name, MappingProxyType(values), MappingProxyType(times_from(ts, values, explicit, candles.ts)), candles
        )
    check_order(ts)
    fg = numbers["fear_greed"][first] if "fear_greed" in numbers else np.full(len(ts), np.nan)
    fg_ts = numbers["fear_greed_ts"][first] if "fear_greed_ts" in numbers else np.full(len(ts), np.nan)
    fg_ts = np.where(np.isnan(fg), np.nan, np.where(np.isnan(fg_ts), ts, fg_ts))
    return Recording(ts, MappingProxyType(symbols), fg, fg_ts)
