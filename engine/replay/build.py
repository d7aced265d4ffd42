"""Snapshots from market history, one per minute, with nothing from the future.

Pure alignment: the sources arrive as arrays already read (``adapters/snapshots/history.py`` reads
files and build specs) and leave as :class:`~engine.market.snapshot.Snapshot` objects. One rule
serves everything here — *a value is in a snapshot only once it was published* — and it
has three shapes (docs/snapshot-build.md, reference exchanges §3.5, anchors §A.9):

* a 1-minute candle ``[t, t+60)`` appears in the snapshot at its close, ``t + 60``;
* an interval row stamped ``t`` (funding, open interest, mark, taker volume, fear & greed)
  is published at ``t + interval + lag`` and carried forward, with that publication time as
  its ``<input>_ts``, until a newer row is published;
* an event at ``e`` (a liquidation) is published at ``e + lag`` and summed into the first
  snapshot of its symbol at or after that time.

A symbol appears in a snapshot when its candle of that minute closed (the candle feed is
its heartbeat); a snapshot exists when at least one symbol appears.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from engine.common.times import readable_utc
from engine.market.snapshot import Candle, Snapshot, SymbolSnapshot

STEP = 60.0
CHUNK = 10_080  # minutes of snapshot objects made at a time (a week)
CANDLE_COLUMNS = ("open", "high", "low", "close", "volume")

#: Carried series a symbol may have: name → (snapshot fields it fills, input name of its ``_ts``).
SERIES = {
    "mark": (("mark",), "price"),
    "funding": (("funding_rate",), "funding_rate"),
    "open_interest": (("open_interest_usd",), "open_interest"),
    "taker_volume": (("taker_buy_usd", "taker_sell_usd"), "taker_volume"),
    "exchange_netflow": (("exchange_netflow_usd",), "exchange_netflow"),
}
#: Validity of each carried field: "positive", "non_negative", "index_0_100" or "finite".
RULES = {
    "mark": "positive",
    "funding_rate": "finite",
    "open_interest_usd": "positive",
    "taker_buy_usd": "non_negative",
    "taker_sell_usd": "non_negative",
    "exchange_netflow_usd": "finite",
    "fear_greed": "index_0_100",
}
#: How a message words each rule ("value not …").
RULE_WORDS = {
    "positive": "positive",
    "non_negative": "non-negative",
    "index_0_100": "an index from 0 to 100",
    "finite": "finite",
}


@dataclass(frozen=True)
class Problem:
    """Something wrong or notable in the sources; ``level`` is error, warning or info."""

    where: str
    message: str
    level: str = "warning"

    @property
    def is_error(self) -> bool:
        return self.level == "error"

    def __str__(self) -> str:
        return f"{self.where}: {self.level}: {self.message}"


@dataclass(frozen=True)
class Rows:
    """A time-indexed table: ``times`` in epoch seconds, one array per column."""

    times: np.ndarray
    columns: Mapping[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.times)

    def take(self, index: np.ndarray) -> Rows:
        return Rows(self.times[index], {k: v[index] for k, v in self.columns.items()})


@dataclass(frozen=True)
class Published:
    """A carried series: publication times (sorted) and the values published then."""

    published: np.ndarray
    columns: Mapping[str, np.ndarray]


@dataclass(frozen=True)
class Events:
    """Liquidation events by publication time; ``coverage`` is when the feed was known to
    be running (publication times): outside it the input is missing, inside a minute
    without events reads 0."""

    published: np.ndarray
    long_usd: np.ndarray
    short_usd: np.ndarray
    coverage: tuple[float, float]


@dataclass(frozen=True)
class SymbolInputs:
    candles: Rows
    series: Mapping[str, Published] = field(default_factory=dict)
    liquidations: Events | None = None


# ------------------------------------------------------------------ cleaning sources


def stitch(parts: Sequence[tuple[str, Rows]], where: str, on_conflict: str = "first") -> tuple[Rows, list[Problem]]:
    """One series from several files (or one file with repeated stamps), in time order.

    Equal rows at the same time are de-duplicated silently (overlapping downloads); rows
    that disagree keep the earliest-listed file's row and are reported — an error when
    ``on_conflict`` is "error", since then no choice is safe.
    """
    if not parts:
        return Rows(np.array([], dtype=float), {}), []
    names = list(parts[0][1].columns)
    times = np.concatenate([rows.times for _, rows in parts])
    source = np.concatenate([np.full(len(rows), i) for i, (_, rows) in enumerate(parts)])
    cols = {n: np.concatenate([rows.columns[n] for _, rows in parts]) for n in names}
    order = np.lexsort((source, times))
    times, source = times[order], source[order]
    cols = {n: v[order] for n, v in cols.items()}
    dup = np.zeros(len(times), dtype=bool)
    dup[1:] = times[1:] == times[:-1]
    first = np.maximum.accumulate(np.where(dup, 0, np.arange(len(times))))
    same = np.ones(len(times), dtype=bool)
    for values in cols.values():
        a, b = values, values[first]
        equal = a == b
        if values.dtype.kind == "f":
            equal |= np.isnan(a) & np.isnan(b)
        same &= equal
    conflicts = dup & ~same
    problems = []
    if (dup & same).any():
        problems.append(Problem(where, f"{int((dup & same).sum()):,} equal overlapping row(s) de-duplicated", "info"))
    if conflicts.any():
        i = int(np.flatnonzero(conflicts)[0])
        a, b = parts[source[first[i]]][0], parts[source[i]][0]
        kept = "" if on_conflict == "error" else f"; kept {a}'s rows"
        problems.append(
            Problem(
                where,
                f"{int(conflicts.sum()):,} conflicting row(s) with the same time but other values "
                f"(first at {readable_utc(times[i])}: {a} vs {b}){kept}",
                "error" if on_conflict == "error" else "warning",
            )
        )
    keep = ~dup
    return Rows(times[keep], {n: v[keep] for n, v in cols.items()}), problems


def _drop(rows: Rows, bad: np.ndarray, where: str, why: str) -> tuple[Rows, list[Problem]]:
    if not bad.any():
        return rows, []
    i = int(np.flatnonzero(bad)[0])
    message = f"{int(bad.sum()):,} row(s) dropped: {why} (first at {readable_utc(rows.times[i]) if np.isfinite(rows.times[i]) else 'an unknown time'})"
    return rows.take(~bad), [Problem(where, message)]


def clean_candles(rows: Rows, where: str) -> tuple[Rows, list[Problem]]:
    """Drop candles a snapshot could not carry: off the minute, not finite, non-positive
    prices, negative volume, or high/low not enclosing open and close."""
    problems: list[Problem] = []
    rows, found = _drop(
        rows, ~np.isfinite(rows.times) | (rows.times % STEP != 0), where, "open time is not on a whole minute"
    )
    problems += found
    c = rows.columns
    o, h, low, cl, v = (c[n] for n in CANDLE_COLUMNS)
    with np.errstate(invalid="ignore"):
        bad = ~(np.isfinite(o) & np.isfinite(h) & np.isfinite(low) & np.isfinite(cl) & np.isfinite(v))
        bad |= ~((np.minimum(o, cl) >= low) & (np.maximum(o, cl) <= h) & (low > 0) & (v >= 0))
    rows, found = _drop(rows, bad, where, "not a valid candle (prices > 0, volume ≥ 0, low ≤ open, close ≤ high)")
    return rows, problems + found


def clean_values(rows: Rows, where: str) -> tuple[Rows, list[Problem]]:
    """Drop rows whose time or values a snapshot would reject (see :data:`RULES`)."""
    bad = ~np.isfinite(rows.times)
    with np.errstate(invalid="ignore"):
        for name, values in rows.columns.items():
            rule = RULES.get(name, "finite")
            bad |= ~np.isfinite(values)
            if rule == "positive":
                bad |= values <= 0
            elif rule == "non_negative":
                bad |= values < 0
            elif rule == "index_0_100":
                bad |= (values < 0) | (values > 100)
    rules = sorted({RULE_WORDS[RULES.get(n, "finite")] for n in rows.columns})
    return _drop(rows, bad, where, f"missing time or value not {' / '.join(rules)}")


def publish(rows: Rows, interval: float, lag: float) -> Published:
    """When each row became knowable: ``time + interval + lag`` (rows stamped at the start
    of the interval they describe are final only at its end)."""
    order = np.argsort(rows.times, kind="stable")
    return Published(rows.times[order] + interval + lag, {k: v[order] for k, v in rows.columns.items()})


def events(
    times: np.ndarray,
    long_usd: np.ndarray,
    short_usd: np.ndarray,
    lag: float,
    coverage: tuple[float, float] | None = None,
) -> Events:
    """Events published ``lag`` after they happened; coverage defaults to first..last event."""
    order = np.argsort(times, kind="stable")
    times = times[order]
    if coverage is None:
        coverage = (float(times[0]), float(times[-1])) if len(times) else (np.inf, -np.inf)
    return Events(times + lag, long_usd[order], short_usd[order], (coverage[0] + lag, coverage[1] + lag))


# ------------------------------------------------------------------ alignment


def _as_of(published: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Index of the latest publication at or before each time; -1 when none yet."""
    return np.searchsorted(published, at, side="right") - 1


def _liquidations(liq: Events, at: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per snapshot time: long and short sums of the events published since the previous
    snapshot (the first one looks back one step), and whether the feed covered it."""
    pos = np.searchsorted(at, liq.published, side="left")
    inside = pos < len(at)
    if len(at):
        inside &= (pos > 0) | (liq.published > at[0] - STEP)
    pos = pos[inside]
    long_sum = np.bincount(pos, liq.long_usd[inside], minlength=len(at))
    short_sum = np.bincount(pos, liq.short_usd[inside], minlength=len(at))
    start = np.concatenate(([at[0] - STEP], at[:-1])) if len(at) else at
    covered = (at >= liq.coverage[0]) & (start < liq.coverage[1])
    return long_sum, short_sum, covered


@dataclass(frozen=True)
class _SymbolColumns:
    """One symbol's snapshots over the whole window as arrays (small: numbers, no objects);
    :func:`_symbol_snapshots` turns a slice of them into SymbolSnapshot objects."""

    name: str
    at: np.ndarray  # snapshot times: each candle's close
    opens: np.ndarray
    candles: Mapping[str, np.ndarray]
    carried: tuple  # (fields, input name, as-of index, publication times, values)
    liquidations: tuple | None  # (long sums, short sums, covered)


def _symbol_columns(name: str, inputs: SymbolInputs, start: float, end: float) -> _SymbolColumns:
    c = inputs.candles
    close_at = c.times + STEP
    keep = (close_at > start) & (close_at <= end)
    at = close_at[keep]
    carried = []
    for series_name, published in inputs.series.items():
        fields, input_name = SERIES[series_name]
        carried.append(
            (
                fields,
                input_name,
                _as_of(published.published, at),
                published.published,
                {f: published.columns[f] for f in fields},
            )
        )
    liq = _liquidations(inputs.liquidations, at) if inputs.liquidations is not None else None
    return _SymbolColumns(name, at, c.times[keep], {n: c.columns[n][keep] for n in CANDLE_COLUMNS}, tuple(carried), liq)


def _symbol_snapshots(cols: _SymbolColumns, lo: int, hi: int) -> dict[float, SymbolSnapshot]:
    """The symbol's snapshots of rows ``lo:hi``, keyed by snapshot time."""
    at, opens = cols.at[lo:hi].tolist(), cols.opens[lo:hi].tolist()
    candle = {n: v[lo:hi].tolist() for n, v in cols.candles.items()}
    carried = [
        (fields, input_name, index[lo:hi].tolist(), published, vals)
        for fields, input_name, index, published, vals in cols.carried
    ]
    liq = tuple(x[lo:hi].tolist() for x in cols.liquidations) if cols.liquidations is not None else None
    out = {}
    for i, ts in enumerate(at):
        close = candle["close"][i]
        values, times = {"price": close}, {"price": ts, "candles_1m": ts}
        for fields, input_name, index, published, vals in carried:
            j = index[i]
            if j < 0:
                continue
            for f in fields:
                values[f] = float(vals[f][j])
            times[input_name] = (
                min(times[input_name], float(published[j])) if input_name == "price" else float(published[j])
            )
        if liq is not None and liq[2][i]:
            values["liq_long_usd"], values["liq_short_usd"] = liq[0][i], liq[1][i]
            times["liquidations"] = ts
        bar = Candle(opens[i], candle["open"][i], candle["high"][i], candle["low"][i], close, candle["volume"][i])
        out[ts] = SymbolSnapshot(cols.name, MappingProxyType(values), MappingProxyType(times), None, (bar,))
    return out


def build_snapshots(
    start: float,
    end: float,
    symbols: Mapping[str, SymbolInputs],
    fear_greed: Published | None = None,
    *,
    chunk: int = CHUNK,
) -> Iterator[Snapshot]:
    """One snapshot per minute ``T`` with ``start < T <= end`` in which any symbol's candle
    closed, holding only what was published at or before ``T``, in time order.

    The alignment is done on arrays for the whole window at once; the snapshot objects are
    made ``chunk`` minutes at a time as they are consumed, so a writer that streams them
    holds one chunk, not the years a spec may cover."""
    per_symbol = [_symbol_columns(name, inputs, start, end) for name, inputs in symbols.items()]
    all_ts = np.unique(np.concatenate([c.at for c in per_symbol])) if per_symbol else np.array([], dtype=float)
    fg_index = _as_of(fear_greed.published, all_ts) if fear_greed is not None else np.full(len(all_ts), -1)
    for lo in range(0, len(all_ts), chunk):
        times = all_ts[lo : lo + chunk]
        present = [_symbol_snapshots(c, *_rows_between(c.at, times[0], times[-1])) for c in per_symbol]
        for ts, j in zip(times.tolist(), fg_index[lo : lo + chunk].tolist()):
            fg, fg_ts = (
                (None, None)
                if j < 0 or fear_greed is None  # j >= 0 only with fear_greed
                else (float(fear_greed.columns["fear_greed"][j]), float(fear_greed.published[j]))
            )
            yield Snapshot(
                ts,
                MappingProxyType({c.name: rows[ts] for c, rows in zip(per_symbol, present) if ts in rows}),
                fg,
                fg_ts,
            )


def _rows_between(at: np.ndarray, first: float, last: float) -> tuple[int, int]:
    """The slice of the sorted ``at`` with first <= at <= last."""
    return int(np.searchsorted(at, first, side="left")), int(np.searchsorted(at, last, side="right"))
