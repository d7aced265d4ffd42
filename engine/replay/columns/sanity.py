"""The sanity layer's column form, for the dry-run fast path: does the scalar screen
(engine/market/sanity.py) refuse nothing anywhere in a recording?

When it refuses nothing, every reading is accepted, so each symbol's reference is always its
previous snapshot's reading and the screen's verdicts reduce to comparisons between
neighbouring rows — a handful of array operations. Then the fast path may skip the screen
(it would hand every snapshot through unchanged and never change the trading state). When
anything could be refused the fast path is refused (NotReplayable) and the scalar path
screens the run, so the fast path never has to reproduce a refusal.

Values within a hair of a bound (``MARGIN``) also send the run to the scalar path: numpy's
and the math module's logarithms may differ in the last bit, and the column form must never
call clean what the scalar screen would refuse. tests/dryrun/test_sanity_columns.py checks
the two against each other on injected values.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.market.sanity import CAPPED, MINUTE, QUOTES, Screened
from engine.replay.recording import NotReplayable, Recording, SymbolRecording

MARGIN = 1e-9  # relative: a value this close to a bound is left to the scalar screen


def check_sane(recording: Recording, bounds: Any) -> None:
    """NotReplayable (naming the first value found) unless the scalar screen would refuse nothing."""
    ts = recording.ts
    for name, sym in recording.symbols.items():
        problem = _first_problem(sym, ts, bounds)
        if problem is not None:
            row, what = problem
            raise NotReplayable(
                f"{name}: {what} at ts {ts[row]:.0f} may be refused by the sanity layer; the scalar path screens it"
            )


def _allowed(bounds: Any, elapsed: np.ndarray) -> np.ndarray:
    return np.log1p(bounds.price_move_pct / 100) * np.sqrt(np.maximum(elapsed, MINUTE) / MINUTE) * (1 - MARGIN)


def _first_problem(sym: SymbolRecording, ts: np.ndarray, bounds: Any) -> tuple[int, str] | None:
    price = sym.values.get("price")
    candles = sym.candles
    reading = candles.close if price is None else np.where(np.isnan(price), candles.close, price)
    bad: list[tuple[np.ndarray, str]] = []
    move = np.zeros(len(ts), dtype=bool)
    move[1:] = np.abs(np.log(reading[1:] / reading[:-1])) > _allowed(bounds, np.diff(ts))
    bad.append((move, "a price move"))
    candle_allowed = _allowed(bounds, np.abs(candles.ts + MINUTE - ts))
    for field in ("open", "high", "low", "close"):
        bad.append((np.abs(np.log(getattr(candles, field) / reading)) > candle_allowed, f"the candle's {field}"))
    bad.append((candles.volume * candles.close > bounds.max_flow_usd * (1 - MARGIN), "the candle's volume"))
    band = np.log1p(bounds.quote_band_pct / 100) * (1 - MARGIN)
    for field in QUOTES:
        column = sym.values.get(field)
        if column is not None:
            bad.append((np.abs(np.log(column / reading)) > band, field))  # NaN compares False: absent passes
    for field, bound_name in CAPPED.items():
        column = sym.values.get(field)
        if column is not None:
            bad.append((np.abs(column) > getattr(bounds, bound_name) * (1 - MARGIN), field))
    found = [(int(np.argmax(rows)), what) for rows, what in bad if rows.any()]
    return min(found) if found else None


class ProvenClean:
    """The runner's screen on a recording :func:`check_sane` passed: every snapshot goes
    through unchanged and the state stays ACTIVE, as the scalar screen would have it."""

    alarm = ""

    def screen(self, snapshot: Any) -> Screened:
        return Screened(snapshot)
