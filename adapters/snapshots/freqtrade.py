"""Snapshots from a freqtrade data folder (`rulebot snapshots from-freqtrade`).

``freqtrade download-data --trading-mode futures`` writes, per pair, into
``user_data/data/<exchange>/futures``:

* ``<STEM>-<tf>-futures.feather``: candles (``date`` = the candle's UTC open time, ``open``,
  ``high``, ``low``, ``close``, ``volume``);
* ``<STEM>-1h-funding_rate.feather``: one row per funding time (``date``; ``open`` = the rate);
* ``<STEM>-1h-mark.feather``: hourly mark-price candles (``open`` = the mark at the hour);

where ``STEM`` is the pair with ``/`` and ``:`` as ``_`` (``BTC/USDT:USDT`` → ``BTC_USDT_USDT``).

One snapshot is made per candle open time ``T`` that every pair has, at the candle's close
``T + timeframe``; per symbol it carries the candle and its close as the price, the mark
price of ``T``'s hour (when that hour has a row) and the last funding rate dated at or
before ``T`` with its own date as ``funding_rate_ts``: what freqtrade's backtest sees on
that candle.

The files are read and cleaned first (:func:`build`): every problem is collected in a
:class:`Report` (a file that cannot be used is an error, a dropped row a warning), nothing
is printed or raised; the snapshots are then made as they are consumed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from engine.common.times import plausible_time, readable_utc
from engine.market.snapshot import Snapshot, parse_snapshot
from engine.replay.build import Problem

#: freqtrade's candle timeframes (its download-data choices) → seconds.
TIMEFRAMES = {
    "1m": 60,
    "3m": 180,
    "5m": 300,
    "15m": 900,
    "30m": 1800,
    "1h": 3600,
    "2h": 7200,
    "4h": 14400,
    "6h": 21600,
    "8h": 28800,
    "12h": 43200,
    "1d": 86400,
}
CANDLE_COLUMNS = ("open", "high", "low", "close", "volume")
HOUR = 3600
_PAIR = re.compile(r"^([A-Za-z0-9]+)/([A-Za-z0-9]+):([A-Za-z0-9]+(?:-[A-Za-z0-9]+)?)$")
_SYMBOL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


class ArgumentError(ValueError):
    """A command-line argument that cannot be used; ``option`` names it (``--pairs``)."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(message)
        self.option = option


# ------------------------------------------------------------------ what to read


@dataclass(frozen=True)
class Request:
    """The folder, the pairs and the rulebot symbol of each (in order), and the timeframe."""

    datadir: Path
    pairs: tuple[str, ...]
    symbols: tuple[str, ...]
    timeframe: str

    @property
    def step(self) -> int:
        return TIMEFRAMES[self.timeframe]


def stem(pair: str) -> str:
    """The file-name stem freqtrade gives a pair: ``BTC/USDT:USDT`` → ``BTC_USDT_USDT``."""
    return pair.replace("/", "_").replace(":", "_")


def default_symbol(pair: str) -> str:
    """The rulebot symbol of a pair: base and quote, ``BTC/USDT:USDT`` → ``BTCUSDT``."""
    base, quote = pair.split(":")[0].split("/")
    return f"{base}{quote}"


def _items(text: str | Sequence[str], option: str) -> list[str]:
    """``A,B`` (or a list of such) as its items; ArgumentError for an empty one."""
    parts = [text] if isinstance(text, str) else list(text)
    items = [item.strip() for part in parts for item in part.split(",")]
    if not items or any(not item for item in items):
        raise ArgumentError(option, f"{','.join(parts)!r}: give a comma-separated list without empty items")
    return items


def request(
    datadir: str | Path,
    pairs: str | Sequence[str],
    timeframe: str,
    symbols: str | Sequence[str] | None = None,
) -> Request:
    """The checked arguments; ArgumentError naming the option and why otherwise."""
    wanted = _items(pairs, "--pairs")
    for pair in wanted:
        if not _PAIR.match(pair):
            raise ArgumentError(
                "--pairs", f"{pair!r} is not a freqtrade futures pair: they are BASE/QUOTE:SETTLE, e.g. BTC/USDT:USDT"
            )
    twice = sorted({p for p in wanted if wanted.count(p) > 1})
    if twice:
        raise ArgumentError("--pairs", f"{', '.join(twice)} given twice")
    if timeframe not in TIMEFRAMES:
        raise ArgumentError(
            "--timeframe", f"{timeframe!r} is not a freqtrade timeframe; use one of {', '.join(TIMEFRAMES)}"
        )
    if symbols is None:
        names = [default_symbol(p) for p in wanted]
    else:
        names = _items(symbols, "--symbols")
        if len(names) != len(wanted):
            raise ArgumentError(
                "--symbols",
                f"{len(names)} symbol(s) for {len(wanted)} pair(s); give one symbol per pair, in the order of --pairs",
            )
        for name in names:
            if not _SYMBOL.match(name):
                raise ArgumentError("--symbols", f"{name!r} is not a symbol name (letters, digits, _ . -)")
    same = sorted({n for n in names if names.count(n) > 1})
    if same:
        raise ArgumentError(
            "--symbols" if symbols is not None else "--pairs",
            f"two pairs would both be symbol {', '.join(same)}; name them apart with --symbols",
        )
    return Request(Path(datadir), tuple(wanted), tuple(names), timeframe)


def metadata(req: Request) -> dict[str, Any]:
    """Where the file came from, kept in a columnar file's metadata (no absolute path, so a
    rebuild from another checkout writes the same)."""
    return {
        "freqtrade": "/".join(req.datadir.resolve().parts[-2:]),
        "timeframe": req.timeframe,
        "pairs": dict(zip(req.symbols, req.pairs)),
    }


# ------------------------------------------------------------------ what was found


@dataclass(frozen=True)
class FileRead:
    """One file read: what it held (``candles``, ``funding`` or ``mark``) and the rows kept."""

    path: Path
    what: str
    rows: int
    first: float
    last: float


@dataclass
class Report:
    """What reading the folder found, in order: the files read, the problems, and the candle
    times every pair has (``common``; ``first``/``last`` are its open times)."""

    problems: list[Problem] = field(default_factory=list)
    reads: list[FileRead] = field(default_factory=list)
    common: int = 0
    first: float | None = None
    last: float | None = None

    @property
    def failed(self) -> bool:
        return any(p.is_error for p in self.problems)

    def error(self, where: Path | str, message: str) -> None:
        self.problems.append(Problem(str(where), message, "error"))

    def warn(self, where: Path | str, message: str) -> None:
        self.problems.append(Problem(str(where), message, "warning"))


class _Unusable(Exception):
    """A file that cannot be used; the message says why (the report gets it as an error)."""


# ------------------------------------------------------------------ one file


def _read(path: Path, columns: Sequence[str]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(open times in epoch seconds, {column: floats}) of a feather file, every row as read
    (NaN where a time or a value is missing or not a number); _Unusable saying why not."""
    import pandas as pd
    import pyarrow.feather as feather

    if not path.is_file():
        raise _Unusable("no such file" if not path.exists() else "not a regular file")
    try:
        table = feather.read_table(path, memory_map=False)
    except Exception as error:  # any reader failure: not a feather file, truncated, unreadable
        raise _Unusable(f"cannot be read as feather: {type(error).__name__}: {error}"[:300]) from None
    names = list(table.schema.names)
    missing = [c for c in ("date", *columns) if c not in names]
    if missing:
        listed = ", ".join(f"`{c}`" for c in missing)
        raise _Unusable(f"no column {listed}; columns are {', '.join(names) or 'none'}")
    if table.num_rows == 0:
        raise _Unusable("no rows")
    try:
        frame = table.select(["date", *columns]).to_pandas()
    except Exception as error:
        raise _Unusable(f"cannot be read: {type(error).__name__}: {error}"[:300]) from None
    times = _seconds(frame["date"])
    values = {c: pd.to_numeric(frame[c], errors="coerce").to_numpy(dtype=float, na_value=np.nan) for c in columns}
    return times, values


def _seconds(values: Any) -> np.ndarray:
    """Epoch seconds from datetimes (naive ones are UTC) or epoch numbers (unit guessed);
    NaN where not a time. _Unusable for a column of anything else."""
    import pandas as pd

    if pd.api.types.is_datetime64_any_dtype(values):
        stamps = values.dt.tz_localize("UTC") if values.dt.tz is None else values.dt.tz_convert("UTC")
        return ((stamps - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(seconds=1)).to_numpy(dtype=float, na_value=np.nan)
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        numbers = values.to_numpy(dtype=float, na_value=np.nan)
        top = np.nanmax(np.abs(numbers)) if np.isfinite(numbers).any() else 0
        return numbers / (1e9 if top > 1e17 else 1e6 if top > 1e14 else 1e3 if top > 1e11 else 1)
    raise _Unusable(f"column `date` holds {values.dtype}, not dates")


def _keep(
    times: np.ndarray, values: dict[str, np.ndarray], bad: Mapping[str, np.ndarray], path: Path, report: Report
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The rows that are in none of ``bad`` (why → rows), each reason counted in one warning."""
    drop = np.zeros(len(times), dtype=bool)
    reasons = []
    for why, rows in bad.items():
        fresh = rows & ~drop
        if fresh.any():
            reasons.append(f"{int(fresh.sum()):,} with {why}")
            drop |= fresh
    if drop.any():
        report.warn(path, f"{int(drop.sum()):,} of {len(times):,} rows dropped ({'; '.join(reasons)})")
        keep = ~drop
        times, values = times[keep], {k: v[keep] for k, v in values.items()}
    return times, values


def _ordered(
    times: np.ndarray, values: dict[str, np.ndarray], path: Path, report: Report
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The rows in time order, one per time (the first of each time kept), each fix a warning."""
    if len(times) > 1 and not (np.diff(times) >= 0).all():
        order = np.argsort(times, kind="stable")
        times, values = times[order], {k: v[order] for k, v in values.items()}
        report.warn(path, "dates not in time order; sorted")
    if len(times) > 1:
        first = np.concatenate(([True], np.diff(times) > 0))
        if not first.all():
            report.warn(path, f"{int((~first).sum()):,} rows repeat an earlier date; the first row of each date kept")
            times, values = times[first], {k: v[first] for k, v in values.items()}
    return times, values


def _bad_times(times: np.ndarray) -> np.ndarray:
    return ~np.asarray(plausible_time(times), dtype=bool)


def _candles(path: Path, report: Report) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    times, values = _read(path, CANDLE_COLUMNS)
    o, h, low, c, v = (values[k] for k in CANDLE_COLUMNS)
    prices = np.stack([o, h, low, c])
    with np.errstate(invalid="ignore"):
        bad_price = ~np.isfinite(prices).all(axis=0) | (prices <= 0).any(axis=0)
        bad_volume = ~np.isfinite(v) | (v < 0)
        bad_range = (low > np.minimum(o, c)) | (h < np.maximum(o, c))
    times, values = _keep(
        times,
        values,
        {
            "no date or one outside 2009–2100": _bad_times(times),
            "a missing, non-finite or non-positive price": bad_price,
            "a missing, non-finite or negative volume": bad_volume,
            "low above open or close, or high below them": bad_range,
        },
        path,
        report,
    )
    times, values = _ordered(times, values, path, report)
    if not len(times):
        raise _Unusable("no usable rows")
    report.reads.append(FileRead(path, "candles", len(times), float(times[0]), float(times[-1])))
    return times, values


def _series(path: Path, what: str, report: Report) -> tuple[np.ndarray, np.ndarray]:
    """A funding (rate: any finite number) or mark (price: positive) series, from ``open``."""
    times, values = _read(path, ("open",))
    rate = values["open"]
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(rate) if what == "funding" else ~np.isfinite(rate) | (rate <= 0)
    why = "a missing or non-finite rate" if what == "funding" else "a missing, non-finite or non-positive price"
    times, values = _keep(
        times, values, {"no date or one outside 2009–2100": _bad_times(times), why: bad}, path, report
    )
    times, values = _ordered(times, values, path, report)
    if not len(times):
        raise _Unusable("no usable rows")
    report.reads.append(FileRead(path, what, len(times), float(times[0]), float(times[-1])))
    return times, values["open"]


# ------------------------------------------------------------------ the folder


def _candle_files(datadir: Path) -> dict[str, list[str]]:
    """The candle files there: stem → timeframes, for saying what is there instead."""
    found: dict[str, list[str]] = {}
    for path in sorted(datadir.glob("*-futures.feather")):
        name = path.name[: -len("-futures.feather")]
        file_stem, _, timeframe = name.rpartition("-")
        if file_stem:
            found.setdefault(file_stem, []).append(timeframe)
    return found


def _nearby(datadir: Path) -> list[Path]:
    """Folders below ``datadir`` that look like freqtrade futures data (the user_data or the
    exchange folder given instead of the futures folder)."""
    patterns = ("futures", "*/futures", "data/*/futures")
    return sorted({p for pattern in patterns for p in datadir.glob(pattern) if p.is_dir()})


def _missing_candles(req: Request, pair: str, path: Path) -> str:
    there = _candle_files(req.datadir)
    if there:
        listed = "; ".join(
            f"{s} ({', '.join(sorted(tfs, key=lambda t: TIMEFRAMES.get(t, 0)))})" for s, tfs in there.items()
        )
        message = f"no {req.timeframe} candles of {pair} (no such file); candle files there: {listed}"
    else:
        message = (
            f"no {req.timeframe} candles of {pair} (no such file); no freqtrade candle files (*-futures.feather) there"
        )
        nearby = _nearby(req.datadir)
        if nearby:
            message += f"; give the futures folder itself, e.g. {nearby[0]}"
    return (
        f"{message}; download them with `freqtrade download-data --trading-mode futures "
        f"--timeframes {req.timeframe} --pairs {pair}`"
    )


def _optional(req: Request, pair: str, what: str, report: Report) -> tuple[np.ndarray, np.ndarray] | None:
    """The pair's funding or mark series; None (said in a warning) when it has no such file."""
    kind = "funding_rate" if what == "funding" else "mark"
    path = req.datadir / f"{stem(pair)}-1h-{kind}.feather"
    field_name = "funding_rate" if what == "funding" else "mark"
    if not path.exists():
        others = sorted(p.name for p in req.datadir.glob(f"{stem(pair)}-*-{kind}.feather"))
        also = f" ({', '.join(others)} there: only 1h files are read)" if others else ""
        report.warn(path, f"no such file{also}: the snapshots of {pair} carry no {field_name}")
        return None
    try:
        return _series(path, what, report)
    except _Unusable as error:
        report.error(path, str(error))
        return None


@dataclass(frozen=True)
class _Pair:
    symbol: str
    times: np.ndarray  # candle open times, increasing
    candles: dict[str, np.ndarray]
    funding: tuple[np.ndarray, np.ndarray] | None
    mark: tuple[np.ndarray, np.ndarray] | None


def build(req: Request) -> tuple[Iterator[Snapshot], Report]:
    """The snapshots of the request, in time order (made as consumed; none when the report
    has failed), and what reading the folder found."""
    report = Report()
    if not req.datadir.is_dir():
        report.error(req.datadir, "no such directory" if not req.datadir.exists() else "not a directory")
        return iter(()), report
    pairs: list[_Pair] = []
    for pair, symbol in zip(req.pairs, req.symbols):
        path = req.datadir / f"{stem(pair)}-{req.timeframe}-futures.feather"
        candles = None
        if not path.exists():
            report.error(path, _missing_candles(req, pair, path))
        else:
            try:
                candles = _candles(path, report)
            except _Unusable as error:
                report.error(path, str(error))
        funding = _optional(req, pair, "funding", report)
        mark = _optional(req, pair, "mark", report)
        if candles is not None:
            pairs.append(_Pair(symbol, candles[0], candles[1], funding, mark))
    if report.failed:
        return iter(()), report
    common = pairs[0].times
    for one in pairs[1:]:
        common = np.intersect1d(common, one.times, assume_unique=True)
    if not len(common):
        spans = ", ".join(
            f"{p} {readable_utc(one.times[0])} → {readable_utc(one.times[-1])}" for p, one in zip(req.pairs, pairs)
        )
        report.error(req.datadir, f"the pairs have no {req.timeframe} candle time in common ({spans})")
        return iter(()), report
    if len(pairs) > 1:
        for pair, one in zip(req.pairs, pairs):
            if len(one.times) > len(common):
                report.problems.append(
                    Problem(
                        f"{req.datadir / stem(pair)}-{req.timeframe}-futures.feather",
                        f"{len(one.times) - len(common):,} candle(s) at times another pair has no candle at; skipped",
                        "info",
                    )
                )
    report.common, report.first, report.last = len(common), float(common[0]), float(common[-1])
    return _snapshots(common, pairs, req.step, report), report


def _columns(one: _Pair, common: np.ndarray) -> dict[str, Any]:
    """The pair's values at each common time, as Python lists (None where absent)."""
    rows = np.searchsorted(one.times, common)
    out: dict[str, Any] = {k: v[rows].tolist() for k, v in one.candles.items()}
    out["mark"] = out["funding"] = out["funding_ts"] = None
    if one.mark is not None:
        times, prices = one.mark
        hours = common - common % HOUR
        at = np.minimum(np.searchsorted(times, hours), len(times) - 1)
        found = times[at] == hours
        out["mark"] = [float(p) if ok else None for p, ok in zip(prices[at].tolist(), found.tolist())]
    if one.funding is not None:
        times, rates = one.funding
        last = np.searchsorted(times, common, side="right") - 1
        found = last >= 0
        at = np.maximum(last, 0)
        out["funding"] = [r if ok else None for r, ok in zip(rates[at].tolist(), found.tolist())]
        out["funding_ts"] = [_number(t) if ok else None for t, ok in zip(times[at].tolist(), found.tolist())]
    return out


def _number(value: float) -> float | int:
    """A whole number of seconds as an int (as a snapshot file writes it)."""
    return int(value) if float(value).is_integer() else value


def _snapshots(common: np.ndarray, pairs: list[_Pair], step: int, report: Report) -> Iterator[Snapshot]:
    columns = [(one.symbol, _columns(one, common)) for one in pairs]
    opens = [_number(t) for t in common.tolist()]
    for i, t in enumerate(opens):
        symbols = {}
        for symbol, col in columns:
            close = col["close"][i]
            values: dict[str, Any] = {
                "price": close,
                "candles": [[t, col["open"][i], col["high"][i], col["low"][i], close, col["volume"][i]]],
                "candles_1m_ts": t + step,
            }
            if col["mark"] is not None and col["mark"][i] is not None:
                values["mark"] = col["mark"][i]
            if col["funding"] is not None and col["funding"][i] is not None:
                values["funding_rate"], values["funding_rate_ts"] = col["funding"][i], col["funding_ts"][i]
            symbols[symbol] = values
        snapshot, problems = parse_snapshot({"ts": t + step, "symbols": symbols})
        for problem in problems:  # the rows were cleaned above: none expected
            where = f"the snapshot at {readable_utc(t + step)}"
            report.problems.append(Problem(where, f"{problem.code} {problem.message}", problem.severity.value))
        if snapshot is not None:
            yield snapshot
