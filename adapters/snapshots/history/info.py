"""What a snapshot file holds, for `rulebot snapshots info`: read once, summarised as data.

:func:`summarize` counts, per symbol and input, how many snapshots carry it and how many
separate readings that is, keeps every price for the largest-move check and the first
problems met; :func:`file_format` reads the facts of the file itself; :func:`gaps` finds the
missing cycles. The command renders all of it (engine/cli).
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from engine.language.diagnostics import Diagnostic
from engine.market.snapshot import Snapshot

#: Problems kept (and shown) per file; the rest are only counted.
MAX_SHOWN = 50
#: The inputs of a symbol snapshot, as :func:`present` names them.
SYMBOL_INPUTS = (
    "price",
    "order_book",
    "funding_rate",
    "open_interest",
    "liquidations",
    "taker_volume",
    "exchange_netflow",
    "volatility_skew",
)


def present(sym: Any) -> list[str]:
    """The inputs a symbol snapshot carries."""
    out = [name for name in SYMBOL_INPUTS if name in sym.times]
    if sym.candles:
        out.append("candles_1m")
    return out


def _price_of(sym: Any) -> float:
    price = sym.get("price")
    if price is None and sym.candles:
        price = sym.candles[-1].close
    return float("nan") if price is None else price


@dataclass
class Summary:
    """Counts gathered while reading a snapshot file once."""

    snapshots: int = 0
    times: list[float] = field(default_factory=list)
    rows: Counter[str] = field(default_factory=Counter)  # symbol → snapshots present
    inputs: dict[str, Counter[str]] = field(default_factory=dict)  # symbol → input → snapshots
    readings: dict[str, dict[str, set[float | None]]] = field(default_factory=dict)  # symbol → input → distinct _ts
    fear_greed: int = 0
    fear_greed_readings: set[float | None] = field(default_factory=set)
    errors: int = 0
    warnings: int = 0
    problems: list[Diagnostic] = field(default_factory=list)  # the first MAX_SHOWN, in file order
    prices: dict[str, tuple[list[float], list[float]]] = field(default_factory=dict)  # symbol → (times, prices)
    # symbol → the set of inputs it carried together in a snapshot (with "fear_greed" when the
    # snapshot has it, "candles_1m@S" when symbol S has candles there) → snapshots: a signal
    # component's share needs all of its inputs at once (Summary.with_all)
    together: dict[str, Counter[frozenset[str]]] = field(default_factory=dict)

    @property
    def unshown(self) -> int:
        """Problems met but not kept in :attr:`problems`."""
        return self.errors + self.warnings - len(self.problems)

    def gaps(self) -> tuple[float, list[tuple[float, float, int]]]:
        """The most common step between snapshots and the runs of missing ones (:func:`gaps`)."""
        return gaps(self.times)

    def with_all(self, symbol: str, inputs: tuple[str, ...], leader: str | None = None) -> int:
        """Snapshots where ``symbol`` carries every one of ``inputs``: ``fear_greed`` is the
        snapshot's, ``leader_candles_1m`` the candles of ``leader`` (None: no leader, never)."""
        needed = set(inputs)
        if "leader_candles_1m" in needed:
            if leader is None:
                return 0
            needed = (needed - {"leader_candles_1m"}) | {f"candles_1m@{leader}"}
        return sum(n for carried, n in self.together.get(symbol, Counter()).items() if needed <= carried)

    def add(self, snapshot: Snapshot) -> None:
        self.snapshots += 1
        self.times.append(snapshot.ts)
        if snapshot.fear_greed is not None:
            self.fear_greed += 1
            self.fear_greed_readings.add(snapshot.fear_greed_ts)
        extra = [f"candles_1m@{name}" for name, sym in snapshot.symbols.items() if sym.candles]
        if snapshot.fear_greed is not None:
            extra.append("fear_greed")
        for name, sym in snapshot.symbols.items():
            self.rows[name] += 1
            counter = self.inputs.setdefault(name, Counter())
            readings = self.readings.setdefault(name, {})
            carried = present(sym)
            for input_name in carried:
                counter[input_name] += 1
                readings.setdefault(input_name, set()).add(sym.times.get(input_name))
            self.together.setdefault(name, Counter())[frozenset(carried + extra)] += 1
            self.prices.setdefault(name, ([], []))
            self.prices[name][0].append(snapshot.ts)
            self.prices[name][1].append(_price_of(sym))


def summarize(path: str | os.PathLike[str]) -> Summary:
    """Read a file once, keeping the first problems and counting all; never raises for bad input."""
    from adapters.snapshots.columnar import read_any

    summary = Summary()
    for snapshot, problems in read_any(path):
        for p in problems:
            summary.errors += p.is_error
            summary.warnings += not p.is_error
        summary.problems.extend(problems[: max(0, MAX_SHOWN - len(summary.problems))])
        if snapshot is not None:
            summary.add(snapshot)
    return summary


def file_format(path: Path) -> dict[str, Any] | None:
    """The facts of the file itself: ``{"format": "columnar", **columnar_info}`` from a
    Parquet footer, ``{"format": "jsonl" | "jsonl.gz", "bytes": n}``, or None for a name that
    is not a snapshot file's (the reader said so, RB710) or an unreadable footer."""
    name = path.name
    if name.endswith(".parquet"):
        from adapters.snapshots.columnar import columnar_info

        try:
            return {"format": "columnar", **columnar_info(path)}
        except Exception:
            return None
    if not name.endswith((".jsonl", ".jsonl.gz")):
        return None
    return {
        "format": "jsonl.gz" if name.endswith(".gz") else "jsonl",
        "bytes": path.stat().st_size if path.is_file() else 0,
    }


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
