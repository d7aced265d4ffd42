"""A recording: a whole snapshot history held as columns, for the dry-run fast path.

The scalar dry-run builds one Snapshot object per cycle and feeds it through the runner.
Over a recorded history that is mostly wasted: at most cycles nothing can trade. A
:class:`Recording` keeps the history as numpy columns, computes the signal stage for all
cycles at once (``engine.replay.columns.signals``), and builds a Snapshot object only for
the cycles the runner must see (:meth:`Recording.snapshot`).

Only *dense* histories qualify (every recorded symbol in every snapshot with exactly one
1-minute candle, no order book, no implied skew, no value the parser would drop); anything
else replays through the scalar path. :func:`recording_from_snapshots` builds one from
Snapshot objects; ``adapters.snapshots.columnar.read_recording`` straight from a Parquet file.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType

import numpy as np

from engine.common.errors import RulebotError
from engine.market.snapshot import SCALARS, Candle, Snapshot, SymbolSnapshot
from engine.replay.columns.candles import CandleSeries

#: Scalar fields the fast path understands (an implied skew needs the scalar path).
FAST_SCALARS = tuple(f for f in SCALARS if f != "implied_skew")
QUOTE_FIELDS = ("price", "mark", "bid", "ask", "funding_rate")  # what a flat paper broker keeps
SCALAR_INPUTS = tuple(dict.fromkeys(SCALARS[f][0] for f in FAST_SCALARS))


class NotReplayable(RulebotError, ValueError):
    """The history cannot take the fast path (the message says why); replay it scalar.
    Still a ValueError: the columnar reader tells it apart from the ValueErrors it wraps."""

    code = "RB720"


@dataclass(frozen=True)
class SymbolRecording:
    """One symbol's columns, one entry per cycle (the symbol is in every snapshot)."""

    name: str
    values: Mapping[str, np.ndarray]  # JSON scalar field → float64[N], NaN where absent
    times: Mapping[str, np.ndarray]  # input name → publication time float64[N], NaN where absent
    candles: CandleSeries  # exactly one candle per cycle

    def present(self, input_name: str) -> np.ndarray:
        """bool[N]: the snapshot carries a value for this input (for ``price``: the price
        field itself, which is what the components read; a mark alone does not count)."""
        if input_name == "candles_1m":
            return np.ones(len(self.candles), dtype=bool)
        fields = ["price"] if input_name == "price" else [f for f in SCALARS if SCALARS[f][0] == input_name]
        fields = [f for f in fields if f in self.values]
        out = np.zeros(len(self.candles), dtype=bool)
        for f in fields:
            out |= ~np.isnan(self.values[f])
        return out

    def snapshot_at(self, i: int) -> SymbolSnapshot:
        """The SymbolSnapshot the columnar reader would have built for cycle ``i``, read from
        the columns themselves: a runner steps at a fraction of the cycles, and a row matrix
        for quick rows was a second copy of the recording (~16 MB on a year of 5-minute cycles)."""
        values = {f: v for f, column in self.values.items() if (v := float(column[i])) == v}
        times = {t: v for t, column in self.times.items() if (v := float(column[i])) == v}
        c = self.candles
        candle = Candle(
            float(c.ts[i]), float(c.open[i]), float(c.high[i]), float(c.low[i]), float(c.close[i]), float(c.volume[i])
        )
        return SymbolSnapshot(self.name, MappingProxyType(values), MappingProxyType(times), None, (candle,))


@dataclass(frozen=True)
class Recording:
    ts: np.ndarray  # float64[N], strictly increasing
    symbols: Mapping[str, SymbolRecording]
    fear_greed: np.ndarray  # float64[N], NaN where absent
    fear_greed_ts: np.ndarray  # float64[N], NaN where absent

    def __len__(self) -> int:
        return len(self.ts)

    def check_quiet_broker(self) -> None:
        """NotReplayable unless a flat paper broker shown only the last of a run of
        snapshots ends as if it had seen them all: every quote field and the funding rate is
        in every snapshot or in none, and funding times never go back nor ahead of the clock."""
        for name, sym in self.symbols.items():
            for f in QUOTE_FIELDS:
                column = sym.values.get(f)
                if column is not None and np.isnan(column).any():
                    raise NotReplayable(f"{name}: {f} is in some snapshots only")
            published = sym.times.get("funding_rate")
            if (
                "funding_rate" in sym.values
                and published is not None
                and (bool(np.any(np.diff(published) < 0)) or bool(np.any(published > self.ts)))
            ):
                raise NotReplayable(f"{name}: funding times go back or ahead of the snapshots")

    def only(self, names: Iterable[str]) -> Recording:
        """The recording of these symbols alone: what the scalar path reads with ``--symbols``
        (snapshots stripped of every other symbol)."""
        keep = set(names)
        return replace(self, symbols=MappingProxyType({k: v for k, v in self.symbols.items() if k in keep}))

    def head(self, n: int) -> Recording:
        """The first ``n`` cycles: what a replay that stops at cycle ``n - 1`` reads. Every
        column form is causal (cycle i depends on cycles up to i only, as stepping snapshot by
        snapshot does), so state at those cycles is the same as in the whole recording."""
        return self if n >= len(self) else self.cut(0, n)

    def since(self, ts: float) -> Recording:
        """The cycles at or after ``ts``: what a replay reads whose files begin there (a sweep's
        window read from its warm-up on)."""
        first = int(np.searchsorted(self.ts, ts, side="left"))
        return self if first <= 0 else self.cut(first, len(self))

    def cut(self, first: int, stop: int) -> Recording:
        """Cycles ``first`` … ``stop - 1`` as a recording of their own."""
        cut = slice(max(first, 0), max(stop, 0))
        symbols = {
            name: SymbolRecording(
                name,
                MappingProxyType({k: v[cut] for k, v in sym.values.items()}),
                MappingProxyType({k: v[cut] for k, v in sym.times.items()}),
                CandleSeries(*(getattr(sym.candles, f)[cut] for f in ("ts", "open", "high", "low", "close", "volume"))),
            )
            for name, sym in self.symbols.items()
        }
        return Recording(self.ts[cut], MappingProxyType(symbols), self.fear_greed[cut], self.fear_greed_ts[cut])

    def snapshot(self, i: int) -> Snapshot:
        """Cycle ``i`` as the Snapshot object the scalar path would have read."""
        symbols = {name: sym.snapshot_at(i) for name, sym in self.symbols.items()}
        fg = float(self.fear_greed[i])
        if fg != fg:
            return Snapshot(float(self.ts[i]), MappingProxyType(symbols))
        return Snapshot(float(self.ts[i]), MappingProxyType(symbols), fg, float(self.fear_greed_ts[i]))


def times_from(
    ts: np.ndarray, values: Mapping[str, np.ndarray], explicit: Mapping[str, np.ndarray], candle_ts: np.ndarray
) -> dict[str, np.ndarray]:
    """Publication time per input: the stored ``<input>_ts`` where there is one, else the
    snapshot's ts where the input has a value (candles: the candle's close), as the parser does."""
    out: dict[str, np.ndarray] = {}
    for name in SCALAR_INPUTS:
        fields = [values[f] for f in values if SCALARS[f][0] == name]
        if not fields and name not in explicit:
            continue
        present = np.zeros(len(ts), dtype=bool)
        for column in fields:
            present |= ~np.isnan(column)
        default = np.where(present, ts, np.nan)
        stored = explicit.get(name)
        out[name] = default if stored is None else np.where(np.isnan(stored), default, stored)
    stored = explicit.get("candles_1m")
    close = candle_ts + 60.0
    out["candles_1m"] = close if stored is None else np.where(np.isnan(stored), close, stored)
    return {k: v for k, v in out.items() if not np.isnan(v).all()}


def recording_from_snapshots(snapshots: Iterable[Snapshot]) -> Recording:
    """A Recording of Snapshot objects (tests, JSON-lines files); NotReplayable when the
    history is not dense."""
    snapshots = list(snapshots)
    if not snapshots:
        raise NotReplayable("no snapshots")
    names = sorted(snapshots[0].symbols)
    n = len(snapshots)
    columns: dict[str, dict] = {name: {"values": {}, "times": {}, "candles": []} for name in names}
    for i, snapshot in enumerate(snapshots):
        if sorted(snapshot.symbols) != names:
            raise NotReplayable(f"snapshot {i} (ts {snapshot.ts:g}) does not carry the same symbols")
        for name, sym in snapshot.symbols.items():
            _check_dense(sym, i)
            col = columns[name]
            for f, v in sym.values.items():
                col["values"].setdefault(f, np.full(n, np.nan))[i] = v
            for t, v in sym.times.items():
                col["times"].setdefault(t, np.full(n, np.nan))[i] = v
            col["candles"].append(sym.candles[0])
    ts = np.array([s.ts for s in snapshots], dtype=float)
    check_order(ts)
    symbols = {
        name: SymbolRecording(
            name, MappingProxyType(col["values"]), MappingProxyType(col["times"]), _candle_series(col["candles"])
        )
        for name, col in columns.items()
    }
    fg = np.array([math.nan if s.fear_greed is None else s.fear_greed for s in snapshots], dtype=float)
    fg_ts = np.array([math.nan if s.fear_greed is None else s.fear_greed_ts for s in snapshots], dtype=float)
    return Recording(ts, MappingProxyType(symbols), fg, fg_ts)


def _check_dense(sym: SymbolSnapshot, i: int) -> None:
    if len(sym.candles) != 1:
        raise NotReplayable(f"snapshot {i}: {sym.symbol} has {len(sym.candles)} candles (the fast path needs one)")
    if sym.book is not None:
        raise NotReplayable(f"snapshot {i}: {sym.symbol} has an order book")
    if "implied_skew" in sym.values:
        raise NotReplayable(f"snapshot {i}: {sym.symbol} has an implied skew")


def check_order(ts: np.ndarray) -> None:
    """Strictly increasing snapshot times (the readers skip the others; the fast path does not)."""
    if len(ts) > 1 and not bool(np.all(np.diff(ts) > 0)):
        raise NotReplayable("snapshot times are not strictly increasing")


def _candle_series(candles: list[Candle]) -> CandleSeries:
    a = np.array([(c.ts, c.open, c.high, c.low, c.close, c.volume) for c in candles], dtype=float).reshape(-1, 6)
    return CandleSeries(*(np.ascontiguousarray(a[:, k]) for k in range(6)))
